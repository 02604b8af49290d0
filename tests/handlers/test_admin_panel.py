"""The admins' panel in a private chat, through the production dispatcher and the fake Bot
API: uploads with a dry run first, versions and rollback, replacing the KB, the demo sample,
rules, lexicon, holidays, agencies, admins, today's figures, reports and exports."""

from __future__ import annotations

import io
import json

from openpyxl import load_workbook
from sqlalchemy import select

from storage.models import Agency, HolidayOverride, LexiconEntry, Procedure, RoutingRule
from storage.repositories import ProcedureRepo
from tests.harness import ADMIN, CITIZEN, Harness, file_case

AGENCIES = (
    "Mã cơ quan,Tên cơ quan,Số ngày trả lời\n"
    "STP-X,Sở Tư pháp tỉnh X,15\n"
    "SNN-X,Sở Nông nghiệp và Môi trường tỉnh X,\n"
)
PROCEDURES = (
    "Mã thủ tục,Tên thủ tục,Cơ quan thực hiện,Từ khóa,Ghi chú\n"
    "9.000010,Cấp phép nuôi chim yến,SNN-X,nhà yến,x\n"
    "9.000011,Đăng ký khai sinh lưu động,STP-X,khai sinh tại nhà,y\n"
)


def upload(h: Harness, file_id: str, name: str, text: str) -> None:
    h.server.add_file(file_id, text.encode("utf-8"), file_path=f"documents/{name}")


async def send_file(h: Harness, file_id: str, name: str, text: str, user: int = ADMIN) -> str:
    upload(h, file_id, name, text)
    await h.say(user=user, document_file_id=file_id, document_name=name)
    return h.last_text(user)


async def counts(h: Harness) -> tuple[int, int]:
    async with h.app.sessions() as session:
        procedures = len((await session.scalars(select(Procedure.code))).all())
        agencies = len((await session.scalars(select(Agency.code))).all())
    return procedures, agencies


async def first_real_kb(h: Harness) -> None:
    """Agencies, then procedures: each a dry run, then Áp dụng."""
    await send_file(h, "ag", "co_quan.csv", AGENCIES)
    await h.press("Áp dụng", user=ADMIN)
    await send_file(h, "kb", "thu_tuc.csv", PROCEDURES)
    await h.press("Áp dụng", user=ADMIN)


async def test_upload_is_a_dry_run_until_applied(harness: Harness) -> None:
    h = harness
    before = await counts(h)
    report = await send_file(h, "ag", "co_quan.csv", AGENCIES)
    assert "Kiểm tra thử" in report and "Thêm mới: 2" in report
    # The demo is named and goes away as a whole with the first real import.
    assert "Dữ liệu mẫu (53 thủ tục, 18 cơ quan) sẽ bị xóa hẳn" in report
    assert await counts(h) == before == (53, 18)
    await h.press("Hủy", user=ADMIN)
    assert "Đã hủy" in h.last_text(ADMIN) and await counts(h) == before

    await send_file(h, "ag", "co_quan.csv", AGENCIES)
    await h.press("Áp dụng", user=ADMIN)
    applied = h.last_text(ADMIN)
    assert "Đã nhập xong. Phiên bản v1." in applied
    assert "Đã xóa hẳn dữ liệu mẫu (53 thủ tục, 18 cơ quan)" in applied
    assert await counts(h) == (0, 2)
    # The kind was read from the headers: no caption needed.
    report = await send_file(h, "kb", "thu_tuc.csv", PROCEDURES)
    assert "Cột «Ghi chú» không được hỗ trợ; đã bỏ qua." in report
    await h.press("Áp dụng", user=ADMIN)
    assert "Phiên bản v2" in h.last_text(ADMIN)
    await h.say("xin phép nuôi yến")
    assert "Cấp phép nuôi chim yến" in h.last_text(CITIZEN)
    await h.say("làm sổ đỏ")  # a sample procedure: gone for good
    assert "Cấp giấy chứng nhận quyền sử dụng đất" not in h.last_text(CITIZEN)


async def test_problems_are_listed_and_nothing_can_be_applied(harness: Harness) -> None:
    h = harness
    report = await send_file(
        h, "bad", "bad.csv", "Mã thủ tục,Tên thủ tục,Cơ quan thực hiện\n,Thiếu mã,STP\n"
    )
    assert "Không nhập" in report and "Dòng 2" in report
    message, _ = h.find_button(ADMIN, "Hủy")
    labels = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["✖️ Hủy"]


async def test_an_english_admin_reads_the_report_in_english(harness: Harness) -> None:
    h = harness
    await h.say("/lang", user=ADMIN)
    await h.press("English", user=ADMIN)
    report = await send_file(h, "kb", "thu_tuc.csv", PROCEDURES)
    assert "Unknown column “Ghi chú” was ignored." in report
    assert "Not imported: 2 error(s)" in report and "Row 2" in report
    assert "không" not in report.lower() and "Dòng" not in report
    # The procedures name agencies of a directory not imported yet (the sample is not theirs).
    assert "SNN-X" in report


