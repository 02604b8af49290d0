"""HTTP side of a running bot: the Telegram webhook (aiogram's aiohttp integration), `/healthz`
and `/metrics`.

Webhook mode (WEBHOOK_URL set): every process of the bot serves the same aiohttp app behind the
reverse proxy; each calls setWebhook on start (idempotent) with the update types the routers
use. An update is answered 200 only after `feed_update` has handled it and its transaction has
committed: a process that dies mid-update never answers, and Telegram delivers the update
again (to whichever process the proxy picks; the update id makes the second delivery a no-op
if the first had committed after all).

Polling mode serves `/healthz` and `/metrics` on METRICS_PORT when it is set.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from bot.app import App
from bot.domain.statuses import OPEN_STATUSES
from bot.observability import KnownPersonalData, Metrics
from bot.settings import Settings
from bot.telegram.middlewares import is_transient, redeliverable
from storage.repositories import CaseRepo, OutboxRepo

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# What hands a raw update to the bot and says how to answer Telegram (an HTTP status).
AcceptUpdate = Callable[[Bot, dict[str, Any]], Awaitable[int]]


def webhook_secret(settings: Settings) -> str:
    """WEBHOOK_SECRET, or one derived from the bot token (every process derives the same)."""
    if settings.server.webhook_secret is not None:
        return settings.server.webhook_secret.get_secret_value()
    token = settings.telegram.bot_token
    if token is None:
        raise ValueError("BOT_TOKEN is not set")
    digest = hmac.new(
        token.get_secret_value().encode(), b"citizen-bot webhook secret", hashlib.sha256
    )
    return digest.hexdigest()


def update_feeder(dp: Dispatcher) -> AcceptUpdate:
    """The one place a webhook update enters the bot: handled now, 200 once committed."""

    async def feed_update(bot: Bot, update: dict[str, Any]) -> int:
        update_id = update.get("update_id")
        token = redeliverable.set(True)
        try:
            await dp.feed_raw_update(bot, update)
        except Exception as exc:
            if is_transient(exc):
                # Nothing was stored: Telegram's re-delivery is the retry.
                log.warning(
                    "update %s not handled, Telegram will deliver it again: %s", update_id, exc
                )
                return 503
            # A bug or a bad update: its transaction rolled back; a re-delivery would fail
            # again (aiogram has logged the traceback).
            log.warning("update %s failed (%s); not retried", update_id, type(exc).__name__)
            return 200
        finally:
            redeliverable.reset(token)
        return 200

    return feed_update


class WebhookHandler(SimpleRequestHandler):
    """aiogram's webhook request handler: it checks Telegram's secret-token header (a wrong
    or missing one is 401 and the body is never read); the update goes to `accept`."""

    def __init__(self, dp: Dispatcher, bot: Bot, *, secret: str, accept: AcceptUpdate) -> None:
        super().__init__(dp, bot, handle_in_background=False, secret_token=secret)
        self.accept = accept

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        try:
            update = await request.json(loads=bot.session.json_loads)
        except ValueError:
            return web.Response(status=400, text="the body is not JSON")
        if not isinstance(update, dict) or "update_id" not in update:
            return web.Response(status=400, text="not an update")
        status = await self.accept(bot, update)
        return web.json_response({}, status=status)

    async def close(self) -> None:
        """The bot's session belongs to the runner, which closes it last."""


