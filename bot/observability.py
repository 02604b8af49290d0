"""What the operator sees: one log line per update and Prometheus metrics (a registry per
process, built by `Metrics`, never at import time). The masked logging itself is in
`bot/logs.py` (no aiogram there), re-exported here."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

from bot.logs import (  # noqa: F401 - re-exported: the operator-facing names live here too
    MASK,
    JsonFormatter,
    KnownPersonalData,
    PersonalDataFilter,
    mask_text,
    setup_logging,
)
from bot.telegram.retry import outbox_delivery

log = logging.getLogger("bot.updates")

# ---- metrics ---------------------------------------------------------------------------------

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The process's Prometheus metrics; `/metrics` renders `registry`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)  # memory, CPU, open files of this process
        self.updates = Counter(
            "citizen_bot_updates",
            "Updates handled, by handler and outcome (ok, error, duplicate, unhandled).",
            ["handler", "outcome"],
            registry=r,
        )
        self.update_seconds = Histogram(
            "citizen_bot_update_seconds",
            "Time to handle one update (its transaction included), by handler.",
            ["handler"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.deliveries = Counter(
            "citizen_bot_deliveries",
            "Outbox sends by Telegram's answer: sent, retry_after, server_error, network_error, "
            "bad_request, forbidden.",
            ["result"],
            registry=r,
        )
        self.outbox_depth = Gauge(
            "citizen_bot_outbox_depth", "Outbox messages not delivered yet.", registry=r
        )
        self.outbox_oldest = Gauge(
            "citizen_bot_outbox_oldest_pending_seconds",
            "Age of the oldest undelivered outbox message (0 when none).",
            registry=r,
        )
        self.outbox_failed = Gauge(
            "citizen_bot_outbox_failed", "Outbox messages that failed for good.", registry=r
        )
        self.cases_open = Gauge(
            "citizen_bot_cases_open", "Open cases, by agency.", ["agency"], registry=r
        )
        self.cases_overdue = Gauge(
            "citizen_bot_cases_overdue",
            "Open cases past their due date, by agency.",
            ["agency"],
            registry=r,
        )
        self.searches = Counter(
            "citizen_bot_searches",
            "Knowledge-base searches by outcome: answered, or abstained (not sure enough).",
            ["outcome"],
            registry=r,
        )
        self.last_tick = Gauge(
            "citizen_bot_last_tick_timestamp_seconds",
            "When this process last completed the minute tick (Unix time).",
            registry=r,
        )
        self.housekeeping = Counter(
            "citizen_bot_housekeeping_deleted",
            "Rows deleted by housekeeping, by table.",
            ["table"],
            registry=r,
        )
        for outcome in ("answered", "abstained"):
            self.searches.labels(outcome)

    def observe_search(self, abstained: bool) -> None:
        self.searches.labels("abstained" if abstained else "answered").inc()


@dataclass
class _Trace:
    handler: str = "unhandled"


_trace: ContextVar[_Trace | None] = ContextVar("update_trace", default=None)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def _update_type(update: Update) -> str:
    return update.event_type if hasattr(update, "event_type") else "unknown"


def remember_people(known: KnownPersonalData, update: Update) -> None:
    """What this update tells about people goes into `known` before anything is logged."""
    event = update.event if hasattr(update, "event") else None
    people = []
    user = getattr(event, "from_user", None)
    if user is not None:
        people += [user.first_name, user.last_name, user.username, user.full_name]
    chat = getattr(event, "chat", None)
    if chat is not None and chat.type == "private":
        people += [chat.first_name, chat.last_name, chat.username]
    message = update.message or update.edited_message
    if message is not None and message.chat.type == "private":
        # In a private chat whatever is typed may be the name, phone or address asked for.
        people += [message.text, message.caption]
        if message.contact is not None:
            contact = message.contact
            people += [contact.phone_number, contact.first_name, contact.last_name]
    known.add(*people)


class UpdateLogMiddleware(BaseMiddleware):
    """Outermost: one log line and one metrics observation per update, with its latency."""

    def __init__(self, metrics: Metrics | None, known: KnownPersonalData | None) -> None:
        self.metrics = metrics
        self.known = known

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        if self.known is not None:
            remember_people(self.known, event)
        trace = _Trace()
        token = _trace.set(trace)
        started = time.perf_counter()
        outcome = "ok"
        try:
            result = await handler(event, data)
            if result is None and data.get("duplicate_update"):
                outcome = "duplicate"
            elif trace.handler == "unhandled":
                outcome = "unhandled"
            return result
        except Exception:
            outcome = "error"
            raise
        finally:
            _trace.reset(token)
            elapsed = time.perf_counter() - started
            if self.metrics is not None:
                self.metrics.updates.labels(trace.handler, outcome).inc()
                self.metrics.update_seconds.labels(trace.handler).observe(elapsed)
            log.info(
                "update %s %s by %s in %.1f ms: %s",
                event.update_id,
                _update_type(event),
                trace.handler,
                elapsed * 1000,
                outcome,
                extra={
                    "update_id": event.update_id,
                    "update_type": _update_type(event),
                    "handler": trace.handler,
                    "latency_ms": round(elapsed * 1000, 1),
                    "outcome": outcome,
                },
            )


class HandlerNameMiddleware(BaseMiddleware):
    """Inner middleware: names the handler that took the event (for the update's log line)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        trace = _trace.get()
        chosen = data.get("handler")
        if trace is not None and chosen is not None:
            callback = getattr(chosen, "callback", None)
            module = getattr(callback, "__module__", "") or ""
            name = getattr(callback, "__qualname__", None) or repr(callback)
            trace.handler = f"{module.removeprefix('handlers.')}.{name}"
        return await handler(event, data)


def name_handlers(dp: Dispatcher) -> None:
    """Let every update's log line say which handler took it (after the routers are in)."""
    namer = HandlerNameMiddleware()
    for name, observer in dp.observers.items():
        if name not in ("update", "error"):
            observer.middleware(namer)


def _delivery_result(exc: BaseException) -> str:
    if isinstance(exc, TelegramRetryAfter):
        return "retry_after"
    if isinstance(exc, TelegramServerError):
        return "server_error"
    if isinstance(exc, TelegramNetworkError | TimeoutError):
        return "network_error"
    if isinstance(exc, TelegramForbiddenError | TelegramNotFound):
        return "forbidden"
    if isinstance(exc, TelegramBadRequest):
        return "bad_request"
    return "other"


class DeliveryMetricsMiddleware(BaseRequestMiddleware):
    """Counts the outbox's sends by Telegram's answer (outbox calls only)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if not outbox_delivery.get():
            return await make_request(bot, method)
        try:
            response = await make_request(bot, method)
        except Exception as exc:
            self.metrics.deliveries.labels(_delivery_result(exc)).inc()
            raise
        self.metrics.deliveries.labels("sent").inc()
        return response
