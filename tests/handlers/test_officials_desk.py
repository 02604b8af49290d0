"""An officials' desk that cannot misfire: in a busy group every action reaches the case it
was meant for (prompts, answer previews, take-over, concurrent actions, leader approval)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.domain.reminders import run_tick
from bot.domain.statuses import Status
from storage.models import Case
from tests.fake_telegram import FakeTelegram, make_callback_update, make_message_update
from tests.harness import (
    ADMIN,
    CITIZEN,
    GROUP_A,
    GROUP_B,
    OFFICIAL_A,
    OFFICIAL_B,
    OTHER_CITIZEN,
    POSTGRES_URL,
    Harness,
    file_case,
    reset_postgres,
)

AGENCY_A = "TTPVHCC"  # the default agency: cases without a procedure land here
AGENCY_B = "STP"
LEAD = 7003


async def _case(h: Harness, code: str) -> Case:
    async with h.app.sessions() as session:
        # Tests read a case's whole history on purpose (the app never does: lazy="raise").
        query = select(Case).options(selectinload("*")).where(Case.code == code)
        case = await session.scalar(query)
        assert case is not None
        return case


async def _bind(h: Harness) -> Harness:
    for agency, group in ((AGENCY_A, GROUP_A), (AGENCY_B, GROUP_B)):
        await h.say(f"/bind {agency}", user=ADMIN, chat=group)
        assert "đã được gắn" in h.last_text(group)
    return h


@pytest.fixture
async def bound(harness: Harness) -> Harness:
    return await _bind(harness)


def _card_id(h: Harness, group: int, code: str) -> int:
    for message in reversed(h.messages(group)):
        if code in (message.get("text") or "") and message.get("reply_markup"):
            return int(message["message_id"])
    raise AssertionError(f"no card for {code} in {group}")


def _last_from_bot(h: Harness, chat: int) -> dict[str, Any]:
    return h.messages(chat)[-1]


def _answers_to(h: Harness, chat: int) -> list[str]:
    return [t for t in h.texts(chat) if "Trả lời hồ sơ" in t]


# ---- 1. a pending prompt does not swallow the official's other messages -------------------
async def test_pending_extension_prompt_leaves_other_cases_alone(bound: Harness) -> None:
    h = bound
    first = await file_case(h)
    second = await file_case(
        h, "Cổng dịch vụ công không nhận hồ sơ khai sinh trực tuyến.", user=OTHER_CITIZEN
    )
    card_a, card_b = _card_id(h, GROUP_A, first), _card_id(h, GROUP_A, second)
    await h.press_data(
        f"c:extend:{(await _case(h, first)).id}", card_a, user=OFFICIAL_A, chat=GROUP_A
    )
    assert "Gia hạn hồ sơ" in h.last_text(GROUP_A)  # the prompt, left unanswered
    # A reply to the OTHER case's card is that case's answer, not the extension date.
    await h.say("Đã khắc phục cổng.", user=OFFICIAL_A, chat=GROUP_A, reply_to=(GROUP_A, card_b))
    assert "Chưa đọc được ngày" not in "\n".join(h.texts(GROUP_A))
    assert second in h.last_text(GROUP_A) and "Xem trước câu trả lời" in h.last_text(GROUP_A)
    # /traloi works as usual too.
    await h.say(f"/traloi {second} Đã khắc phục cổng.", user=OFFICIAL_A, chat=GROUP_A)
    assert "Xem trước câu trả lời" in h.last_text(GROUP_A)
    assert (await _case(h, first)).extensions == 0


async def test_pending_transfer_prompt_never_moves_another_case(bound: Harness) -> None:
    h = bound
    first = await file_case(h)
    second = await file_case(
        h, "Cổng dịch vụ công không nhận hồ sơ khai sinh trực tuyến.", user=OTHER_CITIZEN
    )
    case_a = await _case(h, first)
    await h.press_data(
        f"ct:{case_a.id}:{AGENCY_B}", _card_id(h, GROUP_A, first), user=OFFICIAL_A, chat=GROUP_A
    )
    assert "lý do chuyển" in h.last_text(GROUP_A)
    await h.say(
        "Thuộc thẩm quyền phường.",
        user=OFFICIAL_A,
        chat=GROUP_A,
        reply_to=(GROUP_A, _card_id(h, GROUP_A, second)),
    )
    assert (await _case(h, first)).agency == AGENCY_A
    assert (await _case(h, second)).agency == AGENCY_A


async def test_group_cancel_closes_the_prompt_and_prompts_expire(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    await h.press("Gia hạn", user=OFFICIAL_A, chat=GROUP_A)
    prompt = _last_from_bot(h, GROUP_A)
    await h.say("/cancel", user=OFFICIAL_A, chat=GROUP_A)
    assert "Đã hủy 1 yêu cầu" in h.last_text(GROUP_A)
    await h.say(
        "20/12/2026 Cần xác minh",
        user=OFFICIAL_A,
        chat=GROUP_A,
        reply_to=(GROUP_A, prompt["message_id"]),
    )
    assert (await _case(h, code)).extensions == 0
    # A prompt left open past CASE_PROMPT_MINUTES expires.
    await h.press("Gia hạn", user=OFFICIAL_A, chat=GROUP_A)
    prompt = _last_from_bot(h, GROUP_A)
    h.clock.advance(minutes=31)
    await h.say(
        "20/12/2026 Cần xác minh",
        user=OFFICIAL_A,
        chat=GROUP_A,
        reply_to=(GROUP_A, prompt["message_id"]),
    )
    assert "đã hết hạn" in h.last_text(GROUP_A)
    assert (await _case(h, code)).extensions == 0


async def test_only_the_official_who_opened_a_prompt_answers_it(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    await h.press("Yêu cầu bổ sung", user=OFFICIAL_A, chat=GROUP_A)
    prompt = _last_from_bot(h, GROUP_A)
    await h.say(
        "Chị gửi thêm ảnh biên nhận.",
        user=OFFICIAL_B,
        chat=GROUP_A,
        reply_to=(GROUP_A, prompt["message_id"]),
    )
    assert "người khác mở" in h.last_text(GROUP_A)
    assert (await _case(h, code)).status == Status.RECEIVED
    assert not any("Yêu cầu bổ sung thông tin" in t for t in h.texts(CITIZEN))


# ---- 2. only a reply to the card answers, and only after a confirmed preview --------------
async def test_remark_under_citizen_information_is_not_an_answer(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    await h.press("Yêu cầu bổ sung", user=OFFICIAL_A, chat=GROUP_A)
    prompt = _last_from_bot(h, GROUP_A)
    await h.say(
        "Chị cho biết số biên nhận.",
        user=OFFICIAL_A,
        chat=GROUP_A,
        reply_to=(GROUP_A, prompt["message_id"]),
    )
    request = [
        m for m in h.messages(CITIZEN) if "Yêu cầu bổ sung thông tin" in (m.get("text") or "")
    ][-1]
    await h.say("Biên nhận số 123.", reply_to=(CITIZEN, request["message_id"]))
    forwarded = _last_from_bot(h, GROUP_A)
    assert "Biên nhận số 123" in forwarded["text"]
    await h.say(
        "Anh Bình kiểm tra giúp số này nhé",
        user=OFFICIAL_A,
        chat=GROUP_A,
        reply_to=(GROUP_A, forwarded["message_id"]),
    )
    assert _answers_to(h, CITIZEN) == []
    assert (await _case(h, code)).status == Status.IN_PROGRESS


async def test_preview_edit_and_cancel(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    card = _card_id(h, GROUP_A, code)
    await h.say("Bản nháp có lỗi chính tả", user=OFFICIAL_A, chat=GROUP_A, reply_to=(GROUP_A, card))
    await h.press("Sửa", user=OFFICIAL_A, chat=GROUP_A)
    prompt = _last_from_bot(h, GROUP_A)
    await h.say(
        "Bản đã sửa: mời chị đến nhận kết quả.",
        user=OFFICIAL_A,
        chat=GROUP_A,
        reply_to=(GROUP_A, prompt["message_id"]),
    )
    assert "Bản đã sửa" in h.last_text(GROUP_A) and "Xem trước" in h.last_text(GROUP_A)
    # Another official cannot send someone else's draft.
    await h.press("Gửi", user=OFFICIAL_B, chat=GROUP_A)
    assert "người soạn" in h.alerts()[-1]
    await h.press("Gửi", user=OFFICIAL_A, chat=GROUP_A)
    answers = _answers_to(h, CITIZEN)
    assert len(answers) == 1 and "Bản đã sửa" in answers[0] and "lỗi chính tả" not in answers[0]
    # A second draft on the answered case: cancelled, it changes nothing.
    second = await file_case(
        h, "Cổng dịch vụ công không nhận hồ sơ khai sinh trực tuyến.", user=OTHER_CITIZEN
    )
    await h.say(
        "Thử", user=OFFICIAL_A, chat=GROUP_A, reply_to=(GROUP_A, _card_id(h, GROUP_A, second))
    )
    await h.press("Hủy", user=OFFICIAL_A, chat=GROUP_A)
    assert "Đã hủy câu trả lời" in h.texts(GROUP_A)[-1]
    assert _answers_to(h, OTHER_CITIZEN) == []
    assert (await _case(h, second)).status == Status.RECEIVED


async def test_double_tap_on_send_answers_once(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    await h.say(
        "Đã xử lý.", user=OFFICIAL_A, chat=GROUP_A, reply_to=(GROUP_A, _card_id(h, GROUP_A, code))
    )
    message, data = h.find_button(GROUP_A, "Gửi")
    await h.press_data(data, message["message_id"], user=OFFICIAL_A, chat=GROUP_A)
    await h.press_data(data, message["message_id"], user=OFFICIAL_A, chat=GROUP_A)
    assert len(_answers_to(h, CITIZEN)) == 1
    assert "đã được gửi" in h.alerts()[-1]


# ---- 3. take over only with a word ----------------------------------------------------------
async def test_stale_take_is_refused_and_take_over_tells_the_previous_assignee(
    bound: Harness,
) -> None:
    h = bound
    code = await file_case(h)
    card = _card_id(h, GROUP_A, code)
    case = await _case(h, code)
    await h.press_data(f"c:take:{case.id}", card, user=OFFICIAL_A, chat=GROUP_A, first_name="An")
    # A colleague's card still shows "Nhận xử lý" (stale): the press is refused, with a name.
    await h.press_data(f"c:take:{case.id}", card, user=OFFICIAL_B, chat=GROUP_A, first_name="Bình")
    assert "đang do An xử lý" in h.alerts()[-1]
    assert (await _case(h, code)).assignee_id == OFFICIAL_A
    await h.press("Nhận thay", user=OFFICIAL_B, chat=GROUP_A, first_name="Bình")
    after = await _case(h, code)
    assert after.assignee_id == OFFICIAL_B and after.assignee_name == "Bình"
    notice = [m for m in h.messages(GROUP_A) if "nhận thay" in (m.get("text") or "")][-1]
    assert f"tg://user?id={OFFICIAL_A}" in str(notice.get("entities", "")) or "An" in notice["text"]
    reassigned = [e for e in after.events if e.action == "reassigned"]
    assert reassigned and reassigned[0].details["from_id"] == OFFICIAL_A


# ---- 6. group hygiene ----------------------------------------------------------------------
async def test_take_twice_records_one_event(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    case = await _case(h, code)
    card = _card_id(h, GROUP_A, code)
    await h.press_data(f"c:take:{case.id}", card, user=OFFICIAL_A, chat=GROUP_A)
    await h.press_data(f"c:take:{case.id}", card, user=OFFICIAL_A, chat=GROUP_A)
    events = [e for e in (await _case(h, code)).events if e.action == "assigned"]
    assert len(events) == 1
    assert "đang xử lý hồ sơ" in h.alerts()[-1]


async def test_traloi_does_not_tell_other_groups_which_codes_exist(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    await h.say(f"/traloi {code} Trả lời thử", user=OFFICIAL_B, chat=GROUP_B)
    existing = h.last_text(GROUP_B).replace(code, "CODE")
    await h.say("/traloi PA-ZZZZ-ZZ Trả lời thử", user=OFFICIAL_B, chat=GROUP_B)
    unknown = h.last_text(GROUP_B).replace("PA-ZZZZ-ZZ", "CODE")
    assert existing == unknown
    assert (await _case(h, code)).status == Status.RECEIVED


async def test_officials_text_is_cleaned_before_it_reaches_the_citizen(bound: Harness) -> None:
    h = bound
    code = await file_case(h)
    await h.say(
        "Đã xử lý\u202e xong\x00 rồi.",
        user=OFFICIAL_A,
        chat=GROUP_A,
        reply_to=(GROUP_A, _card_id(h, GROUP_A, code)),
    )
    if "Xem trước" in h.last_text(GROUP_A):  # the preview is tested on its own above
        await h.press("Gửi", user=OFFICIAL_A, chat=GROUP_A)
    answer = _answers_to(h, CITIZEN)[0]
    assert "\u202e" not in answer and "\x00" not in answer and "Đã xử lý xong rồi." in answer
    event = [e for e in (await _case(h, code)).events if e.action == "answered"][0]
    assert event.details["text"] == "Đã xử lý xong rồi."


# ---- 5. smaller slips ------------------------------------------------------------------------
async def test_second_extension_allowed_when_the_setting_allows_two(
    server: FakeTelegram, tmp_path: Any
) -> None:
    from tests.harness import sqlite_url

    h = await _bind(await Harness.start(server, sqlite_url(tmp_path), max_extensions=2))
    try:
        code = await file_case(h)
        for date in ("15/12/2026", "22/12/2026"):
            await h.press("Gia hạn", user=OFFICIAL_A, chat=GROUP_A)
            prompt = _last_from_bot(h, GROUP_A)
            await h.say(
                f"{date} Cần xác minh thêm",
                user=OFFICIAL_A,
                chat=GROUP_A,
                reply_to=(GROUP_A, prompt["message_id"]),
            )
        case = await _case(h, code)
        assert case.extensions == 2 and case.due_at.day == 22
    finally:
        await h.close()


async def test_a_card_in_two_messages_is_refreshed_part_by_part(bound: Harness) -> None:
    h = bound
    # Escaped HTML (&amp;) makes the card longer than one Telegram message.
    code = await file_case(h, "Phí && lệ phí sai; " * 150)
    card_parts = [
        m
        for m in h.messages(GROUP_A)
        if m.get("text") and ("Phí && lệ phí" in m["text"] or code in m["text"])
    ]
    assert len(card_parts) >= 2, [m["text"][:80] for m in card_parts]
    head, last = card_parts[0], card_parts[-1]
    assert code in head["text"] and head.get("reply_markup")  # the buttons on the first part
    assert code not in last["text"]
    await h.press("Nhận xử lý", user=OFFICIAL_A, chat=GROUP_A, first_name="An")
    head_after = h.server.messages[(GROUP_A, head["message_id"])]
    last_after = h.server.messages[(GROUP_A, last["message_id"])]
    assert "Người xử lý: An" in head_after["text"]  # the first part got the new header
    assert code not in last_after["text"] and "Phí && lệ phí" in last_after["text"]
    labels = [b["text"] for row in head_after["reply_markup"]["inline_keyboard"] for b in row]
    assert any("Nhận thay" in label for label in labels)
    # A reply to the card's second part answers the case too.
    await h.say(
        "Đã hoàn phí.", user=OFFICIAL_A, chat=GROUP_A, reply_to=(GROUP_A, last["message_id"])
    )
    assert "Xem trước câu trả lời" in h.last_text(GROUP_A)


# ---- 4. two officials at once (PostgreSQL row lock) ----------------------------------------
@pytest.fixture
async def pg_bound(server: FakeTelegram) -> AsyncIterator[Harness]:
    await reset_postgres()
    h = await Harness.start(server, POSTGRES_URL)
    try:
        yield await _bind(h)
    finally:
        await h.close()


@pytest.mark.postgres
async def test_concurrent_transfer_and_reject_one_wins(pg_bound: Harness) -> None:
    """Official A transfers the case while official B rejects it, at the same moment: the
    case row is locked, so exactly one happens and the citizen hears of exactly one."""
    h = pg_bound
    both = 0
    for round_ in range(4):
        code = await file_case(h, f"Phản ánh số {round_}: bộ phận một cửa trả kết quả chậm.")
        case = await _case(h, code)
        card = _card_id(h, GROUP_A, code)
        await h.press_data(f"ct:{case.id}:{AGENCY_B}", card, user=OFFICIAL_A, chat=GROUP_A)
        prompt = _last_from_bot(h, GROUP_A)
        updates = [
            make_message_update(
                "Thuộc thẩm quyền Sở Tư pháp.",
                chat_id=GROUP_A,
                user_id=OFFICIAL_A,
                message_id=90_000 + round_,
                reply_to=(GROUP_A, prompt["message_id"]),
            ),
            make_callback_update(
                f"cr:{case.id}:outside", user_id=OFFICIAL_B, chat_id=GROUP_A, message_id=card
            ),
        ]
        await asyncio.gather(
            *(h.dp.feed_raw_update(h.bot, u) for u in updates), return_exceptions=True
        )
        await h.sender.deliver_all()
        after = await _case(h, code)
        done = [e.action for e in after.events if e.action in ("transferred", "rejected")]
        both += len(done) > 1
        told = [
            t
            for t in h.texts(CITIZEN)
            if code in t and ("không được thụ lý" in t or "đã được chuyển đến" in t)
        ]
        assert len(done) == 1 and len(told) == 1, (done, told)
    assert both == 0


# ---- leader approval (NĐ 20/2008/NĐ-CP) ----------------------------------------------------
async def test_leader_approval_end_to_end(bound: Harness) -> None:
    h = bound
    await h.say("/pheduyet on", user=ADMIN, chat=GROUP_A)
    assert "Đã bật duyệt" in h.last_text(GROUP_A)
    lead_says = await h.say("Chào cả nhóm", user=LEAD, chat=GROUP_A, first_name="Hùng")
    await h.say("/lanhdao", user=ADMIN, chat=GROUP_A, reply_to=lead_says["message"])
    assert "Hùng" in h.last_text(GROUP_A)
    code = await file_case(h)
    card = _card_id(h, GROUP_A, code)
    await h.say(
        "Bản thảo thứ nhất.",
        user=OFFICIAL_A,
        chat=GROUP_A,
        reply_to=(GROUP_A, card),
        first_name="An",
    )
    assert "trình lãnh đạo duyệt" in h.last_text(GROUP_A)
    await h.press("Gửi", user=OFFICIAL_A, chat=GROUP_A, first_name="An")
    assert _answers_to(h, CITIZEN) == []  # not before approval
    assert "chờ lãnh đạo duyệt" in h.last_text(GROUP_A)
    # The clock runs on while the draft waits: the reminder says so.
    case = await _case(h, code)
    local_due = case.due_at.astimezone(h.app.settings.bot.tz)
    h.clock.set((local_due - timedelta(days=2)).replace(hour=9, minute=0, second=0))
    ticked = await run_tick(h.app)
    assert ticked["reminders"] == 1, (ticked, h.clock.now(), case.due_at)
    await h.sender.deliver_all()
    assert any("chờ lãnh đạo duyệt từ" in t for t in h.texts(GROUP_A)), h.texts(GROUP_A)[-3:]
    # A colleague who is not an approver cannot approve.
    await h.press("Duyệt", user=OFFICIAL_B, chat=GROUP_A)
    assert "Chỉ lãnh đạo" in h.alerts()[-1]
    # The lead returns it with a comment; the author is told in the group.
    await h.press("Trả lại", user=LEAD, chat=GROUP_A, first_name="Hùng")
    prompt = _last_from_bot(h, GROUP_A)
    await h.say(
        "Cần nêu rõ thời hạn khắc phục.",
        user=LEAD,
        chat=GROUP_A,
        first_name="Hùng",
        reply_to=(GROUP_A, prompt["message_id"]),
    )
    returned = h.last_text(GROUP_A)
    assert "trả lại" in returned and "Cần nêu rõ thời hạn khắc phục." in returned
    assert _answers_to(h, CITIZEN) == []
    # A new draft, approved this time.
    await h.say(
        "Bản thảo thứ hai: khắc phục trước 30/11.",
        user=OFFICIAL_A,
        chat=GROUP_A,
        reply_to=(GROUP_A, card),
        first_name="An",
    )
    await h.press("Gửi", user=OFFICIAL_A, chat=GROUP_A, first_name="An")
    await h.press("Duyệt", user=LEAD, chat=GROUP_A, first_name="Hùng")
    answers = _answers_to(h, CITIZEN)
    assert len(answers) == 1 and "Bản thảo thứ hai" in answers[0]
    case = await _case(h, code)
    assert case.status == Status.ANSWERED
    actions = [(e.action, e.actor_id) for e in case.events]
    for expected in (
        ("answer_drafted", OFFICIAL_A),
        ("answer_returned", LEAD),
        ("answer_approved", LEAD),
        ("answered", OFFICIAL_A),
    ):
        assert expected in actions, actions
    answered = [e for e in case.events if e.action == "answered"][0]
    assert (
        answered.details["approved_by"] == LEAD and answered.details["approved_by_name"] == "Hùng"
    )


async def test_only_admins_switch_approval(bound: Harness) -> None:
    h = bound
    await h.say("/pheduyet on", user=OFFICIAL_A, chat=GROUP_A)
    assert "Chỉ quản trị viên" in h.last_text(GROUP_A)
    await h.say("/lanhdao", user=ADMIN, chat=GROUP_A)
    assert "tắt" in h.last_text(GROUP_A) and "chưa có" in h.last_text(GROUP_A)
