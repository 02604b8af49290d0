"""Delivery on Telegram's bad days: acknowledgements after commit, per-chat order, last-state
cards, transfers that leave nothing personal behind, every copy of a card linked, Telegram's
retry semantics, UTF-16 lengths, and a clear answer to every unexpected input. Each test feeds
real updates through the production dispatcher against the fake Bot API server."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from bot.clock import FixedClock
from bot.domain.cases import Actor
from bot.domain.statuses import Status
from storage.models import Case, FsmRecord, MessageLink, OutboxMessage
from tests.fake_telegram import FakeTelegram
from tests.harness import (
    ADMIN,
    CITIZEN,
    GROUP_A,
    GROUP_B,
    OFFICIAL_A,
    POSTGRES_URL,
    REDIS_URL,
    START,
    Harness,
    file_case,
    reset_postgres,
    sqlite_url,
)

AGENCY_A, AGENCY_B = "TTPVHCC", "STP"
LONG_ENOUGH = "Bộ phận một cửa yêu cầu nộp thêm bản sao giấy tờ không có trong quy định."


async def _bind(h: Harness) -> None:
    for agency, group in ((AGENCY_A, GROUP_A), (AGENCY_B, GROUP_B)):
        await h.say(f"/bind {agency}", user=ADMIN, chat=group)


async def _codes(h: Harness) -> set[str]:
    async with h.app.sessions() as session:
        return set((await session.scalars(select(Case.code))).all())


async def _case(h: Harness, code: str) -> Case:
    async with h.app.sessions() as session:
        case = await session.scalar(select(Case).where(Case.code == code))
        assert case is not None
        return case


async def _outbox(h: Harness) -> list[OutboxMessage]:
    async with h.app.sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _card_ids(h: Harness, group: int, code: str) -> list[int]:
    return [
        int(m["message_id"])
        for m in h.messages(group)
        if code in (m.get("text") or "") and m.get("reply_markup")
    ]


async def _until_drained(h: Harness, seconds: float = 8.0) -> None:
    """Deliver until the outbox has nothing open (waiting out real retry_after/back-off)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        await h.sender.deliver_all()
        rows = await _outbox(h)
        if not any(r.status in ("pending", "sending") for r in rows):
            return
        await asyncio.sleep(0.2)
    raise AssertionError([(r.id, r.status, r.last_error) for r in await _outbox(h)])


async def _to_summary(h: Harness, content: str = LONG_ENOUGH) -> None:
    await h.say("/phananh")
    await h.press("Phản ánh")
    await h.say(content)
    await h.press("Bỏ qua")
    await h.press("Bỏ qua")
    await h.say("Nguyễn Thị Lan")
    await h.say("0912 345 678")
    await h.say("12 Lê Lợi, phường An Hòa")


# ---- acknowledgements only after commit -------------------------------------------------


async def test_no_sent_toast_for_a_case_that_was_not_stored(harness: Harness) -> None:
    """A call failing after the toast used to roll the case back: the citizen had been told
    "Đã gửi. Mã hồ sơ X" about a case that does not exist."""
    h = harness
    await _to_summary(h)
    h.server.fail_next(
        "editMessageReplyMarkup", error_code=400, description="Bad Request: message is gone"
    )
    await h.press("Gửi phản ánh")
    toasts = [t for t in h.alerts() if "Mã hồ sơ" in t]
    codes = await _codes(h)
    told = {t.rsplit(":", 1)[1].strip() for t in toasts}
    assert told <= codes, f"told {told}, stored {codes}"
    assert len(codes) == 1 and len(told) == 1


@pytest.mark.redis
async def test_redis_draft_is_not_lost_when_the_update_fails(
    server: FakeTelegram, tmp_path: Path
) -> None:
    """With Redis the draft was deleted outside the transaction: a failing submit lost both
    the case and the draft. Now either the case is stored or the draft is still there."""
    h = await Harness.start(server, sqlite_url(tmp_path), redis_url=REDIS_URL)
    try:
        await h.dp.storage.redis.flushdb()  # type: ignore[attr-defined]
        await _to_summary(h)
        h.server.fail_next(
            "editMessageReplyMarkup", error_code=400, description="Bad Request: message is gone"
        )
        await h.press("Gửi phản ánh")
        draft = await h.dp.storage.get_data(_key(h))
        assert await _codes(h) or draft.get("draft_id"), "neither a case nor the draft is left"
        assert await _codes(h)  # the submit itself succeeded: the failure came after commit
    finally:
        await h.dp.storage.redis.flushdb()  # type: ignore[attr-defined]
        await h.close()