class Operations:
    """Health and metrics of one process: what `/healthz` and `/metrics` answer."""

    def __init__(
        self,
        app: App,
        metrics: Metrics | None = None,
        known: KnownPersonalData | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics or Metrics()
        self.known = known
        self.started = time.time()
        self.last_tick: float | None = None
        app.knowledge.on_search = self.metrics.observe_search

    def ticked(self) -> None:
        self.last_tick = time.time()
        self.metrics.last_tick.set(self.last_tick)

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """Database reachable, the tick completed recently, no due message left waiting."""
        server = self.app.settings.server
        checks: dict[str, Any] = {}
        now = time.time()
        try:
            async with asyncio.timeout(5):
                async with self.app.sessions() as session:
                    await session.execute(text("SELECT 1"))
                    _, _, _, oldest_due = await OutboxRepo(session).health(self.app.clock.now())
            checks["database"] = {"ok": True}
        except Exception as exc:
            checks["database"] = {"ok": False, "error": type(exc).__name__}
            oldest_due = None
        since = self.last_tick if self.last_tick is not None else self.started
        checks["scheduler"] = {
            "ok": now - since < server.health_tick_seconds,
            "last_tick_seconds_ago": None if self.last_tick is None else round(now - since, 1),
        }
        if checks["database"]["ok"]:
            waiting = (self.app.clock.now() - oldest_due).total_seconds() if oldest_due else 0.0
            checks["outbox"] = {
                "ok": waiting < server.health_outbox_seconds,
                "oldest_due_seconds": round(max(waiting, 0.0), 1),
            }
        else:
            checks["outbox"] = {"ok": False, "error": "database unreachable"}
        return all(c["ok"] for c in checks.values()), checks

    async def refresh(self) -> None:
        """Set the gauges that come from the database (outbox, cases) to their values now."""
        m = self.metrics
        now = self.app.clock.now()
        async with asyncio.timeout(5):
            async with self.app.sessions() as session:
                depth, failed, oldest, _ = await OutboxRepo(session).health(now)
                by_agency = await CaseRepo(session).open_by_agency(
                    [s.value for s in OPEN_STATUSES], now
                )
        m.outbox_depth.set(depth)
        m.outbox_failed.set(failed)
        m.outbox_oldest.set(max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
        m.cases_open.clear()
        m.cases_overdue.clear()
        for agency, open_cases, overdue in by_agency:
            m.cases_open.labels(agency).set(open_cases)
            m.cases_overdue.labels(agency).set(overdue)

    # ---- HTTP ----------------------------------------------------------------------------

    async def healthz(self, request: web.Request) -> web.Response:
        ok, checks = await self.health()
        return web.json_response(
            {"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503
        )

    async def metrics_page(self, request: web.Request) -> web.Response:
        try:
            await self.refresh()
        except Exception as exc:  # the process's own counters still answer
            log.warning("metrics: database gauges not refreshed: %s", type(exc).__name__)
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    def add_routes(self, web_app: web.Application) -> None:
        web_app.router.add_get("/healthz", self.healthz)
        web_app.router.add_get("/metrics", self.metrics_page)


def create_web_app(
    ops: Operations,
    *,
    dp: Dispatcher | None = None,
    bot: Bot | None = None,
    path: str = "/webhook",
    secret: str | None = None,
    accept: AcceptUpdate | None = None,
) -> web.Application:
    """The aiohttp app: `/healthz`, `/metrics`, and the webhook at `path` when given a bot."""
    web_app = web.Application()
    ops.add_routes(web_app)
    if dp is not None and bot is not None:
        if not secret:
            raise ValueError("the webhook needs a secret")
        handler = WebhookHandler(dp, bot, secret=secret, accept=accept or update_feeder(dp))
        handler.register(web_app, path=path)
    return web_app


async def serve(web_app: web.Application, host: str, port: int) -> web.AppRunner:
    """Listen on host:port; the caller cleans the runner up."""
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=10.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


async def run_webhook(settings: Settings, *, known: KnownPersonalData | None = None) -> None:
    """Serve Telegram's webhook with health and metrics; deliver the outbox; tick."""
    from bot.runner import background, stop_on_signals

    server = settings.server
    if not server.webhook_url:
        raise ValueError("WEBHOOK_URL is not set")
    stop = asyncio.Event()
    async with stop_on_signals(stop), background(settings, stop, known=known) as (ops, bot, dp):
        secret = webhook_secret(settings)
        web_app = create_web_app(ops, dp=dp, bot=bot, path=server.webhook_path, secret=secret)
        runner = await serve(web_app, server.webhook_host, server.webhook_port)
        try:
            await bot.set_webhook(
                server.webhook_url,
                secret_token=secret,
                allowed_updates=dp.resolve_used_update_types(),
                max_connections=server.webhook_max_connections,
            )
            log.info(
                "webhook %s set; listening on %s:%s%s",
                server.webhook_url,
                server.webhook_host,
                server.webhook_port,
                server.webhook_path,
            )
            await stop.wait()
        finally:
            # In-flight updates finish (or Telegram delivers them again); the webhook stays
            # set: the other processes keep serving it.
            await runner.cleanup()
