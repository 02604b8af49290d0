"""Webhook mode, /healthz and /metrics over real HTTP, against the fake Bot API server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.runner import run_polling
from bot.settings import ServerSettings
from bot.web import Operations, create_web_app, run_webhook, serve, webhook_secret
from storage.db import create_session_factory
from storage.models import InboxUpdate, OutboxMessage
from tests.fake_telegram import FakeTelegram, make_message_update
from tests.harness import CITIZEN, Harness, file_case, make_settings, sqlite_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def post(url: str, body: Any, headers: dict[str, str] | None = None) -> int:
    async with aiohttp.ClientSession() as http, http.post(url, json=body, headers=headers) as r:
        return r.status


@contextlib.asynccontextmanager
async def webhook_of(h: Harness, secret: str = "s3cret-Token_1") -> AsyncIterator[str]:
    """The harness's dispatcher behind the production webhook app; yields its base URL."""
    ops = Operations(h.app)
    port = free_port()
    web_app = create_web_app(ops, dp=h.dp, bot=h.bot, path="/tg/hook", secret=secret)
    runner = await serve(web_app, "127.0.0.1", port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def handled(h: Harness) -> int:
    async with h.app.sessions() as session:
        done = select(func.count()).where(InboxUpdate.status == "done")
        return int(await session.scalar(done) or 0)


async def test_a_wrong_or_missing_secret_is_401_and_nothing_is_processed(harness: Harness) -> None:
    update = make_message_update("/start", chat_id=CITIZEN)
    async with webhook_of(harness) as base:
        url = base + "/tg/hook"
        assert await post(url, update) == 401
        assert await post(url, update, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}) == 401
        assert await post(url, update, {"X-Telegram-Bot-Api-Secret-Token": ""}) == 401
        assert await handled(harness) == 0
        assert harness.server.calls_to("sendMessage") == []
        ok = await post(url, update, {"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"})
        assert ok == 200
        # Answered 200 only once handled: the update id is recorded by then.
        assert await handled(harness) == 1
        assert (
            await post(url, "not an update", {"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"})
            == 400
        )


async def test_the_webhook_answers_503_when_the_database_is_away(harness: Harness) -> None:
    """Telegram delivers the update again later; a 200 would lose it."""
    async with webhook_of(harness) as base:
        await harness.app.engine.dispose()
        unreachable = create_async_engine(
            f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/x"
        )
        real = harness.app.sessions
        # The dispatcher's session middleware opens the update's session: point it at a
        # database that does not answer.
        for m in harness.dp.update.outer_middleware:
            if hasattr(m, "sessions"):
                m.sessions = create_session_factory(unreachable)
        try:
            update = make_message_update("/start", chat_id=CITIZEN)
            status = await post(
                base + "/tg/hook", update, {"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"}
            )
            assert status == 503
        finally:
            for m in harness.dp.update.outer_middleware:
                if hasattr(m, "sessions"):
                    m.sessions = real
            await unreachable.dispose()


async def test_run_webhook_sets_the_webhook_and_serves_updates_health_and_metrics(
    server: FakeTelegram, tmp_path: Path
) -> None:
    port = free_port()
    settings = make_settings(server, sqlite_url(tmp_path))
    settings.server = ServerSettings(
        webhook_url=f"http://127.0.0.1:{port}/telegram/hook", webhook_port=port
    )
    task = asyncio.create_task(run_webhook(settings))
    try:
        call = await server.wait_for("setWebhook", timeout=30)
        assert call.params["url"] == f"http://127.0.0.1:{port}/telegram/hook"
        assert call.params["secret_token"] == webhook_secret(settings)
        # The update types the routers use, no more (Bot API setWebhook allowed_updates).
        assert set(call.params["allowed_updates"]) == {
            "message",
            "callback_query",
            "my_chat_member",
        }
        server.push_update(make_message_update("/start", chat_id=CITIZEN))
        server.push_update(make_message_update("dang ky ket hon can gi", chat_id=CITIZEN))
        server.push_update(make_message_update("xin cấp phép nuôi khủng long", chat_id=CITIZEN))
        await server.wait_delivered(timeout=20)
        assert {d.status for d in server.webhook_deliveries} == {200}
        texts = [c.params["text"] for c in server.calls_to("sendMessage") if c.chat_id == CITIZEN]
        assert texts[0].startswith("Xin chào") and "📄" in texts[1]

        status, body = await get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200, body
        status, metrics = await get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert 'citizen_bot_updates_total{handler="common.start",outcome="ok"} 1.0' in metrics
        assert 'citizen_bot_searches_total{outcome="answered"} 1.0' in metrics
        assert 'citizen_bot_searches_total{outcome="abstained"} 1.0' in metrics
        assert "citizen_bot_update_seconds_bucket" in metrics
        assert "\ncitizen_bot_outbox_depth " in metrics
        assert "citizen_bot_last_tick_timestamp_seconds" in metrics
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_polling_serves_health_and_metrics_on_metrics_port(
    server: FakeTelegram, tmp_path: Path
) -> None:
    port = free_port()
    settings = make_settings(server, sqlite_url(tmp_path))
    settings.server = ServerSettings(metrics_port=port)
    task = asyncio.create_task(run_polling(settings))
    try:
        server.push_update(make_message_update("/start", chat_id=CITIZEN))
        await server.wait_for("sendMessage", timeout=20)
        for _ in range(100):
            with contextlib.suppress(aiohttp.ClientError):
                status, metrics = await get(f"http://127.0.0.1:{port}/metrics")
                if 'handler="common.start"' in metrics:
                    break
            await asyncio.sleep(0.1)
        assert 'citizen_bot_updates_total{handler="common.start",outcome="ok"} 1.0' in metrics
        status, body = await get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and '"status": "ok"' in body
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_metrics_count_cases_by_agency_and_the_outbox(harness: Harness) -> None:
    h = harness
    ops = Operations(h.app)
    code = await file_case(h)
    await ops.refresh()
    m = ops.metrics
    assert m.cases_open.labels("TTPVHCC")._value.get() == 1
    assert m.cases_overdue.labels("TTPVHCC")._value.get() == 0
    h.clock.advance(days=15)
    async with h.app.sessions.begin() as session:
        session.add(
            OutboxMessage(
                chat_id=CITIZEN,
                method="send_message",
                payload={"text": "x"},
                status="pending",
                attempts=0,
                next_attempt_at=h.clock.now() - timedelta(minutes=20),
                created_at=h.clock.now() - timedelta(minutes=20),
                purpose="",
            )
        )
    await ops.refresh()
    assert m.cases_overdue.labels("TTPVHCC")._value.get() == 1, code
    assert m.outbox_depth._value.get() == 1
    assert m.outbox_oldest._value.get() == pytest.approx(20 * 60)
    # A due message waiting for 20 minutes is a stuck outbox.
    ok, checks = await ops.health()
    assert not ok and not checks["outbox"]["ok"] and checks["database"]["ok"], checks


async def test_health_fails_when_the_database_is_unreachable_or_the_tick_is_late(
    harness: Harness,
) -> None:
    ops = Operations(harness.app)
    ok, checks = await ops.health()
    assert ok, checks
    ops.started -= 3600  # an hour up and never ticked
    ok, checks = await ops.health()
    assert not ok and not checks["scheduler"]["ok"]
    ops.ticked()
    assert (await ops.health())[0]
    unreachable = create_async_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/x")
    ops.app.sessions = create_session_factory(unreachable)
    try:
        ok, checks = await ops.health()
        assert not ok and not checks["database"]["ok"] and not checks["outbox"]["ok"]
    finally:
        await unreachable.dispose()