def _key(h: Harness) -> object:
    from aiogram.fsm.storage.base import StorageKey

    return StorageKey(bot_id=h.bot.id, chat_id=CITIZEN, user_id=CITIZEN)


async def test_no_transaction_is_held_while_telegram_is_slow(harness: Harness) -> None:
    """On SQLite the update's transaction is the only write lock: a reply waiting on a slow
    (or 429) Telegram used to block every other write. Now replies wait for the commit."""
    h = harness
    h.server.delay_next("sendMessage", 3.0, chat_id=CITIZEN)
    task = asyncio.create_task(h.say("/start", deliver=False))
    await h.server.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == CITIZEN)
    engine = create_async_engine(
        h.app.settings.database.database_url, connect_args={"timeout": 0.5}
    )
    try:
        async with engine.begin() as conn:  # "database is locked" if the update holds it
            await conn.execute(text("UPDATE outbox SET attempts = attempts WHERE id = 0"))
    finally:
        await engine.dispose()
        await task


# ---- order, retries ------------------------------------------------------------------------


async def _queue(h: Harness, chat_id: int, texts: list[str]) -> None:
    from bot.telegram.outbox import enqueue

    async with h.app.sessions.begin() as session:
        for t in texts:
            await enqueue(
                session,
                chat_id=chat_id,
                method="send_message",
                payload={"text": t},
                now=h.clock.now(),
            )


async def test_a_429_holds_the_chats_later_messages(harness: Harness) -> None:
    h = harness
    texts = [f"p{i}" for i in range(1, 7)]
    await _queue(h, CITIZEN, texts)
    h.server.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 1",
        retry_after=1,
        chat_id=CITIZEN,
    )
    await _until_drained(h)
    assert h.texts(CITIZEN) == texts


async def test_a_message_waiting_for_its_chat_slot_does_not_hold_up_other_chats(
    harness: Harness,
) -> None:
    """The sender used to sleep for one chat's slot with the rest of its batch waiting: in a
    burst, citizens' acknowledgements queued behind cards waiting for their group's slot (20 a
    minute) and arrived many seconds late."""
    from bot.telegram.ratelimit import TelegramRateLimiter

    h = harness
    h.sender.limiter = TelegramRateLimiter(per_chat_interval=1.5)
    await _queue(h, GROUP_A, ["g1"])
    await h.sender.deliver_due()  # the group's next slot is 1.5 s away now
    await _queue(h, GROUP_A, ["g2"])
    await _queue(h, CITIZEN, ["c1"])
    await h.sender.deliver_due()
    order = [c.params["text"] for c in h.server.calls_to("sendMessage") if c.ok]
    assert sorted(order) == ["c1", "g1", "g2"]
    assert order.index("c1") < order.index("g2"), order


async def test_the_running_sender_claims_new_messages_while_a_group_lane_waits(
    harness: Harness,
) -> None:
    """A pass used to end only when its slowest chat was done: in a burst, each batch of
    acknowledgements waited ~10 s for the batch's cards to trickle into their group."""
    from bot.telegram.ratelimit import TelegramRateLimiter

    h = harness
    h.sender.limiter = TelegramRateLimiter(per_chat_interval=1.0)
    await _queue(h, GROUP_A, ["g1", "g2", "g3"])
    stop = asyncio.Event()
    worker = asyncio.create_task(h.sender.run(stop, idle=0.05))
    try:
        await asyncio.sleep(0.3)  # g1 sent, g2 waiting for the group's slot
        await _queue(h, CITIZEN, ["c1"])
        h.sender.notify()
        for _ in range(100):
            order = [c.params["text"] for c in h.server.calls_to("sendMessage") if c.ok]
            if len(order) == 4:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await worker
    assert sorted(order) == ["c1", "g1", "g2", "g3"]
    assert order.index("c1") < order.index("g2"), order


async def test_429s_do_not_use_up_the_retry_budget(harness: Harness) -> None:
    """Eleven 429s and one 502 used to mark a message failed for good (12 attempts)."""
    h = harness
    clock, now = FixedClock(START), [0.0]
    h.sender.clock, h.sender.monotonic = clock, lambda: now[0]  # time moves when we say
    await _queue(h, CITIZEN, ["after a bad minute"])
    h.server.fail_next(
        "sendMessage", error_code=429, description="Too Many Requests", retry_after=5, times=11
    )
    h.server.fail_next("sendMessage", error_code=502, description="Bad Gateway")
    for _ in range(30):
        await h.sender.deliver_all()
        clock.advance(seconds=6)
        now[0] += 6
    [row] = await _outbox(h)
    assert row.status == "sent", row.last_error
    assert h.texts(CITIZEN) == ["after a bad minute"]