async def test_replace_retires_after_a_confirmation_naming_how_many(harness: Harness) -> None:
    h = harness
    await first_real_kb(h)
    code = await file_case(h, procedure_query="nuôi chim yến")
    smaller = (
        "Mã thủ tục,Tên thủ tục,Cơ quan thực hiện\n9.000011,Đăng ký khai sinh lưu động,STP-X\n"
    )
    report = await send_file(h, "kb2", "moi.csv", smaller)
    assert "Có trong hệ thống nhưng không có trong tệp: 1" in report
    await h.press("Thay thế toàn bộ (ngừng 1 thủ tục)", user=ADMIN)
    ask = h.last_text(ADMIN)
    assert "ngừng trả lời 1 thủ tục" in ask and "9.000010" in ask
    async with h.app.sessions() as session:
        assert (await session.get(Procedure, "9.000010")).retired_at is None  # type: ignore[union-attr]
    await h.press("Xác nhận ngừng 1 thủ tục", user=ADMIN)
    assert "Đã ngừng trả lời 1 thủ tục" in h.last_text(ADMIN)
    async with h.app.sessions() as session:
        row = await session.get(Procedure, "9.000010")
    assert row is not None and row.retired_at is not None  # kept for the old case
    await h.say("xin phép nuôi yến")
    assert "Cấp phép nuôi chim yến" not in h.last_text(CITIZEN)
    async with h.app.sessions() as session:
        case = await h.app.cases.by_code(session, code)
        assert case is not None and case.procedure_code == "9.000010"
        kept = await ProcedureRepo(session).get("9.000010")  # what the case card shows
    assert kept is not None and kept.name == "Cấp phép nuôi chim yến"

    # Versions, and a rollback that answers with the retired procedure again.
    await h.say("/kb versions", user=ADMIN)
    listing = h.last_text(ADMIN)
    assert "v3" in listing and "thay thế toàn bộ" in listing and "v1" in listing
    await h.press("Về v2", user=ADMIN)
    await h.press("Xác nhận quay về v2", user=ADMIN)
    # 9.000010 comes back, and 9.000011 gets back the keywords the smaller file lacked.
    assert "Đã quay về v2 (thành phiên bản v4): khôi phục 2 thủ tục, ngừng 0" in h.last_text(ADMIN)
    await h.say("xin phép nuôi yến")
    assert "Cấp phép nuôi chim yến" in h.last_text(CITIZEN)


async def test_kb_export_uses_the_columns_of_the_import(harness: Harness) -> None:
    h = harness
    await first_real_kb(h)
    await h.say("/kb export", user=ADMIN)
    (call,) = [c for c in h.server.calls_to("sendDocument") if c.params["chat_id"] == ADMIN]
    (upload_,) = call.files.values()
    workbook = load_workbook(io.BytesIO(upload_.data))
    sheet = workbook.worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Mã thủ tục", "Tên thủ tục", "Cơ quan thực hiện", "Từ khóa"]
    assert rows[1:] == [
        ["9.000010", "Cấp phép nuôi chim yến", "SNN-X", "nhà yến"],
        ["9.000011", "Đăng ký khai sinh lưu động", "STP-X", "khai sinh tại nhà"],
    ]
    assert sheet.freeze_panes == "A2"


async def test_rules_lexicon_holidays_with_buttons(harness: Harness) -> None:
    h = harness
    await h.say("/rules add giấy phép xây dựng", user=ADMIN)
    await h.press("Sở Xây dựng", user=ADMIN)
    assert "Đã thêm quy tắc #1: «giấy phép xây dựng» → Sở Xây dựng." in h.last_text(ADMIN)
    await h.say("/rules", user=ADMIN)
    assert "#1 từ khóa «giấy phép xây dựng» → Sở Xây dựng" in h.last_text(ADMIN)
    await h.press("#1", user=ADMIN)
    async with h.app.sessions() as session:
        assert (await session.scalars(select(RoutingRule))).all() == []

    await h.say("/lexicon add lên thổ cư = chuyển mục đích sử dụng đất", user=ADMIN)
    await h.say("/lexicon", user=ADMIN)
    assert "«lên thổ cư» → chuyển mục đích sử dụng đất" in h.last_text(ADMIN)
    await h.press("lên thổ cư", user=ADMIN)
    async with h.app.sessions() as session:
        assert (await session.scalars(select(LexiconEntry))).all() == []

    await h.say("/holidays off 31/12/2026 Nghỉ bù", user=ADMIN)
    assert "Đã đặt 31/12/2026 là ngày nghỉ." in h.last_text(ADMIN)
    await h.say("/holidays work 09/01/2027 Làm bù", user=ADMIN)
    await h.say("/holidays 2026", user=ADMIN)
    listing = h.last_text(ADMIN)
    assert "• 31/12 Nghỉ bù ✏️" in listing and "• 01/01" in listing
    await h.say("/holidays 2027", user=ADMIN)
    assert "Ngày làm bù" in h.last_text(ADMIN) and "09/01 Làm bù ✏️" in h.last_text(ADMIN)
    await h.press("09/01", user=ADMIN)
    async with h.app.sessions() as session:
        days = [o.day.isoformat() for o in (await session.scalars(select(HolidayOverride))).all()]
    assert days == ["2026-12-31"]


