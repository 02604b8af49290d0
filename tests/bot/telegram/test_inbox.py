"""The inbox: updates stored on receipt, handled by workers, retried, never handled twice."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import create_inbox
from bot.clock import FixedClock
from bot.telegram.inbox import InboxWorker, chat_of, store_updates
from storage.models import InboxUpdate
from storage.repositories import InboxRepo
from storage.repositories.inbox import ClaimedUpdate
from tests.fake_telegram import make_callback_update, make_message_update
from tests.harness import ADMIN, CITIZEN, GROUP_A, OFFICIAL_A, START, Harness


async def _rows(h: Harness) -> list[InboxUpdate]:
    async with h.app.sessions() as session:
        return list(await session.scalars(select(InboxUpdate).order_by(InboxUpdate.update_id)))


def _answers(h: Harness, chat: int) -> list[str]:
    return [
        c.params["text"] for c in h.server.calls_to("sendMessage") if c.ok and c.chat_id == chat
    ]


def test_chat_of_an_update() -> None:
    assert chat_of(make_message_update("hi", chat_id=CITIZEN)) == CITIZEN
    assert chat_of(make_message_update("hi", chat_id=GROUP_A, user_id=OFFICIAL_A)) == GROUP_A
    press = make_callback_update("m:help", user_id=CITIZEN, chat_id=CITIZEN, message_id=3)
    assert chat_of(press) == CITIZEN
    assert chat_of({"update_id": 1, "poll": {"id": "p"}}) is None


AGENCIES_CSV = "code,name,chat_id,parent\nSTP-X,Sở Tư pháp tỉnh X,,\n"


def admin_sends_agencies(h: Harness) -> dict[str, object]:
    """An admin's upload of the agency directory (the bot downloads it: getFile)."""
    h.server.add_file("ag", AGENCIES_CSV.encode(), file_path="documents/co_quan.csv")
    return make_message_update(chat_id=ADMIN, document_file_id="ag", document_name="co_quan.csv")


async def test_an_update_whose_handler_failed_is_not_recorded_as_handled(
    harness: Harness,
) -> None:
    # The record that an update was handled belongs to the handler's transaction: when the
    # handler fails (here Telegram fails the file download), Telegram's re-delivery of the
    # update is handled, not skipped as if it had been.
    harness.server.fail_next("getFile", error_code=500, description="Internal Server Error")
    update = admin_sends_agencies(harness)
    await harness.dp.feed_raw_update(harness.bot, update)
    assert harness.last_text(ADMIN).startswith("Xin lỗi, đã có lỗi")  # nothing was saved
    await harness.dp.feed_raw_update(harness.bot, update)  # re-delivered
    assert "Kiểm tra thử" in harness.last_text(ADMIN)
    answers = len(_answers(harness, ADMIN))
    await harness.dp.feed_raw_update(harness.bot, update)  # and once handled, it is skipped
    assert len(_answers(harness, ADMIN)) == answers


async def test_stored_updates_are_handled_once_even_if_delivered_twice(harness: Harness) -> None:
    clock = FixedClock(START)
    worker = create_inbox(harness.dp, harness.bot, harness.app, clock=clock)
    first = make_message_update("dang ky ket hon can gi", chat_id=CITIZEN)
    second = make_message_update("/help", chat_id=CITIZEN)
    assert await store_updates(harness.app.sessions, harness.bot.id, [first, second], clock) == 2
    # Telegram re-delivers a batch whose confirmation was lost: nothing new is stored.
    assert await store_updates(harness.app.sessions, harness.bot.id, [first], clock) == 0
    assert await worker.drain() == 2
    assert await worker.drain() == 0
    answers = _answers(harness, CITIZEN)
    assert len(answers) == 2 and "kết hôn" in answers[0]  # in the order they came
    assert [(r.update_id, r.status, r.chat_id) for r in await _rows(harness)] == [
        (first["update_id"], "done", CITIZEN),
        (second["update_id"], "done", CITIZEN),
    ]


