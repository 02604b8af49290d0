"""Officials working cases from two agency groups, through the fake Bot API server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.domain.statuses import Status
from storage.models import Agency, Case
from tests.fake_telegram import make_message_update, make_my_chat_member_update
from tests.harness import (
    ADMIN,
    CITIZEN,
    GROUP_A,
    GROUP_B,
    OFFICIAL_A,
    OFFICIAL_B,
    Harness,
    file_case,
)

AGENCY_A = "TTPVHCC"  # the default agency: cases without a procedure land here
AGENCY_B = "STP"


async def _case(h: Harness, code: str) -> Case:
    async with h.app.sessions() as session:
        # Tests read a case's whole history on purpose (the app never does: lazy="raise").
        query = select(Case).options(selectinload("*")).where(Case.code == code)
        case = await session.scalar(query)
        assert case is not None
        return case


@pytest.fixture
async def bound(harness: Harness) -> Harness:
    for agency, group in ((AGENCY_A, GROUP_A), (AGENCY_B, GROUP_B)):
        await harness.say(f"/bind {agency}", user=ADMIN, chat=group)
        assert "đã được gắn" in harness.last_text(group)
    return harness


def _card_id(h: Harness, group: int, code: str) -> int:
    for message in reversed(h.messages(group)):
        if code in (message.get("text") or "") and message.get("reply_markup"):
            return int(message["message_id"])
    raise AssertionError(f"no card for {code} in {group}")


async def test_only_admins_bind(harness: Harness) -> None:
    await harness.say(f"/bind {AGENCY_A}", user=OFFICIAL_A, chat=GROUP_A)
    assert "Chỉ quản trị viên" in harness.last_text(GROUP_A)


async def test_take_reply_citizen_receives_and_rates(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    card_id = _card_id(h, GROUP_A, code)
    assert "Nguyễn Thị Lan" in h.server.messages[(GROUP_A, card_id)]["text"]
    await h.press("Nhận xử lý", user=OFFICIAL_A, chat=GROUP_A)
    card = h.server.messages[(GROUP_A, card_id)]["text"]
    assert "Đã phân công xử lý" in card and "Lan" in card  # edited in place, assignee shown
    await h.say(
        "Chào chị, bộ phận một cửa đã được nhắc nhở; chị chỉ cần nộp bản chính.",
        user=OFFICIAL_A,
        chat=GROUP_A,
        reply_to=(GROUP_A, card_id),
    )
    assert not any("Trả lời hồ sơ" in t for t in h.texts(CITIZEN))  # a preview first
    assert "Xem trước câu trả lời" in h.last_text(GROUP_A)
    await h.press("Gửi", user=OFFICIAL_A, chat=GROUP_A)
    answer = [t for t in h.texts(CITIZEN) if "Trả lời hồ sơ" in t]
    assert answer and "chỉ cần nộp bản chính" in answer[0]
    assert any("đã được gửi cho người dân" in t for t in h.texts(GROUP_A))
    assert (await _case(h, code)).status == Status.ANSWERED
    await h.press("Không hài lòng")
    await h.say("Tôi vẫn phải nộp thêm giấy tờ.")
    case = await _case(h, code)
    assert case.status == Status.CLOSED and case.rating == "bad"
    assert case.rating_comment == "Tôi vẫn phải nộp thêm giấy tờ."
    group_texts = "\n".join(h.texts(GROUP_A))
    assert "không hài lòng" in group_texts and "Tôi vẫn phải nộp thêm giấy tờ." in group_texts
    actors = [(e.action, e.actor_id) for e in case.events]
    assert ("assigned", OFFICIAL_A) in actors and ("answered", OFFICIAL_A) in actors


async def test_answer_with_photo_and_traloi_command(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    await h.say(
        f"/traloi {code} Đã xử lý xong, mời anh chị nhận kết quả.", user=OFFICIAL_A, chat=GROUP_A
    )
    await h.press("Gửi", user=OFFICIAL_A, chat=GROUP_A)
    assert any("mời anh chị nhận kết quả" in t for t in h.texts(CITIZEN))
    assert (await _case(h, code)).status == Status.ANSWERED


async def test_request_more_information_round_trip(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    await h.press("Yêu cầu bổ sung", user=OFFICIAL_A, chat=GROUP_A)
    prompt = h.messages(GROUP_A)[-1]
    await h.say(
        "Chị cho biết ngày nộp hồ sơ và số biên nhận.",
        user=OFFICIAL_A,
        chat=GROUP_A,
        reply_to=(GROUP_A, prompt["message_id"]),
    )
    request = [
        m for m in h.messages(CITIZEN) if "Yêu cầu bổ sung thông tin" in (m.get("text") or "")
    ][-1]
    await h.say("Nộp ngày 10/11, biên nhận số 123.", reply_to=(CITIZEN, request["message_id"]))
    assert "Đã chuyển thông tin bổ sung" in h.last_text(CITIZEN)
    posted = h.messages(GROUP_A)[-1]
    assert "biên nhận số 123" in posted["text"]
    assert posted["reply_to_message"]["message_id"] == _card_id(h, GROUP_A, code)
    assert (await _case(h, code)).status == Status.IN_PROGRESS


async def test_transfer_a_to_b(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    old_card = _card_id(h, GROUP_A, code)
    await h.press("Chuyển", user=OFFICIAL_A, chat=GROUP_A)
    await h.press("Sở Tư pháp", user=OFFICIAL_A, chat=GROUP_A)
    prompt = h.messages(GROUP_A)[-1]
    await h.say(
        "Thuộc lĩnh vực hộ tịch.",
        user=OFFICIAL_A,
        chat=GROUP_A,
        reply_to=(GROUP_A, prompt["message_id"]),
    )
    case = await _case(h, code)
    assert case.agency == AGENCY_B and case.status == Status.TRANSFERRED
    old = h.server.messages[(GROUP_A, old_card)]
    assert "đã chuyển sang Sở Tư pháp" in old["text"] and "Nguyễn Thị Lan" not in old["text"]
    assert "reply_markup" not in old or not old["reply_markup"]
    assert "Nguyễn Thị Lan" in h.server.messages[(GROUP_B, _card_id(h, GROUP_B, code))]["text"]
    assert any("đã được chuyển đến" in t for t in h.texts(CITIZEN))
    transfer = [e for e in case.events if e.action == "transferred"][0]
    assert (
        transfer.details["late"] is False
        and transfer.details["reason"] == "Thuộc lĩnh vực hộ tịch."
    )
    assert case.due_at == case.original_due_at  # the clock carries over by default
    # Group A can no longer act on it: its old buttons are refused on the server.
    await h.press_data(f"c:take:{case.id}", old_card, user=OFFICIAL_A, chat=GROUP_A)
    assert "không phụ trách" in h.alerts()[-1]


async def test_late_transfer_is_flagged(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    h.clock.advance(days=9)  # well past 5 working days
    case = await _case(h, code)
    await h.press_data(
        f"ct:{case.id}:{AGENCY_B}", _card_id(h, GROUP_A, code), user=OFFICIAL_A, chat=GROUP_A
    )
    prompt = h.messages(GROUP_A)[-1]
    await h.say(
        "Chuyển muộn.", user=OFFICIAL_A, chat=GROUP_A, reply_to=(GROUP_A, prompt["message_id"])
    )
    case = await _case(h, code)
    assert case.transferred_late == 1
    assert [e for e in case.events if e.action == "transferred"][0].details["late"] is True


async def test_extension_with_apology_once_and_not_too_late(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    case = await _case(h, code)
    await h.press("Gia hạn", user=OFFICIAL_A, chat=GROUP_A)
    prompt = h.messages(GROUP_A)[-1]
    await h.say(
        "15/12/2026 Cần xác minh tại hiện trường",
        user=OFFICIAL_A,
        chat=GROUP_A,
        reply_to=(GROUP_A, prompt["message_id"]),
    )
    apology = [t for t in h.texts(CITIZEN) if "PHIẾU XIN LỖI" in t]
    assert apology, h.texts(CITIZEN)
    for expected in (
        "03/12/2026",
        "15/12/2026",
        "23/11/2026",
        code,
        "Cần xác minh tại hiện trường",
    ):
        assert expected in apology[0]
    extended = await _case(h, code)
    assert extended.status == Status.EXTENDED and extended.extensions == 1
    event = [e for e in extended.events if e.action == "extended"][0]
    assert event.details["old_due_at"] == case.due_at.isoformat()
    assert event.details["new_due_at"].startswith("2026-12-15")
    # A second extension is refused and changes nothing.
    await h.press_data(
        f"c:extend:{case.id}", _card_id(h, GROUP_A, code), user=OFFICIAL_A, chat=GROUP_A
    )
    assert "chỉ được hẹn lại một lần" in h.alerts()[-1]
    assert (await _case(h, code)).due_at == extended.due_at


async def test_extension_asked_too_late_is_refused(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    h.clock.set((await _case(h, code)).due_at - timedelta(hours=5))  # on the due day
    await h.press("Gia hạn", user=OFFICIAL_A, chat=GROUP_A)
    prompt = h.messages(GROUP_A)[-1]
    await h.say(
        "20/12/2026 Chậm do thiếu nhân sự",
        user=OFFICIAL_A,
        chat=GROUP_A,
        reply_to=(GROUP_A, prompt["message_id"]),
    )
    assert "quá muộn để gia hạn" in h.last_text(GROUP_A)
    case = await _case(h, code)
    assert case.extensions == 0 and case.status == Status.RECEIVED


async def test_reject_with_reason(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    await h.press("Không thụ lý", user=OFFICIAL_A, chat=GROUP_A)
    await h.press("trùng với phản ánh", user=OFFICIAL_A, chat=GROUP_A)
    case = await _case(h, code)
    assert case.status == Status.REJECTED
    assert any("không được thụ lý" in t and "trùng" in t for t in h.texts(CITIZEN))


async def test_forged_callback_from_group_b_changes_nothing(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    case = await _case(h, code)
    for data in (f"c:take:{case.id}", f"cr:{case.id}:duplicate", f"ct:{case.id}:{AGENCY_B}"):
        await h.press_data(data, 1, user=OFFICIAL_B, chat=GROUP_B)
        assert "không phụ trách" in h.alerts()[-1]
    after = await _case(h, code)
    assert (
        after.status == Status.RECEIVED and after.assignee_id is None and after.agency == AGENCY_A
    )
    # A reply in group B to a message id that happens to exist in group A maps to nothing.
    await h.say(
        "Trả lời giả mạo",
        user=OFFICIAL_B,
        chat=GROUP_B,
        reply_to=(GROUP_B, _card_id(h, GROUP_A, code)),
    )
    assert (await _case(h, code)).status == Status.RECEIVED


async def test_closed_case_refuses_actions(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    card_id = _card_id(h, GROUP_A, code)
    await h.press("Không thụ lý", user=OFFICIAL_A, chat=GROUP_A)
    await h.press("thiếu thông tin", user=OFFICIAL_A, chat=GROUP_A)
    case = await _case(h, code)
    assert not h.server.messages[(GROUP_A, card_id)].get("reply_markup")  # buttons gone
    await h.press_data(f"c:take:{case.id}", card_id, user=OFFICIAL_A, chat=GROUP_A)
    assert "đã kết thúc" in h.alerts()[-1]


async def test_reply_to_unrelated_message_is_ignored(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    before = len(h.server.calls)
    await h.say("ok mọi người", user=OFFICIAL_A, chat=GROUP_A, reply_to=(GROUP_A, 424242))
    assert len(h.server.calls) == before
    assert (await _case(h, code)).status == Status.RECEIVED


async def test_group_migration_keeps_binding(bound: Harness) -> None:
    h = bound
    new_id = -1009999
    await h.say(user=OFFICIAL_A, chat=GROUP_A, chat_type="group", migrate_to_chat_id=new_id)
    async with h.app.sessions() as session:
        agency = await session.get(Agency, AGENCY_A)
        assert agency is not None and agency.chat_id == new_id
    code = await file_case(h)
    assert any(code in t for t in h.texts(new_id))


async def test_bot_removed_alerts_admins(bound: Harness) -> None:
    h = bound
    await h.feed(make_my_chat_member_update(GROUP_A, new_status="kicked", user_id=OFFICIAL_A))
    assert "đã bị xóa khỏi nhóm" in h.last_text(ADMIN)


async def test_group_403_alerts_admins(bound: Harness) -> None:
    h = bound
    h.server.fail_next(
        "sendMessage",
        error_code=403,
        times=None,
        chat_id=GROUP_A,
        description="Forbidden: bot was kicked from the supergroup chat",
    )
    code = await file_case(h)
    assert any("kicked" in t for t in h.texts(ADMIN))
    assert any(e.action == "delivery_failed" for e in (await _case(h, code)).events)


async def test_unbind(bound: Harness) -> None:
    h = bound
    await h.say("/unbind", user=ADMIN, chat=GROUP_B)
    assert "Đã gỡ" in h.last_text(GROUP_B)
    async with h.app.sessions() as session:
        agency = await session.get(Agency, AGENCY_B)
        assert agency is not None and agency.chat_id is None


async def test_answer_with_an_album_reaches_the_citizen_whole(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    card_id = _card_id(h, GROUP_A, code)
    for i, file_id in enumerate(("ans-1", "ans-2", "ans-3")):
        update = make_message_update(
            chat_id=GROUP_A,
            user_id=OFFICIAL_A,
            photo_file_id=file_id,
            caption="Kết quả đã có, xem ảnh." if i == 0 else None,
            reply_to=(GROUP_A, card_id),
            message_id=h.server.next_message_id(GROUP_A),  # the chat's next id, as Telegram's
        )
        update["message"]["media_group_id"] = "album-1"
        await h.feed(update)
    previews = [t for t in h.texts(GROUP_A) if "Xem trước câu trả lời" in t]
    assert len(previews) == 1 and "3 tệp" in previews[0]  # one preview for the whole album
    await h.press("Gửi", user=OFFICIAL_A, chat=GROUP_A)
    photos = [
        c.params["photo"] for c in h.server.calls_to("sendPhoto") if c.params["chat_id"] == CITIZEN
    ]
    assert photos == ["ans-1", "ans-2", "ans-3"]
    assert not any("không còn mở" in t for t in h.texts(GROUP_A))
    case = await _case(h, code)
    assert [a.file_id for a in case.attachments if a.origin == "official"] == [
        "ans-1",
        "ans-2",
        "ans-3",
    ]


async def test_unknown_or_malformed_buttons_in_a_group_change_nothing(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    case = await _case(h, code)
    for data in (f"cr:{case.id}:bribe", "zz:1", f"c:delete:{case.id}"):
        await h.press_data(data, _card_id(h, GROUP_A, code), user=OFFICIAL_A, chat=GROUP_A)
        assert "không còn hiệu lực" in h.alerts()[-1]
    assert (await _case(h, code)).status == Status.RECEIVED
