"""Nothing a handler says reaches Telegram before the update's transaction has committed.

While an update is handled, `DbSessionMiddleware` opens a `PostCommit` buffer. Every Bot API
call a handler makes on the way (a reply, a toast, an edited keyboard) is recorded there by
`DeferUntilCommit` instead of being sent, and FSM writes to an external storage (Redis) are
held by `TransactionalStorage`. After the commit the FSM writes are applied, then the calls are
made in order; if the transaction rolls back they are dropped, so nobody is ever told "sent"
about something that was not stored, and no transaction waits on Telegram (on SQLite the
update's transaction is the database's only write lock).

A deferred call returns None to the handler: a handler that needs the message Telegram
returns (its id, to remember a prompt) passes `then=` to `PostCommit.call`, which runs the
callback with the result after sending, in a transaction of its own.

Reads (`getMe`, `getFile`, `getChat`...) are not deferred: they change nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)

# Methods that only read: answered at once, even inside a transaction.
_READS = ("get", "download")


def _is_read(method: TelegramMethod[Any]) -> bool:
    return method.__api_method__.lower().startswith(_READS)


@dataclass
class PostCommit:
    """What one update will do once its transaction has committed."""

    calls: list[tuple[TelegramMethod[Any], Callable[[Any], Awaitable[None]] | None]] = field(
        default_factory=list
    )
    # FSM writes held for an external storage: key → ("state", value) / ("data", value).
    fsm: dict[StorageKey, dict[str, Any]] = field(default_factory=dict)

    def call(
        self,
        method: TelegramMethod[Any],
        then: Callable[[Any], Awaitable[None]] | None = None,
    ) -> None:
        """Make `method` after the commit; `then(result)` runs once it succeeded."""
        self.calls.append((method, then))


current: ContextVar[PostCommit | None] = ContextVar("telegram_post_commit", default=None)


class DeferUntilCommit(BaseRequestMiddleware):
    """Bot session middleware: inside an update's transaction, calls wait for the commit."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        buffer = current.get()
        if buffer is None or _is_read(method):
            return await make_request(bot, method)
        buffer.call(method)
        return None  # type: ignore[return-value]  # the result is not known before the commit


async def run_after_commit(bot: Bot, buffer: PostCommit, storage: BaseStorage | None) -> None:
    """Apply the held FSM writes, then make the held calls in order. Failures are logged:
    the change is stored already, and one lost reply must not undo it."""
    if storage is not None and buffer.fsm:
        inner = storage.inner if isinstance(storage, TransactionalStorage) else storage
        for key, writes in buffer.fsm.items():
            try:
                if "state" in writes:
                    await inner.set_state(key, writes["state"])
                if "data" in writes:
                    await inner.set_data(key, writes["data"])
            except Exception:
                # The database has committed; the conversation stays where it was, which is
                # safe: a draft submitted again maps to the same case (its id is the key).
                log.exception("FSM write after commit failed for %s", key)
    for method, then in buffer.calls:
        try:
            result = await bot(method)  # RetryMiddleware rides out 429s and 5xx
        except TelegramAPIError as exc:
            log.warning("reply %s after commit failed: %s", method.__api_method__, exc)
            continue
        except Exception:
            log.exception("reply %s after commit failed", method.__api_method__)
            continue
        if then is not None:
            try:
                await then(result)
            except Exception:
                log.exception("after-send callback of %s failed", method.__api_method__)


class TransactionalStorage(BaseStorage):
    """An FSM storage (Redis) whose writes during an update wait for the update's commit.

    Reads see the update's own pending writes first. The database commits first, then the
    writes are applied: a crash in between leaves the conversation one step behind (never
    ahead of the database), and a draft submitted twice becomes one case.
    """

    def __init__(self, inner: BaseStorage) -> None:
        self.inner = inner

    def _pending(self, key: StorageKey) -> dict[str, Any] | None:
        buffer = current.get()
        if buffer is None:
            return None
        return buffer.fsm.setdefault(key, {})

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        pending = self._pending(key)
        if pending is None:
            await self.inner.set_state(key, state)
            return
        pending["state"] = state.state if isinstance(state, State) else state

    async def get_state(self, key: StorageKey) -> str | None:
        buffer = current.get()
        if buffer is not None and "state" in buffer.fsm.get(key, {}):
            value = buffer.fsm[key]["state"]
            return value if value is None else str(value)
        return await self.inner.get_state(key)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        pending = self._pending(key)
        if pending is None:
            await self.inner.set_data(key, data)
            return
        pending["data"] = dict(data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        buffer = current.get()
        if buffer is not None and "data" in buffer.fsm.get(key, {}):
            return dict(buffer.fsm[key]["data"])
        return await self.inner.get_data(key)

    async def close(self) -> None:
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:
        # The wrapped storage's own API (e.g. RedisStorage.redis for the event isolation).
        return getattr(self.inner, name)