async def test_5xx_gives_up_after_a_budget_of_time_and_explains(harness: Harness) -> None:
    h = harness
    h.sender.retry_budget = timedelta(seconds=0)
    await _queue(h, CITIZEN, ["never"])
    h.server.fail_next("sendMessage", error_code=500, description="Internal Server Error")
    await h.sender.deliver_all()
    rows = await _outbox(h)
    assert rows[0].status == "failed" and "gave up" in (rows[0].last_error or "")
    assert any("ngừng thử lại" in t for t in h.texts(ADMIN))


async def test_403_is_final_and_explained_to_admins(harness: Harness) -> None:
    h = harness
    await _queue(h, CITIZEN, ["hello"])
    h.server.fail_next(
        "sendMessage", error_code=403, description="Forbidden: bot was blocked by the user"
    )
    await h.sender.deliver_all()
    [row, *_] = await _outbox(h)
    assert row.status == "failed" and row.attempts == 1
    assert any("đã chặn bot" in t for t in h.texts(ADMIN))


# ---- cards: last state wins, every copy, transfers ---------------------------------------


async def test_an_edit_delayed_by_a_5xx_cannot_bring_personal_data_back(
    harness: Harness,
) -> None:
    h = harness
    await _bind(h)
    code = await file_case(h)
    [card] = _card_ids(h, GROUP_A, code)
    h.server.fail_next("editMessageText", error_code=502, description="Bad Gateway")
    await h.press("Nhận xử lý", user=OFFICIAL_A, chat=GROUP_A)  # its edit meets the 502
    await h.press("Chuyển", user=OFFICIAL_A, chat=GROUP_A)
    await h.press("Sở Tư pháp", user=OFFICIAL_A, chat=GROUP_A)
    prompt = h.messages(GROUP_A)[-1]
    await h.say("Hộ tịch.", user=OFFICIAL_A, chat=GROUP_A, reply_to=(GROUP_A, prompt["message_id"]))
    await _until_drained(h)
    old = h.server.messages[(GROUP_A, card)]
    assert "đã chuyển" in old["text"]
    assert "Nguyễn Thị Lan" not in old["text"] and "0912" not in old["text"]
    assert not old.get("reply_markup")


async def test_waiting_card_edits_collapse_into_one(harness: Harness) -> None:
    h = harness
    await _bind(h)
    code = await file_case(h)
    case = await _case(h, code)
    # Three changes while Telegram is unreachable for the group: one edit is left to send.
    await h.press("Nhận xử lý", user=OFFICIAL_A, chat=GROUP_A, deliver=False)
    async with h.app.sessions.begin() as session:
        stored = await session.get(Case, case.id)
        assert stored is not None
        await h.app.cases.extend(
            session,
            stored,
            stored.due_at + timedelta(days=5),
            "Cần xác minh thực địa.",
            Actor("official", OFFICIAL_A, "A"),
        )
    edits = [
        r for r in await _outbox(h) if r.method == "edit_message_text" and r.status == "pending"
    ]
    assert len(edits) == 1
    await _until_drained(h)
    card = h.server.messages[(GROUP_A, _card_ids(h, GROUP_A, code)[0])]["text"]
    assert "Đã gia hạn" in card and "Lan" in card  # the last state, rendered when sent


async def test_transfer_moves_the_citizens_files_and_deletes_the_old_copies(
    harness: Harness,
) -> None:
    h = harness
    await _bind(h)
    code = await file_case(h, attachments=["photo-evidence-1"])
    old_photos = [m for m in h.messages(GROUP_A) if m.get("photo")]
    assert old_photos
    case = await _case(h, code)
    await h.press_data(
        f"ct:{case.id}:{AGENCY_B}", _card_ids(h, GROUP_A, code)[0], user=OFFICIAL_A, chat=GROUP_A
    )
    prompt = h.messages(GROUP_A)[-1]
    await h.say("Hộ tịch.", user=OFFICIAL_A, chat=GROUP_A, reply_to=(GROUP_A, prompt["message_id"]))
    await _until_drained(h)
    assert not [m for m in h.messages(GROUP_A) if m.get("photo")]  # deleted in the old group
    assert [m for m in h.messages(GROUP_B) if m.get("photo")]  # sent again to the new agency