async def test_agencies_stats_and_admins(harness: Harness) -> None:
    h = harness
    await h.say("/bind STP", user=ADMIN, chat=-1009)
    await file_case(h)
    await h.say("/agencies", user=ADMIN)
    listing = h.last_text(ADMIN)
    assert "• Sở Tư pháp (STP) · nhóm -1009 · trả lời trong 10 ngày (mặc định)" in listing
    assert "Trung tâm Phục vụ hành chính công tỉnh (TTPVHCC) · chưa gắn nhóm" in listing
    assert "đang xử lý 1, quá hạn 0" in listing
    await h.say("/stats", user=ADMIN)
    stats = h.last_text(ADMIN)
    assert "Hôm nay (23/11/2026)" in stats and "Tiếp nhận mới: 1" in stats

    helper = 4242
    await h.say("/stats", user=helper)
    assert h.last_text(helper) == "Chỉ quản trị viên mới dùng được lệnh này."
    await h.say(f"/admins add {helper} Chị Hoa", user=ADMIN)
    assert f"Đã thêm quản trị viên Chị Hoa ({helper})." in h.last_text(ADMIN)
    await h.say("/stats", user=helper)
    assert "Hôm nay" in h.last_text(helper)
    await h.say("/bind SXD", user=helper, chat=-1010)  # a stored admin binds groups too
    assert "Sở Xây dựng" in h.last_text(-1010)
    await h.say("/admins", user=helper)
    assert f"{ADMIN} (cấu hình máy chủ)" in h.last_text(helper)
    await h.press("Chị Hoa", user=helper)
    await h.say("/stats", user=helper)
    assert h.last_text(helper) == "Chỉ quản trị viên mới dùng được lệnh này."


async def test_baocao_buttons_and_case_export(harness: Harness) -> None:
    h = harness
    code = await file_case(h)
    await h.say("/baocao", user=ADMIN)
    h.clock.set(h.clock.now().replace(day=30))  # Monday 30/11: week 48 is complete
    await h.press("Tuần", user=ADMIN)
    document = [c for c in h.server.calls_to("sendDocument") if c.params["chat_id"] == ADMIN][-1]
    (upload_,) = document.files.values()
    assert upload_.filename == "bao-cao-tuan-2026-W48.xlsx"
    sheet = load_workbook(io.BytesIO(upload_.data)).active
    assert sheet["C2"].value == "Trung tâm Phục vụ hành chính công tỉnh" and sheet["D2"].value == 1
    assert document.result["caption"] == "Số liệu từ 23/11/2026 đến 29/11/2026"

    await h.say("/export cases 01/11/2026 30/11/2026 csv", user=ADMIN)
    document = [c for c in h.server.calls_to("sendDocument") if c.params["chat_id"] == ADMIN][-1]
    (upload_,) = document.files.values()
    assert upload_.filename == "ho-so-20261101-20261130.csv"
    text = upload_.data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Mã hồ sơ,Loại,Ngày tiếp nhận,Cơ quan")
    assert f"{code},Phản ánh,23/11/2026" in text
    await h.say("/export cases 30/11/2026", user=ADMIN)
    assert "Cách dùng: /export cases" in h.last_text(ADMIN)


async def test_a_citizen_file_is_not_an_import(harness: Harness) -> None:
    upload(harness, "x", "x.csv", "code,name\n1,2\n")
    await harness.say(document_file_id="x", document_name="x.csv")
    assert "gõ câu hỏi" in harness.last_text(CITIZEN)
    assert json.dumps(harness.server.calls_to("getFile") and "x") != "" and not [
        c for c in harness.server.calls_to("getFile") if c.params.get("file_id") == "x"
    ]


async def test_an_added_admin_gets_the_reports_and_alerts(harness: Harness) -> None:
    from datetime import timedelta

    from bot.domain.reminders import run_tick

    h = harness
    helper = 4343
    await h.say(f"/admins add {helper} Anh Nam", user=ADMIN)
    await file_case(h)  # TTPVHCC has no group: the admins are told, the added one too
    assert any("chưa gắn nhóm Telegram" in text for text in h.texts(helper))
    h.clock.set(h.clock.now() + timedelta(days=7, hours=-1))  # Monday 30/11, 08:00
    assert (await run_tick(h.app))["weekly"] == 1
    await h.sender.deliver_all()
    photos = [c for c in h.server.calls_to("sendPhoto") if c.params["chat_id"] == helper]
    assert len(photos) == 1 and photos[0].files
    assert any("Tổng hợp phản ánh, kiến nghị tuần 48" in text for text in h.texts(helper))
