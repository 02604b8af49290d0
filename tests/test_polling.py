"""`citizen-bot run` for real: long polling the fake Bot API server over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from bot.runner import run_polling
from tests.fake_telegram import FakeTelegram, make_message_update
from tests.harness import CITIZEN, make_settings, sqlite_url


async def test_polling_answers_a_question_and_stops_cleanly(
    server: FakeTelegram, tmp_path: Path
) -> None:
    settings = make_settings(server, sqlite_url(tmp_path))
    task = asyncio.create_task(run_polling(settings))
    try:
        server.push_update(make_message_update("/start", chat_id=CITIZEN))
        server.push_update(make_message_update("dang ky ket hon can gi", chat_id=CITIZEN))
        await server.wait_for(
            lambda c: c.method == "sendMessage" and "kết hôn" in c.params.get("text", ""),
            timeout=20,
        )
        texts = [c.params["text"] for c in server.calls_to("sendMessage") if c.chat_id == CITIZEN]
        assert texts[0].startswith("Xin chào") and "📄" in texts[1]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
