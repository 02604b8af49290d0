"""One known week of cases, and every figure the reports show about it, checked exactly: the
weekly chart photos (through the outbox and the fake Bot API's multipart upload), their
captions, the text summary, and the XLSX / CSV exports.

Week 48 of 2026 runs from Monday 23/11 to Sunday 29/11 (Hà Nội time); the report goes out on
Monday 30/11 at 08:00. Cases (all routed to TTPVHCC, the default agency, unless moved):

* A  filed Tue 10/11, due Fri 20/11, answered Tue 24/11: a late answer (4 days late)
* F  filed Mon 09/11, due Thu 19/11, never answered: open and overdue
* E  filed Mon 16/11, due Thu 26/11, extended on 24/11 to Wed 02/12: open, not overdue
* B  filed Mon 23/11, answered Wed 25/11 (on time), rated good
* C  filed Mon 23/11, rejected Tue 24/11
* D  filed Mon 23/11, transferred Tue 24/11 to STP (in time): STP's, open
* G  filed Tue 24/11, answered Thu 26/11 (on time), rated bad Fri 27/11
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.domain.cases import Actor, Draft
from bot.domain.reminders import run_tick
from bot.domain.reports import Figures, figures_by_agency, reply_medians, week_before
from bot.telegram.charts import chart_size, png_size
from bot.telegram.exports import Exporter
from storage.models import Case
from storage.repositories import AgencyRepo
from tests.fake_telegram import FakeTelegram
from tests.harness import ADMIN, Harness, sqlite_url

VN = ZoneInfo("Asia/Ho_Chi_Minh")
GROUP_TTPV = -100111
GROUP_STP = -100333
OFFICIAL = Actor("official", 7001, "Phạm Thu Hà")


def local(d: int, m: int = 11, hh: int = 9) -> datetime:
    return datetime(2026, m, d, hh, 0, tzinfo=VN)


@pytest.fixture
async def week(
    server: FakeTelegram, tmp_path: Path
) -> AsyncIterator[tuple[Harness, dict[str, Case]]]:
    h = await Harness.start(server, sqlite_url(tmp_path))
    try:
        yield h, await _story(h)
    finally:
        await h.close()


async def _story(h: Harness) -> dict[str, Case]:
    app, clock = h.app, h.clock
    citizens = iter(range(8100, 8200))

    async def submit(when: datetime, content: str) -> Case:
        clock.set(when)
        citizen = next(citizens)
        async with app.sessions.begin() as session:
            return await app.cases.submit(
                session,
                Draft(draft_id=f"w{citizen}", content=content, kind="phan_anh",
                      name="Đỗ Minh Châu", email="chau@example.vn", address="5 Trần Phú"),
                citizen=Actor("citizen", citizen), chat_id=citizen, locale="vi",
            )  # fmt: skip

    async def act(when: datetime, case: Case, verb: str, *args: Any) -> None:
        clock.set(when)
        async with app.sessions.begin() as session:
            fresh = await app.cases.by_id(session, case.id)
            assert fresh is not None
            if verb == "answer":
                await app.cases.answer(session, fresh, OFFICIAL, *args)
            elif verb == "reject":
                await app.cases.reject(session, fresh, args[0], OFFICIAL)
            elif verb == "transfer":
                await app.cases.transfer(session, fresh, args[0], args[1], OFFICIAL)
            elif verb == "extend":
                await app.cases.extend(session, fresh, args[0], args[1], OFFICIAL)
            else:
                await app.cases.rate(session, fresh, Actor("citizen", fresh.citizen_id), args[0])

    async with app.sessions.begin() as session:
        await AgencyRepo(session).bind_chat("TTPVHCC", GROUP_TTPV, clock.now())
        await AgencyRepo(session).bind_chat("STP", GROUP_STP, clock.now())
    c: dict[str, Case] = {}
    c["F"] = await submit(local(9), "Bộ phận một cửa không trả kết quả đúng hẹn cho hồ sơ đất.")
    c["A"] = await submit(local(10), '=HYPERLINK("http://x") cán bộ yêu cầu nộp thêm giấy tờ.')
    c["E"] = await submit(local(16), "Đề nghị bố trí thêm ghế chờ tại bộ phận một cửa.")
    c["B"] = await submit(local(23), "Cán bộ tiếp nhận yêu cầu nộp thêm giấy tờ không cần.")
    c["C"] = await submit(local(23), "Tôi muốn khiếu nại quyết định xử phạt hành chính.")
    c["D"] = await submit(local(23), "Phản ánh chậm chứng thực bản sao hợp đồng mua bán.")
    c["G"] = await submit(local(24), "Phản ánh thái độ của cán bộ tại quầy tiếp nhận.")
    assert {k: v.agency for k, v in c.items()} == dict.fromkeys(c, "TTPVHCC")
    assert (c["A"].due_at.date(), c["F"].due_at.date()) == (date(2026, 11, 20), date(2026, 11, 19))
    await act(local(24), c["A"], "answer", "Xin lỗi vì chậm trễ.")
    await act(local(24), c["C"], "reject", "outside")
    await act(local(24), c["D"], "transfer", "STP", "Thuộc lĩnh vực tư pháp")
    await act(local(24), c["E"], "extend", datetime(2026, 12, 2, tzinfo=VN), "Cần xác minh")
    await act(local(25), c["B"], "answer", "Đã chấn chỉnh.")
    await act(local(25, hh=10), c["B"], "rate", "good")
    await act(local(26), c["G"], "answer", "Đã nhắc nhở cán bộ.")
    await act(local(27), c["G"], "rate", "bad")
    return c


W48_TOTAL = Figures(received=4, answered=3, on_time=2, late=1, open=3, overdue_open=1,
                    rejected=1, transferred=1, transferred_late=0, good=1, bad=1)  # fmt: skip
W48_TTPV = Figures(received=3, answered=3, on_time=2, late=1, open=2, overdue_open=1,
                   rejected=1, transferred=1, good=1, bad=1)  # fmt: skip
W48_STP = Figures(received=1, open=1)
# At the end of week 47 (23/11 00:00): A, E and F open; A and F past due; E received.
W47_TTPV = Figures(received=1, open=3, overdue_open=2)


async def test_every_figure_of_the_known_week(week: tuple[Harness, dict[str, Case]]) -> None:
    h, _ = week
    w48 = week_before(date(2026, 11, 30), VN)
    w47 = week_before(date(2026, 11, 23), VN)
    async with h.app.sessions() as session:
        assert await figures_by_agency(session, w48.start, w48.end) == {
            "STP": W48_STP, "TTPVHCC": W48_TTPV}  # fmt: skip
        assert await figures_by_agency(session, w47.start, w47.end) == {"TTPVHCC": W47_TTPV}
        # A: 14 days (10/11 → 24/11), B: 2, G: 2 → median 2 days.
        assert await reply_medians(session, w48.start, w48.end) == {None: 2.0, "TTPVHCC": 2.0}
    assert sum((W48_STP, W48_TTPV), Figures()) == W48_TOTAL
    assert W48_TOTAL.satisfaction == 0.5 and W48_TOTAL.on_time_ratio == 2 / 3


async def test_weekly_chart_photos_and_captions(week: tuple[Harness, dict[str, Case]]) -> None:
    h, _ = week
    h.clock.set(local(30, hh=8))
    counts = await run_tick(h.app)
    assert counts["weekly"] == 1
    await h.sender.deliver_all()
    uploads = [c for c in h.server.calls_to("sendPhoto") if c.files]
    by_chat = {c.params["chat_id"]: c for c in uploads}
    assert set(by_chat) == {GROUP_TTPV, GROUP_STP, ADMIN}
    for call in by_chat.values():
        assert call.ok, call.response
        (upload,) = call.files.values()
        assert upload.filename.endswith(".png") and len(upload.data) > 10_000
        # Each group: last week and this week; the admins: one row per agency with figures
        # (STP and TTPVHCC): two rows either way.
        assert png_size(upload.data) == chart_size(2) == (1000, 450)
        photo = call.result["photo"][-1]
        assert (photo["width"], photo["height"]) == (1000, 450)

    assert by_chat[GROUP_TTPV].result["caption"] == (
        "📊 Tuần 48 (23/11/2026 – 29/11/2026)\n"
        "🏢 Trung tâm Phục vụ hành chính công tỉnh\n\n"
        "Tiếp nhận: 3 (▲2 so với tuần trước)\n"
        "Đã trả lời: 3 (đúng hạn 2, trễ hạn 1)\n"
        "Đang xử lý: 2, quá hạn: 1 (▼1)\n"
        "Thời gian trả lời (trung vị): 2 ngày\n"
        "Hài lòng: 50% (mục tiêu 90%)"
    )
    assert by_chat[GROUP_STP].result["caption"] == (
        "📊 Tuần 48 (23/11/2026 – 29/11/2026)\n"
        "🏢 Sở Tư pháp\n\n"
        "Tiếp nhận: 1 (▲1 so với tuần trước)\n"
        "Đã trả lời: 0 (đúng hạn 0, trễ hạn 0)\n"
        "Đang xử lý: 1, quá hạn: 0 (=)"
    )
    assert by_chat[ADMIN].result["caption"] == (
        "📊 Tuần 48 (23/11/2026 – 29/11/2026)\n"
        "🏢 Tất cả cơ quan\n\n"
        "Tiếp nhận: 4 (▲3 so với tuần trước)\n"
        "Đã trả lời: 3 (đúng hạn 2, trễ hạn 1)\n"
        "Đang xử lý: 3, quá hạn: 1 (▼1)\n"
        "Thời gian trả lời (trung vị): 2 ngày\n"
        "Hài lòng: 50% (mục tiêu 90%)"
    )
    admin_text = next(
        c.params["text"] for c in h.server.calls_to("sendMessage")
        if c.params["chat_id"] == ADMIN and "Tổng hợp phản ánh" in c.params["text"]
    )  # fmt: skip
    for line in (
        "Tiếp nhận mới: <b>4</b>",
        "Đã trả lời: <b>3</b> (đúng hạn 2, trễ hạn 1)",
        "Đang xử lý cuối kỳ: <b>3</b>, trong đó quá hạn: <b>1</b>",
        "Không thụ lý: 1",
        "Chuyển cơ quan có thẩm quyền: 1 (chuyển quá 5 ngày làm việc: 0)",
        "Mức độ hài lòng: <b>50%</b> (1/2 lượt đánh giá hài lòng)",
        "Thời gian trả lời (trung vị): 2 ngày",
        "So với tuần trước: tiếp nhận ▲3, đã trả lời ▲3, quá hạn ▼1",
        "Sở Tư pháp: 1 mới · 0 đã trả lời (0 trễ) · 1 đang xử lý (0 quá hạn)",
        "Trung tâm Phục vụ hành chính công tỉnh: 3 mới · 3 đã trả lời (1 trễ) · "
        "2 đang xử lý (1 quá hạn)",
    ):
        assert line in admin_text, line


async def test_weekly_and_late_exports_cell_by_cell(week: tuple[Harness, dict[str, Case]]) -> None:
    h, c = week
    exporter = Exporter(h.app.renderer, VN)
    w48 = week_before(date(2026, 11, 30), VN)
    async with h.app.sessions() as session:
        name, data = await exporter.report(session, w48, "xlsx", "vi")
    assert name == "bao-cao-tuan-2026-W48.xlsx"
    ws = load_workbook(io.BytesIO(data)).active
    assert ws.freeze_panes == "A2"
    rows = [[cell.value for cell in row] for row in ws.iter_rows()]
    assert rows == [
        ["STT", "Mã cơ quan", "Cơ quan", "Tiếp nhận", "Đã trả lời", "Trả lời đúng hạn",
         "Trả lời trễ hạn", "Đang xử lý cuối kỳ", "Trong đó quá hạn", "Chuyển cơ quan khác",
         "Chuyển quá 5 ngày làm việc", "Không thụ lý", "Lượt đánh giá", "Hài lòng",
         "Tỷ lệ hài lòng"],
        [1, "STP", "Sở Tư pháp", 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, None],
        [2, "TTPVHCC", "Trung tâm Phục vụ hành chính công tỉnh", 3, 3, 2, 1, 2, 1, 1, 0, 1,
         2, 1, 0.5],
        [None, None, "Tổng cộng", 4, 3, 2, 1, 3, 1, 1, 0, 1, 2, 1, 0.5],
    ]  # fmt: skip
    assert ws["O3"].number_format == "0.0%"
    assert ws.column_dimensions["C"].width >= len("Trung tâm Phục vụ hành chính công tỉnh")

    november = week_before(date(2026, 11, 30), VN)
    from bot.domain.reports import month_before

    async with h.app.sessions() as session:
        name, data = await exporter.report(
            session, month_before(date(2026, 12, 5), VN), "csv", "vi"
        )
    assert name == "cham-muon-2026-11.csv" and november.kind == "weekly"
    assert data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == ["STT", "Cơ quan", "Người xử lý", "Mã hồ sơ", "Loại", "Ngày tiếp nhận",
                        "Hạn trả lời", "Ngày trả lời", "Số ngày trễ", "Trạng thái"]  # fmt: skip
    assert table[1:] == [
        ["1", "Trung tâm Phục vụ hành chính công tỉnh", "Chưa phân công người xử lý",
         c["F"].code, "Phản ánh", "09/11/2026", "19/11/2026", "", "11", "Đã tiếp nhận"],
        ["2", "Trung tâm Phục vụ hành chính công tỉnh", "Phạm Thu Hà", c["A"].code,
         "Phản ánh", "10/11/2026", "20/11/2026", "24/11/2026", "4", "Đã trả lời"],
    ]  # fmt: skip


async def test_case_list_neutralises_formulas(week: tuple[Harness, dict[str, Case]]) -> None:
    h, c = week
    exporter = Exporter(h.app.renderer, VN)
    async with h.app.sessions() as session:
        name, data = await exporter.cases(session, date(2026, 11, 1), date(2026, 11, 30),
                                          "xlsx", "vi")  # fmt: skip
        _, text = await exporter.cases(session, date(2026, 11, 10), date(2026, 11, 10),
                                       "csv", "vi")  # fmt: skip
    assert name == "ho-so-20261101-20261130.xlsx"
    ws = load_workbook(io.BytesIO(data)).active
    codes = [row[0].value for row in ws.iter_rows(min_row=2)]
    assert codes == [c[k].code for k in ("F", "A", "E", "B", "C", "D", "G")]
    content = ws["F3"]
    # Stored as text with Excel's quote prefix: shown as written, never evaluated.
    assert content.value.startswith("=HYPERLINK") and content.data_type == "s"
    assert content.quotePrefix
    assert [ws.cell(3, col).value.date() for col in (3, 9, 11)] == [
        date(2026, 11, 10), date(2026, 11, 20), date(2026, 11, 24)]  # fmt: skip
    assert ws.cell(3, 3).number_format == "dd/mm/yyyy"
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert rows[1][5].startswith("'=HYPERLINK")