async def test_a_reply_to_any_copy_of_a_card_answers_the_case(harness: Harness) -> None:
    """A card delivered twice (the worker died between sending and recording): a reply to the
    copy that was never recorded used to be ignored without a word."""
    h = harness
    await _bind(h)
    code = await file_case(h)
    [first] = _card_ids(h, GROUP_A, code)
    async with h.app.sessions.begin() as session:  # as if the id had never been recorded
        await session.execute(delete(MessageLink).where(MessageLink.chat_id == GROUP_A))
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.purpose == "card")
            .values(status="sending", claimed_until=h.clock.now() - timedelta(hours=1))
        )
    await h.sender.deliver_all()
    assert len(_card_ids(h, GROUP_A, code)) == 2  # the second copy
    card_row = [r for r in await _outbox(h) if r.purpose == "card"][0]
    assert card_row.unsure == 1 and card_row.duplicates == 1  # counted
    await h.say(
        "Chị chỉ cần nộp bản chính.",
        user=OFFICIAL_A,
        chat=GROUP_A,
        reply_to=h.server.messages[(GROUP_A, first)],
    )
    await h.press("Gửi", user=OFFICIAL_A, chat=GROUP_A)  # the answer's preview, confirmed
    assert (await _case(h, code)).status == Status.ANSWERED
    assert any("chỉ cần nộp bản chính" in t for t in h.texts(CITIZEN))


async def test_replies_to_a_deleted_card_are_still_delivered(harness: Harness) -> None:
    h = harness
    await _bind(h)
    code = await file_case(h)
    [card] = _card_ids(h, GROUP_A, code)
    await h.bot.delete_message(GROUP_A, card)  # an official deleted the card
    case = await _case(h, code)
    async with h.app.sessions.begin() as session:
        stored = await session.get(Case, case.id)
        assert stored is not None
        await h.app.cases.citizen_info(
            session, stored, Actor("citizen", CITIZEN, "Lan"), "Biên nhận số 123."
        )
    await _until_drained(h)
    assert any("Biên nhận số 123" in t for t in h.texts(GROUP_A))
    assert not [r for r in await _outbox(h) if r.status == "failed"]


# ---- lengths in UTF-16 units --------------------------------------------------------------


async def test_emoji_content_is_measured_as_telegram_does(harness: Harness) -> None:
    """2,100 emoji passed the 3,000-character check; the summary was then refused by Telegram
    and the citizen got no reply and could never submit."""
    h = harness
    await h.say("/phananh")
    await h.press("Phản ánh")
    await h.say("Thủ tục chậm 😡" + "😡" * 2100)
    assert "quá dài" in h.last_text(CITIZEN)
    assert all(c.ok for c in h.server.calls_to("sendMessage"))


async def test_a_long_emoji_answer_reaches_the_citizen(harness: Harness) -> None:
    h = harness
    await _bind(h)
    code = await file_case(h)
    [card] = _card_ids(h, GROUP_A, code)
    await h.say("Trả lời " + "👍" * 3490, user=OFFICIAL_A, chat=GROUP_A, reply_to=(GROUP_A, card))
    assert all(c.ok for c in h.server.calls_to("sendMessage"))  # the preview, in parts
    await h.press("Gửi", user=OFFICIAL_A, chat=GROUP_A)
    await _until_drained(h)
    assert not [r for r in await _outbox(h) if r.status == "failed"]
    received = "".join(t for t in h.texts(CITIZEN))
    assert received.count("👍") == 3490


# ---- unexpected input gets a clear answer -------------------------------------------------


async def test_a_huge_number_in_callback_data_gets_an_answer(harness: Harness) -> None:
    h = harness
    await _bind(h)
    await h.press_data("c:take:" + "9" * 30, 1, user=OFFICIAL_A, chat=GROUP_A)
    await h.press_data("r:" + "9" * 30 + ":good", 1)
    answers = h.server.calls_to("answerCallbackQuery")
    assert len(answers) == 2 and all(a.params.get("text") for a in answers)


async def test_json_nested_100000_deep_is_refused_clearly(harness: Harness) -> None:
    h = harness
    h.server.add_file("deep", b"[" * 100_000 + b"]" * 100_000, file_path="documents/deep.json")
    await h.say(user=ADMIN, document_file_id="deep", document_name="deep.json")
    assert "quá sâu" in h.last_text(ADMIN)