async def test_a_worker_that_died_leaves_its_updates_to_another_after_the_claim(
    harness: Harness,
) -> None:
    clock = FixedClock(START)
    update = make_message_update("dang ky ket hon can gi", chat_id=CITIZEN)
    await store_updates(harness.app.sessions, harness.bot.id, [update], clock)
    async with harness.app.sessions.begin() as session:  # a worker claims it, then dies
        [claimed] = await InboxRepo(session).claim(
            harness.bot.id, clock.now(), until=clock.now() + timedelta(minutes=5),
            token="dead", limit=10,
        )  # fmt: skip
    assert claimed.update_id == update["update_id"]
    other = create_inbox(harness.dp, harness.bot, harness.app, clock=clock)
    assert await other.drain() == 0  # still claimed
    clock.advance(minutes=6)
    assert await other.drain() == 1
    assert len(_answers(harness, CITIZEN)) == 1


async def test_an_update_that_keeps_failing_is_kept_as_failed_and_the_citizen_is_told(
    harness: Harness,
) -> None:
    clock = FixedClock(START)
    worker = InboxWorker(
        harness.dp,
        harness.bot,
        harness.app.sessions,
        clock=clock,
        max_attempts=3,
        apology=lambda chat: harness.app.renderer.t("common.unexpected", "vi"),
    )
    broken = {
        "update_id": 777_001,
        "message": {
            "message_id": 1,
            "date": "not a date",
            "chat": {"id": CITIZEN, "type": "private"},
            "text": "xin chao",
        },
    }
    await store_updates(harness.app.sessions, harness.bot.id, [broken], clock)
    for attempt in (1, 2):
        assert await worker.drain() == 1
        [row] = await _rows(harness)
        assert (row.status, row.attempts) == ("pending", attempt)
        assert "ValidationError" in (row.last_error or "")
        assert await worker.drain() == 0  # waits for its backoff
        clock.advance(seconds=2.0**attempt)
    assert await worker.drain() == 1
    [row] = await _rows(harness)
    assert (row.status, row.attempts) == ("failed", 3)
    await harness.sender.deliver_all()
    [apology] = _answers(harness, CITIZEN)
    assert apology.startswith("Xin lỗi") and "thử lại" in apology


async def test_handled_updates_are_pruned_by_housekeeping(harness: Harness) -> None:
    from bot.housekeeping import housekeep

    clock = FixedClock(START - timedelta(days=3))
    old = make_message_update("/help", chat_id=CITIZEN)
    await store_updates(harness.app.sessions, harness.bot.id, [old], clock)
    await create_inbox(harness.dp, harness.bot, harness.app, clock=clock).drain()
    clock.set(START)
    new = make_message_update("/help", chat_id=CITIZEN)
    await store_updates(harness.app.sessions, harness.bot.id, [new], clock)
    # RETENTION_UPDATES_DAYS: Telegram re-delivers an update for about a day.
    assert harness.app.settings.retention.updates_days < 3
    assert (await housekeep(harness.app))["inbox"] == 1
    assert [r.update_id for r in await _rows(harness)] == [new["update_id"]]


async def test_a_claim_that_found_all_there_was_waits_for_the_next_update(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At a steady rate each update comes alone: a claim that took fewer than it had room for
    # took everything due, and claiming again at once only costs a transaction per update.
    claims: list[int] = []
    real_claim = InboxRepo.claim

    async def counted(self: InboxRepo, *args: Any, **kwargs: Any) -> list[ClaimedUpdate]:
        rows = await real_claim(self, *args, **kwargs)
        claims.append(len(rows))
        return rows

    monkeypatch.setattr(InboxRepo, "claim", counted)
    worker = create_inbox(harness.dp, harness.bot, harness.app)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop, idle=30))
    for n in range(3):
        await asyncio.sleep(0.05)
        update = make_message_update(f"dang ky khai sinh {n}", chat_id=CITIZEN + n)
        await store_updates(harness.app.sessions, harness.bot.id, [update], worker.clock)
        worker.notify()
        for _ in range(200):
            if len(_answers(harness, CITIZEN + n)) == 1:
                break
            await asyncio.sleep(0.01)
        assert len(_answers(harness, CITIZEN + n)) == 1
    await asyncio.sleep(0.1)
    stop.set()
    await task
    assert claims == [0, 1, 1, 1]  # the start's look, then one claim per update


