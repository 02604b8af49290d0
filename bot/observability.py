"""What the operator sees: structured logs with personal data masked, one line per update,
and Prometheus metrics (a registry per process, built by `Metrics`, never at import time).

Masking is belt and braces. SQLAlchemy engines are created with ``hide_parameters=True`` so a
database error never carries the statement's values; the `PersonalDataFilter` on the log
handlers then masks, in every record (message, arguments, traceback): phone numbers, e-mail
addresses, statement parameters, pydantic's ``input_value=…``, and every string a citizen
typed or Telegram told us about a person (names, addresses, contacts) recently — names and
addresses have no shape a pattern could find, so the filter remembers what it must not print.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
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

from bot.telegram.retry import outbox_delivery

log = logging.getLogger("bot.updates")

MASK = "***"

# Vietnamese numbers: 0 or +84/84 and 9-10 more digits, spaces, dots or dashes between groups.
_PHONE = re.compile(r"(?<![\w+])(?:\+?84|0)(?:[ .-]?\d){8,10}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# SQLAlchemy's error text: "[parameters: (...)]" up to the next "(Background on this error" or
# the end; with hide_parameters it already says "[SQL parameters hidden …]".
_SQL_PARAMETERS = re.compile(r"\[parameters: .*?\](?=\s*(?:\n|\(Background|$))", re.DOTALL)
# pydantic's validation errors quote the offending input.
_INPUT_VALUE = re.compile(r"input_value=(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\{.*?\}|\S+)")
# Strings shorter than this are not remembered: "An" would mask half of every address.
_MIN_KNOWN = 3


class KnownPersonalData:
    """Recently seen personal strings (names, typed texts, contacts), most recent last."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, None] = OrderedDict()

    def add(self, *values: str | None) -> None:
        for value in values:
            for part in _parts(value):
                self._items[part] = None
                self._items.move_to_end(part)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def __iter__(self) -> Any:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)


def _parts(value: str | None) -> list[str]:
    """The value and its lines and comma-separated pieces (an address is stored as typed,
    but may be quoted in part)."""
    if not value:
        return []
    text = value.strip()
    out = {text}
    for line in text.splitlines():
        out.add(line.strip())
        out.update(piece.strip() for piece in line.split(","))
    # As JSON with \u escapes (stored conversation data), and as Python's repr of that.
    for piece in list(out):
        escaped = json.dumps(piece)[1:-1]
        if escaped != piece:
            out.update((escaped, escaped.replace("\\", "\\\\")))
    return [p for p in out if len(p) >= _MIN_KNOWN]


def mask_text(text: str, known: Iterable[str] = ()) -> str:
    """`text` with personal data replaced by ***."""
    if not text:
        return text
    text = _SQL_PARAMETERS.sub("[parameters: " + MASK + "]", text)
    text = _INPUT_VALUE.sub("input_value=" + MASK, text)
    for value in sorted(known, key=len, reverse=True):
        if value in text:
            # Whole words only ("An" in a name must not eat "An Hòa"); an escaped value may
            # end in a letter of an escape sequence, so only letters count as a boundary.
            text = re.sub(rf"(?<![^\W\d_]){re.escape(value)}(?![^\W\d_])", MASK, text)
    text = _EMAIL.sub(MASK, text)
    return _PHONE.sub(MASK, text)


class PersonalDataFilter(logging.Filter):
    """Masks personal data in a record before any handler formats it."""

    def __init__(self, known: KnownPersonalData) -> None:
        super().__init__()
        self.known = known

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_masked", False):
            return True
        known = list(self.known)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is
            message = str(record.msg)
        record.msg = mask_text(message, known)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = mask_text(text, known)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text, known)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info, known)
        for key in _EXTRA_FIELDS:
            value = record.__dict__.get(key)
            if isinstance(value, str):
                record.__dict__[key] = mask_text(value, known)
        record._masked = True
        return True


# Fields our log lines add with `extra=` (JSON keys of their own).
_EXTRA_FIELDS = (
    "update_id",
    "update_type",
    "handler",
    "latency_ms",
    "outcome",
    "chat_kind",
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, our extra fields, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _EXTRA_FIELDS:
            if key in record.__dict__:
                entry[key] = record.__dict__[key]
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(
    log_format: str = "text", level: str = "INFO", known: KnownPersonalData | None = None
) -> KnownPersonalData:
    """Root logging for a long-running process: one handler on stderr, masking first."""
    known = known if known is not None else KnownPersonalData()
    masking = PersonalDataFilter(known)
    root = logging.getLogger()
    if root.handlers:
        # Logging was set up by whoever runs us (a test runner, an embedding program): keep
        # their handlers, masked too.
        for existing in root.handlers:
            if not any(isinstance(f, PersonalDataFilter) for f in existing.filters):
                existing.addFilter(masking)
        return known
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(masking)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # aiogram writes its own "Update id=… is handled" line per update; ours carries the
    # handler and the outcome, so only aiogram's warnings and errors are kept.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    # aiosqlite's DEBUG lines repeat every statement with its values.
    logging.getLogger("aiosqlite").setLevel(max(root.level, logging.INFO))
    return known


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
