"""`citizen-bot run` for real: long polling the fake Bot API server over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from sqlalchemy import select

from bot.runner import run_polling
from bot.settings import Settings
from storage.db import create_engine, create_session_factory
from storage.models import Case, InboxUpdate
from tests.fake_telegram import (
    FakeTelegram,
    make_callback_update,
    make_message_update,
    next_update_id,
)
from tests.harness import ADMIN, CITIZEN, make_settings, sqlite_url

QUESTIONS = [
    json.loads(line)["q"]
    for line in (Path(__file__).parents[1] / "knowledge/data/eval_questions.jsonl")
    .read_text("utf-8")
    .splitlines()
    if line
]


@contextlib.asynccontextmanager
async def polling(settings: Settings) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(run_polling(settings, handle_signals=False))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def answers_per_chat(server: FakeTelegram) -> Counter[int]:
    return Counter(c.chat_id for c in server.calls_to("sendMessage") if c.ok)


async def until(predicate: Callable[[], bool], within: float) -> None:
    """Wait until `predicate()` holds (the fake server has no event for what it checks)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate() and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


async def wait_for_answers(server: FakeTelegram, chats: list[int], within: float) -> None:
    await until(lambda: all(answers_per_chat(server)[c] for c in chats), within)


async def test_polling_answers_a_question_and_stops_cleanly(
    server: FakeTelegram, tmp_path: Path
) -> None:
    settings = make_settings(server, sqlite_url(tmp_path))
    async with polling(settings):
        server.push_update(make_message_update("/start", chat_id=CITIZEN))
        server.push_update(make_message_update("dang ky ket hon can gi", chat_id=CITIZEN))
        await server.wait_for(
            lambda c: c.method == "sendMessage" and "kết hôn" in c.params.get("text", ""),
            timeout=20,
        )
        texts = [c.params["text"] for c in server.calls_to("sendMessage") if c.chat_id == CITIZEN]
        assert texts[0].startswith("Xin chào") and "📄" in texts[1]


async def test_a_flood_over_a_slow_api_is_answered_in_full_exactly_once(
    server: FakeTelegram, tmp_path: Path
) -> None:
    # Telegram answers in 0.1–0.3 s from Vietnam; here every message the bot sends takes
    # 0.25 s. 200 citizens ask at once: each gets one answer, none is lost or answered twice.
    server.delay_next("sendMessage", 0.25, times=None)
    settings = make_settings(server, sqlite_url(tmp_path))
    chats = [20_000 + i for i in range(200)]
    async with polling(settings):
        server.push_updates(
            make_message_update(QUESTIONS[i % len(QUESTIONS)], chat_id=chat)
            for i, chat in enumerate(chats)
        )
        await wait_for_answers(server, chats, within=120)
    answered = answers_per_chat(server)
    assert [c for c in chats if answered[c] == 0] == []  # nobody is left without an answer
    assert [c for c in chats if answered[c] > 1] == []  # and nobody is answered twice
    assert server.pending_updates == []  # every update was confirmed, once stored


async def test_a_filing_sent_in_one_burst_is_handled_in_order(
    server: FakeTelegram, tmp_path: Path
) -> None:
    # Every step of a conversation arrives in one getUpdates batch, among other citizens'
    # questions: one chat's updates are handled in the order they came.
    settings = make_settings(server, sqlite_url(tmp_path))
    steps = [
        make_message_update("/phananh", chat_id=CITIZEN),
        make_callback_update("fk:phan_anh", user_id=CITIZEN, chat_id=CITIZEN, message_id=999_999),
        make_message_update(
            "Bộ phận một cửa yêu cầu nộp thêm giấy tờ không có trong quy định.", chat_id=CITIZEN
        ),
        make_callback_update("fd:done:", user_id=CITIZEN, chat_id=CITIZEN, message_id=999_999),
        make_callback_update("fd:skip:", user_id=CITIZEN, chat_id=CITIZEN, message_id=999_999),
        make_message_update("Nguyễn Thị Lan", chat_id=CITIZEN),
        make_message_update("0912 345 678", chat_id=CITIZEN),
        make_message_update("12 Lê Lợi, phường An Hòa", chat_id=CITIZEN),
        make_callback_update("fd:submit:", user_id=CITIZEN, chat_id=CITIZEN, message_id=999_999),
    ]
    others = [make_message_update(q, chat_id=30_000 + i) for i, q in enumerate(QUESTIONS[:40])]
    async with polling(settings):
        mixed = [u for pair in zip(steps, others[: len(steps)], strict=True) for u in pair]
        mixed += others[len(steps) :]
        for update in mixed:  # Telegram numbers updates in the order they happen
            update["update_id"] = next_update_id()
        server.push_updates(mixed)
        ack = await server.wait_for(
            lambda c: (
                c.method == "sendMessage"
                and c.chat_id == CITIZEN
                and "Mã hồ sơ" in c.params.get("text", "")
            ),
            timeout=60,
        )
    engine = create_engine(settings.database.database_url)
    try:
        async with create_session_factory(engine)() as session:
            [case] = (await session.scalars(select(Case))).all()
    finally:
        await engine.dispose()
    assert case.code in ack.params["text"] and case.citizen_address.startswith("12 Lê Lợi")


async def test_a_failed_handler_is_retried_until_it_succeeds(
    server: FakeTelegram, tmp_path: Path
) -> None:
    # Telegram fails the file download of an admin's upload twice: the update is kept and
    # handled again (not dropped once its offset was confirmed), and the admin gets the report
    # without ever being told to try again.
    settings = make_settings(server, sqlite_url(tmp_path))
    server.add_file("ag", "code,name\nSTP-X,Sở Tư pháp tỉnh X\n".encode(), file_path="d/a.csv")
    server.fail_next("getFile", error_code=500, description="Internal Server Error", times=2)
    server.push_update(
        make_message_update(chat_id=ADMIN, document_file_id="ag", document_name="co_quan.csv")
    )
    async with polling(settings):
        await server.wait_for(
            lambda c: (
                c.method == "sendMessage"
                and c.chat_id == ADMIN
                and "Kiểm tra thử" in c.params.get("text", "")
            ),
            timeout=60,
        )
    to_admin = [c.params["text"] for c in server.calls_to("sendMessage") if c.chat_id == ADMIN]
    assert not [t for t in to_admin if t.startswith("Xin lỗi, đã có lỗi")]
    assert len(server.calls_to("getFile")) == 3


async def test_updates_stored_before_a_stop_are_handled_after_the_restart(
    server: FakeTelegram, tmp_path: Path
) -> None:
    server.delay_next("sendMessage", 0.3, times=None)
    settings = make_settings(server, sqlite_url(tmp_path))
    chats = [40_000 + i for i in range(60)]
    async with polling(settings):
        server.push_updates(
            make_message_update(QUESTIONS[i], chat_id=chat) for i, chat in enumerate(chats)
        )
        # Stored and confirmed to Telegram: from here on they exist only in our database.
        await until(lambda: not server.pending_updates, within=60)
    assert sum(answers_per_chat(server)[c] for c in chats) < len(chats)  # stopped midway
    async with polling(settings):
        await wait_for_answers(server, chats, within=120)
    answered = answers_per_chat(server)
    assert [c for c in chats if answered[c] != 1] == []
    engine = create_engine(settings.database.database_url)
    try:
        async with create_session_factory(engine)() as session:
            statuses = Counter((await session.scalars(select(InboxUpdate.status))).all())
    finally:
        await engine.dispose()
    assert statuses == {"done": len(chats)}
