"""Filing PAKN cases through the fake Bot API server."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bot.domain.statuses import Status
from storage.models import Agency, Case, OutboxMessage
from tests.fake_telegram import FakeTelegram
from tests.harness import ADMIN, CITIZEN, GROUP_A, Harness, file_case, sqlite_url


async def _cases(h: Harness) -> list[Case]:
    async with h.app.sessions() as session:
        # Tests read a case's whole history on purpose (the app never does: lazy="raise").
        query = select(Case).options(selectinload("*")).order_by(Case.id)
        return list((await session.scalars(query)).all())


async def _bind(h: Harness, agency: str, chat_id: int) -> None:
    async with h.app.sessions.begin() as session:
        row = await session.get(Agency, agency)
        assert row is not None
        row.chat_id = chat_id


async def test_file_from_menu_gets_code_agency_and_due_date(harness: Harness) -> None:
    await _bind(harness, "TTPVHCC", GROUP_A)
    await harness.say("/start")
    await harness.press("Gửi phản ánh, kiến nghị")
    await harness.press("Kiến nghị")
    await harness.say("Đề nghị cho phép nộp hồ sơ khai sinh trực tuyến vào cuối tuần.")
    await harness.press("Bỏ qua")  # no attachments
    await harness.press("Bỏ qua")  # no procedure
    await harness.say("Trần Văn Bình")
    await harness.say("+84 912 345 678, binh@example.vn")
    await harness.say("34 Nguyễn Huệ, phường Lâm Viên - Đà Lạt")
    summary = harness.last_text(CITIZEN)
    assert "Trần Văn Bình" in summary and "0912345678" in summary and "binh@example.vn" in summary
    await harness.press("Gửi phản ánh")
    [case] = await _cases(harness)
    assert case.code.startswith("KN-") and case.kind == "kien_nghi"
    assert case.agency == "TTPVHCC" and case.routing_rule == "default"
    assert case.status == Status.RECEIVED
    # Received Monday 23/11/2026; 24/11 is a holiday but calendar days count: 10 days → 3/12.
    assert case.due_at.isoformat() == "2026-12-03T16:59:59+00:00"
    ack = harness.last_text(CITIZEN)
    assert case.code in ack and "03/12/2026" in ack and "Trung tâm Phục vụ hành chính công" in ack
    card = harness.messages(GROUP_A)[-1]["text"]
    assert case.code in card and "Trần Văn Bình" in card


async def test_file_from_procedure_card_prefills_procedure_and_agency(harness: Harness) -> None:
    await harness.say("đăng ký kết hôn")
    await harness.press("Phản ánh về thủ tục này")
    await harness.press("Phản ánh")
    await harness.say("Cán bộ yêu cầu nộp giấy xác nhận cư trú dù không có trong quy định.")
    await harness.press("Bỏ qua")
    # The procedure step is skipped: it came with the card.
    assert "họ và tên" in harness.last_text(CITIZEN)
    await harness.say("Lê Thị Hoa")
    await harness.say("0283 8123 456")  # a landline: 02 + 9 digits
    await harness.say("5 Trần Phú, xã Lạc Dương")
    # Marriage registration is done at the commune: the bot says which one and asks.
    assert "Xã Lạc Dương" in harness.last_text(CITIZEN)
    await harness.press("Đúng")
    assert "Đăng ký kết hôn" in harness.last_text(CITIZEN)
    await harness.press("Gửi phản ánh")
    [case] = await _cases(harness)
    assert case.procedure_code is not None
    assert case.agency == "UBND-24848" and case.unit_code == "24848"
    assert case.routing_rule.startswith(
        f"procedure:{case.procedure_code} commune_committee commune=24848"
    )
    assert case.citizen_phone == "02838123456"


async def test_file_from_failed_search_prefills_the_question(harness: Harness) -> None:
    # (not "Tại sao phường không có chỗ gửi xe cho người đi làm thủ tục?": since the second
    # batch of example phrases it is read as a complaint about handling and gets the feedback
    # channel's own button, not a failed search)
    question = "Phường có tổ chức lớp học bơi miễn phí cho trẻ em vào hè không?"
    await harness.say(question)
    await harness.press("Gửi câu hỏi này như kiến nghị")
    # Kind and content are pre-filled: the next step is attachments.
    assert "tối đa 5 ảnh" in harness.last_text(CITIZEN)
    await harness.press("Bỏ qua")
    await harness.press("Bỏ qua")
    await harness.say("Phạm Minh")
    await harness.say("minh@example.com")
    await harness.say("8 Hai Bà Trưng, phường Xuân Hương, Đà Lạt")
    await harness.press("Gửi phản ánh")
    [case] = await _cases(harness)
    assert case.content == question and case.kind == "kien_nghi" and case.citizen_phone is None


async def test_invalid_phone_is_explained_and_retried(harness: Harness) -> None:
    await harness.say("/phananh")
    await harness.press("Phản ánh")
    await harness.say("Hồ sơ đăng ký thường trú của tôi bị trả chậm hai tuần không lý do.")
    await harness.press("Bỏ qua")
    await harness.press("Bỏ qua")
    await harness.say("Võ Văn Tám")
    await harness.say("12345")
    assert "không phải số điện thoại Việt Nam hợp lệ" in harness.last_text(CITIZEN)
    await harness.say("ten@@mail")
    assert "không phải địa chỉ email hợp lệ" in harness.last_text(CITIZEN)
    await harness.say(contact="+84987654321")  # Telegram's share-contact button
    assert "địa chỉ" in harness.last_text(CITIZEN)


async def test_complaint_is_explained_and_may_continue(harness: Harness) -> None:
    await harness.say("/phananh")
    await harness.press("Phản ánh")
    await harness.say("Tôi muốn tố cáo cán bộ địa chính nhận tiền của dân để làm nhanh sổ đỏ.")
    assert "khiếu nại hoặc tố cáo" in harness.last_text(CITIZEN)
    await harness.press("Hủy")
    assert await _cases(harness) == []
    assert "Đã hủy" in "\n".join(harness.texts(CITIZEN)[-2:])


async def test_cancel_at_any_step_keeps_nothing(harness: Harness) -> None:
    await harness.say("/phananh")
    await harness.press("Phản ánh")
    await harness.say("Bộ phận một cửa đóng cửa sớm trước giờ hành chính nhiều ngày liền.")
    await harness.say("/cancel")
    assert "Đã hủy" in harness.texts(CITIZEN)[-2]
    await harness.say("đăng ký tạm trú")  # back to questions
    assert harness.last_text(CITIZEN).startswith("📄 ")


async def test_draft_survives_a_restart(server: FakeTelegram, tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    first = await Harness.start(server, url)
    await first.say("/phananh")
    await first.press("Phản ánh")
    await first.say("Cán bộ tiếp dân thái độ không đúng mực khi tôi nộp hồ sơ đất đai.")
    await first.close()
    second = await Harness.start(server, url)  # a new process: same database, new dispatcher
    try:
        await second.press("Bỏ qua")
        await second.press("Bỏ qua")
        await second.say("Đỗ Văn Hải")
        await second.say("0901234567")
        await second.say("1 Lý Thường Kiệt, phường 1, TP Bảo Lộc")
        await second.press("Gửi phản ánh")
        [case] = await _cases(second)
        assert case.content.startswith("Cán bộ tiếp dân")
    finally:
        await second.close()


async def test_duplicate_submit_update_creates_one_case(harness: Harness) -> None:
    await harness.say("/phananh")
    await harness.press("Phản ánh")
    await harness.say("Thời gian chờ tại bộ phận một cửa quá lâu, hơn ba giờ mới đến lượt.")
    await harness.press("Bỏ qua")
    await harness.press("Bỏ qua")
    await harness.say("Ngô Thị Mai")
    await harness.say("0977000111")
    await harness.say("2 Phan Chu Trinh, phường Phan Thiết")
    submit = await harness.press("Gửi phản ánh")
    await harness.feed(submit)  # Telegram re-delivers the same update
    message, data = harness.find_button(CITIZEN, "")  # whatever is left, pressed again
    assert len(await _cases(harness)) == 1
    acks = [t for t in harness.texts(CITIZEN) if "Đã tiếp nhận phản ánh" in t]
    assert len(acks) == 1


async def test_same_content_twice_is_refused_with_the_first_code(harness: Harness) -> None:
    code = await file_case(harness)
    await harness.say("/phananh")
    await harness.press("Phản ánh")
    await harness.say(
        "Bộ phận một cửa yêu cầu nộp thêm bản sao giấy tờ không có trong quy định "
        "khi tôi làm khai sinh cho con."
    )
    await harness.press("Bỏ qua")
    await harness.press("Bỏ qua")
    await harness.press("Dùng thông tin này")  # the remembered profile is offered
    await harness.press("Gửi phản ánh")
    assert len(await _cases(harness)) == 1
    assert code in harness.alerts()[-1]


async def test_daily_limit(server: FakeTelegram, tmp_path: Path) -> None:
    h = await Harness.start(server, sqlite_url(tmp_path), daily_limit=2)
    try:
        await file_case(h, "Nội dung phản ánh thứ nhất về việc trả kết quả chậm.")
        await file_case(h, "Nội dung phản ánh thứ hai về thái độ tiếp dân chưa tốt.")
        await h.say("/phananh")
        assert "tối đa mỗi ngày" in h.last_text(CITIZEN)
        assert len(await _cases(h)) == 2
    finally:
        await h.close()


async def test_attachments_are_kept_and_posted_with_the_card(harness: Harness) -> None:
    await _bind(harness, "TTPVHCC", GROUP_A)
    code = await file_case(harness, attachments=["photo-1", "photo-2"])
    [case] = await _cases(harness)
    assert case.code == code and [a.file_id for a in case.attachments] == ["photo-1", "photo-2"]
    photos = [c for c in harness.server.calls_to("sendPhoto") if c.params["chat_id"] == GROUP_A]
    assert len(photos) == 2


async def test_agency_without_group_alerts_admins(harness: Harness) -> None:
    code = await file_case(harness)
    alert = harness.last_text(ADMIN)
    assert code in alert and "chưa gắn nhóm Telegram" in alert


async def test_status_only_for_the_filer(harness: Harness) -> None:
    code = await file_case(harness)
    await harness.say(f"/status {code.lower()}")
    assert "Đã tiếp nhận" in harness.last_text(CITIZEN) and "Lịch sử xử lý" in harness.last_text(
        CITIZEN
    )
    await harness.say(f"/status {code}", user=5002)
    assert "Không tìm thấy hồ sơ" in harness.last_text(5002)
    await harness.say(f"/status {code}", user=ADMIN)
    assert code in harness.last_text(ADMIN)
    await harness.say("/mycases")
    assert code in harness.last_text(CITIZEN)


async def test_forget_deletes_remembered_data(harness: Harness) -> None:
    await file_case(harness)
    await harness.say("/forget")
    assert "Đã xóa" in harness.last_text(CITIZEN)
    await harness.say("/phananh")
    await harness.press("Phản ánh")
    await harness.say("Một nội dung phản ánh hoàn toàn khác về lệ phí thu sai quy định.")
    await harness.press("Bỏ qua")
    await harness.press("Bỏ qua")
    assert "họ và tên" in harness.last_text(CITIZEN)  # nothing offered for reuse


async def test_acknowledgements_survive_telegram_errors(harness: Harness) -> None:
    """429 with retry_after, then 500s: the acknowledgement still arrives, exactly once."""
    harness.server.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 1",
        retry_after=1,
        chat_id=CITIZEN,
    )
    code = await file_case(harness)
    harness.server.fail_next(
        "sendMessage", error_code=500, description="Internal Server Error", times=2, chat_id=CITIZEN
    )
    import asyncio

    for _ in range(40):
        await harness.sender.deliver_all()
        if any(code in t and "Đã tiếp nhận" in t for t in harness.texts(CITIZEN)):
            break
        await asyncio.sleep(0.25)
    acks = [t for t in harness.texts(CITIZEN) if code in t and "Đã tiếp nhận" in t]
    assert len(acks) == 1
    async with harness.app.sessions() as session:
        pending = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent")
        )
    assert pending == 0


async def test_blocked_citizen_is_recorded_and_reported(harness: Harness) -> None:
    """A 403 on the acknowledgement is final: recorded on the case, admins told."""
    code = await file_case(harness, deliver=False)
    harness.server.fail_next(
        "sendMessage",
        error_code=403,
        times=None,
        chat_id=CITIZEN,
        description="Forbidden: bot was blocked by the user",
    )
    await harness.sender.deliver_all()
    async with harness.app.sessions() as session:
        case = await session.scalar(
            select(Case).options(selectinload(Case.events)).where(Case.code == code)
        )
        assert case is not None
        failed = [e for e in case.events if e.action == "delivery_failed"]
        assert failed and failed[0].details["purpose"] == "ack"
        statuses = (
            await session.scalars(
                select(OutboxMessage.status).where(OutboxMessage.chat_id == CITIZEN)
            )
        ).all()
    assert "failed" in statuses and "pending" not in statuses
    assert any("bot was blocked" in t for t in harness.texts(ADMIN))


async def test_summary_fields_can_be_corrected_one_by_one(harness: Harness) -> None:
    await harness.say("/phananh")
    await harness.press("Phản ánh")
    await harness.say("Phí chứng thực bị thu cao hơn mức quy định tại bộ phận một cửa.")
    await harness.press("Bỏ qua")
    await harness.press("Bỏ qua")
    await harness.say("Trần Văn A")
    await harness.say("0912345678")
    await harness.say("1 Lê Lai, phường Xuân Hương - Đà Lạt")
    await harness.press("✏️ Liên hệ")
    assert "số điện thoại" in harness.last_text(CITIZEN)
    await harness.say("a@example.vn")
    await harness.press("✏️ Họ tên")
    await harness.say("Trần Văn Bảo")
    await harness.press("✏️ Thủ tục")
    await harness.say("chứng thực bản sao")
    message, data = harness.find_button(CITIZEN, "Chứng thực")
    await harness.press_data(data, message["message_id"])
    # Certification is done at the commune: the address's commune is confirmed first.
    assert "Phường Xuân Hương - Đà Lạt" in harness.last_text(CITIZEN)
    await harness.press("Đúng")
    summary = harness.last_text(CITIZEN)
    assert "Trần Văn Bảo" in summary and "a@example.vn" in summary and "0912345678" not in summary
    assert "Chứng thực" in summary and "Phường Xuân Hương - Đà Lạt" in summary
    await harness.press("Lưu thông tin")  # toggled off: nothing remembered
    await harness.press("Gửi phản ánh")
    [case] = await _cases(harness)
    assert case.citizen_name == "Trần Văn Bảo" and case.citizen_email == "a@example.vn"
    assert case.procedure_code is not None and case.routing_rule.startswith("procedure:")
    assert case.agency == "UBND-24781"
    await harness.say("/forget")
    assert "không lưu thông tin" in harness.last_text(CITIZEN)