async def test_forget_also_clears_an_abandoned_draft(harness: Harness) -> None:
    h = harness
    await h.say("/phananh")
    await h.press("Phản ánh")
    await h.say(LONG_ENOUGH)
    await h.press("Bỏ qua")
    await h.press("Bỏ qua")
    await h.say("Nguyễn Thị Lan")
    await h.say("0912 345 678")
    await h.say("/forget")
    async with h.app.sessions() as session:
        rows = (await session.scalars(select(FsmRecord))).all()
    assert not any("0912345678" in str(r.data) for r in rows)


@pytest.mark.postgres
async def test_nul_in_a_rating_comment_on_postgresql(server: FakeTelegram) -> None:
    await reset_postgres()
    h = await Harness.start(server, POSTGRES_URL)
    try:
        await _bind(h)
        code = await file_case(h)
        [card] = _card_ids(h, GROUP_A, code)
        await h.say("Đã xử lý xong.", user=OFFICIAL_A, chat=GROUP_A, reply_to=(GROUP_A, card))
        await h.press("Gửi", user=OFFICIAL_A, chat=GROUP_A)
        await h.press("Không hài lòng")
        await h.say("Vẫn\x00 chưa xong")
        assert "Cảm ơn ý kiến" in h.last_text(CITIZEN)
        assert (await _case(h, code)).rating_comment == "Vẫn chưa xong"
    finally:
        await h.close()


# ---- copies whose delivery was unsure (the answer came after the client's timeout) --------


async def _transfer(h: Harness, code: str) -> None:
    """An official of group A transfers the case to agency B (picker, then the reason)."""
    case = await _case(h, code)
    await h.press_data(
        f"ct:{case.id}:{AGENCY_B}", _card_ids(h, GROUP_A, code)[-1], user=OFFICIAL_A, chat=GROUP_A
    )
    async with h.app.sessions() as session:
        prompt = await session.scalar(
            select(MessageLink.message_id)
            .where(MessageLink.chat_id == GROUP_A, MessageLink.kind == "prompt")
            .order_by(MessageLink.message_id.desc())
            .limit(1)
        )
    assert prompt is not None
    await h.say("Hộ tịch.", user=OFFICIAL_A, chat=GROUP_A, reply_to=(GROUP_A, prompt))
    assert (await _case(h, code)).agency == AGENCY_B


def _photos(h: Harness, group: int) -> list[int]:
    return [int(m["message_id"]) for m in h.messages(group) if m.get("photo")]


async def test_a_photo_delivered_twice_leaves_no_copy_in_the_old_group(
    server: FakeTelegram, tmp_path: Path
) -> None:
    """Telegram posted the citizen's photo but answered after the client's timeout; sent
    again, only the second copy's id was known, and a transfer deleted only that one: the
    photo stayed in the old agency's group. Meanwhile an official wrote in the group and the
    bot answered him: those messages lie between the two copies and must stay untouched."""
    h = await Harness.start(server, sqlite_url(tmp_path), telegram_timeout=1)
    try:
        await _bind(h)
        server.delay_next("sendPhoto", 2.0, chat_id=GROUP_A)
        code = await file_case(h, attachments=["photo-evidence-1"], deliver=False)
        sending = asyncio.create_task(h.sender.deliver_all())
        await server.wait_for("sendPhoto")  # the first copy is in the group, unanswered
        remark = await h.say("Ai nhận hồ sơ này?", user=OFFICIAL_A, chat=GROUP_A, deliver=False)
        await h.say("/traloi", user=OFFICIAL_A, chat=GROUP_A, deliver=False)  # usage reply
        usage = h.messages(GROUP_A)[-1]
        assert not usage.get("photo") and "/traloi" in usage["text"]
        await sending
        await _until_drained(h)
        first, second = _photos(h, GROUP_A)  # both copies reached the group
        assert first < remark["message"]["message_id"] < usage["message_id"] < second
        await _transfer(h, code)
        await _until_drained(h)
        assert _photos(h, GROUP_A) == []  # every copy deleted in the old group
        assert _photos(h, GROUP_B)  # and the photo sent to the new agency
        # Only the bot's own copies went: the official's remark and the bot's other answer
        # (looked at, its buttons-less state put back) are there as they were.
        key = (GROUP_A, remark["message"]["message_id"])
        assert server.messages[key]["text"] == "Ai nhận hồ sơ này?"
        after = server.messages[(GROUP_A, usage["message_id"])]
        assert after["text"] == usage["text"] and not after.get("reply_markup")
    finally:
        await h.close()