@contextlib.contextmanager
def _commits(h: Harness) -> Iterator[list[int]]:
    """Counts the transactions the bot's engine commits inside the block."""
    from sqlalchemy import event

    seen = [0]

    def commit(conn: object) -> None:
        seen[0] += 1

    event.listen(h.app.engine.sync_engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(h.app.engine.sync_engine, "commit", commit)


async def test_a_polled_batch_is_stored_and_claimed_in_one_transaction(harness: Harness) -> None:
    # Before: the store committed, then the claim loop was woken and claimed in a transaction
    # of its own — two transactions and a wake-up for every update at a steady rate.
    worker = create_inbox(harness.dp, harness.bot, harness.app)
    batch = [
        make_message_update("dang ky khai sinh", chat_id=CITIZEN),
        make_message_update("dang ky ket hon", chat_id=CITIZEN + 1),
    ]
    with _commits(harness) as commits:
        assert await worker.receive(batch) == 2
    assert commits[0] == 1
    assert {r.claim_token for r in await _rows(harness)} == {worker.token}
    assert not worker._wakeup.is_set()  # it took all that was due: nothing to look for
    await worker.drain()
    assert len(_answers(harness, CITIZEN)) == len(_answers(harness, CITIZEN + 1)) == 1
    assert await worker.receive(batch) == 0  # Telegram sent it again: known, not handled again
    await worker.drain()
    assert len(_answers(harness, CITIZEN)) == 1


async def test_a_batch_bigger_than_the_room_leaves_the_rest_to_the_claim_loop(
    harness: Harness,
) -> None:
    worker = InboxWorker(harness.dp, harness.bot, harness.app.sessions, concurrency=1)
    batch = [make_message_update(f"khai sinh {n}", chat_id=CITIZEN + n) for n in range(6)]
    assert await worker.receive(batch) == 6
    claimed = [r for r in await _rows(harness) if r.claim_token == worker.token]
    assert len(claimed) == worker.capacity == 4  # the oldest four
    assert [r.update_id for r in claimed] == [u["update_id"] for u in batch[:4]]
    assert worker._wakeup.is_set()  # the loop is told to look for the rest
    await worker.drain()
    assert all(len(_answers(harness, CITIZEN + n)) == 1 for n in range(6))


async def test_a_batch_received_while_the_worker_stops_is_handed_back(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The poller's receive was under way when the worker stopped: its claim committed after
    # the worker had handed back its updates, and they stayed claimed by a stopped worker for
    # 30 s instead of going to the next start at once.
    import bot.telegram.inbox as inbox

    real_durably = inbox.durably

    async def slow_durably(session: Any) -> None:
        await asyncio.sleep(0.2)  # the transaction is slow to begin: the stop comes meanwhile
        await real_durably(session)

    monkeypatch.setattr(inbox, "durably", slow_durably)
    worker = create_inbox(harness.dp, harness.bot, harness.app)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop, idle=30))
    await asyncio.sleep(0.05)
    receiving = asyncio.create_task(
        worker.receive([make_message_update("dang ky khai sinh", chat_id=CITIZEN)])
    )
    await asyncio.sleep(0.05)
    stop.set()
    await running
    assert await receiving == 1
    [row] = await _rows(harness)
    assert (row.status, row.claim_token, row.claimed_until) == ("pending", None, None)
    other = create_inbox(harness.dp, harness.bot, harness.app)
    assert await other.drain() == 1  # the next start handles it at once
    assert len(_answers(harness, CITIZEN)) == 1


async def test_a_claim_that_fails_at_receipt_still_stores_the_batch(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The batch must be stored for the poller to confirm it; the claim can wait for the loop.
    async def broken(self: InboxRepo, *args: Any, **kwargs: Any) -> list[ClaimedUpdate]:
        raise RuntimeError("claim failed")

    worker = create_inbox(harness.dp, harness.bot, harness.app)
    with monkeypatch.context() as patch:
        patch.setattr(InboxRepo, "claim", broken)
        assert await worker.receive([make_message_update("ket hon", chat_id=CITIZEN)]) == 1
    [row] = await _rows(harness)
    assert (row.status, row.claim_token) == ("pending", None)
    assert worker._wakeup.is_set()  # the loop is told to claim it
    assert await worker.drain() == 1
    assert len(_answers(harness, CITIZEN)) == 1