async def test_a_card_delivered_twice_is_scrubbed_in_every_copy(
    server: FakeTelegram, tmp_path: Path
) -> None:
    """The card's first copy was never recorded: after a transfer it kept the citizen's
    name, phone, address and live buttons in the old group."""
    h = await Harness.start(server, sqlite_url(tmp_path), telegram_timeout=1)
    try:
        await _bind(h)
        server.delay_next("sendMessage", 2.0, chat_id=GROUP_A)
        code = await file_case(h)
        await _until_drained(h)
        copies = _card_ids(h, GROUP_A, code)
        assert len(copies) == 2
        await _transfer(h, code)
        await _until_drained(h)
        for message_id in copies:
            old = server.messages[(GROUP_A, message_id)]
            assert "đã chuyển" in old["text"], old["text"]
            assert "0912" not in old["text"] and "Lê Lợi" not in old["text"]
            assert not old.get("reply_markup")
    finally:
        await h.close()


async def test_every_possible_copy_is_counted(server: FakeTelegram, tmp_path: Path) -> None:
    """A message whose answer came late twice reached the chat three times; the outbox
    counted one duplicate."""
    h = await Harness.start(server, sqlite_url(tmp_path), telegram_timeout=1)
    try:
        await _queue(h, CITIZEN, ["first"])
        await _until_drained(h)
        server.delay_next("sendMessage", 1.5, chat_id=CITIZEN, times=2)
        await _queue(h, CITIZEN, ["late twice"])
        await _until_drained(h, seconds=15)
        assert h.texts(CITIZEN).count("late twice") == 3
        row = (await _outbox(h))[-1]
        assert row.unsure == 2
        assert row.duplicates == 2
    finally:
        await h.close()


def _cut_before(h: Harness, statement_start: str, contains: str = "") -> dict[str, int]:
    """Cut this PostgreSQL connection (pg_terminate_backend) right before the first statement
    that starts with `statement_start`: the database drops the connection mid-transaction."""
    from sqlalchemy import event

    state = {"cuts": 0}

    @event.listens_for(h.app.engine.sync_engine, "before_cursor_execute")
    def _cut(conn: object, cursor: object, statement: str, *args: object) -> None:
        if state["cuts"] or not statement.lstrip().upper().startswith(statement_start):
            return
        if contains and contains not in statement:
            return
        state["cuts"] += 1
        with contextlib.suppress(Exception):  # the connection is gone, as intended
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")  # type: ignore[attr-defined]

    return state


@pytest.mark.postgres
async def test_a_delivery_is_recorded_when_postgresql_cuts_the_connection(
    server: FakeTelegram,
) -> None:
    """The connection was cut while recording a delivered message: the sender's pass died,
    the row stayed claimed ("sending") for two minutes holding the chat's later messages,
    and was then sent again."""
    await reset_postgres()
    h = await Harness.start(server, POSTGRES_URL)
    try:
        await _queue(h, CITIZEN, ["p1", "p2"])
        cut = _cut_before(h, "UPDATE OUTBOX", "sent_message_id")
        await _until_drained(h)
        assert cut["cuts"] == 1
        assert h.texts(CITIZEN) == ["p1", "p2"]
        assert [r.status for r in await _outbox(h)] == ["sent", "sent"]
    finally:
        await h.close()


@pytest.mark.postgres
async def test_an_update_cut_from_postgresql_is_answered_and_can_be_repeated(
    server: FakeTelegram,
) -> None:
    """The connection is cut while the citizen's submit is being stored: they are told that
    nothing was saved, the broken connection is discarded, and pressing again files once."""
    await reset_postgres()
    h = await Harness.start(server, POSTGRES_URL)
    try:
        await _bind(h)
        await _to_summary(h)
        cut = _cut_before(h, "INSERT INTO CASES")
        await h.press("Gửi phản ánh")
        assert cut["cuts"] == 1
        assert "chưa có gì được lưu" in h.alerts()[-1]
        assert await _codes(h) == set()
        await h.press("Gửi phản ánh")
        [code] = await _codes(h)
        await _until_drained(h)
        assert any(code in t and "Đã tiếp nhận" in t for t in h.texts(CITIZEN))
    finally:
        await h.close()
