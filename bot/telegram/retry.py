"""Direct calls (the replies a handler made, sent after its commit; the error handler's
answers; the CLI) follow Telegram's semantics: a 429 waits `retry_after` and is not counted as
a failure; a 5xx or a network error backs off; everything within a budget of time, never a
count of attempts. 4xx answers are final at once.

It never sleeps inside an update's transaction: while a `PostCommit` buffer is open the calls
are deferred (`bot.telegram.postcommit`), and reads made there fail fast instead of waiting.
Outbox deliveries do their own scheduling (they never block on a long retry_after), so they opt
out through `outbox_delivery`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

from bot.telegram import postcommit

outbox_delivery: ContextVar[bool] = ContextVar("outbox_delivery", default=False)


class RetryMiddleware(BaseRequestMiddleware):
    def __init__(
        self,
        budget: float = 30.0,
        max_backoff: float = 8.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.budget = budget
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.monotonic = monotonic

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if outbox_delivery.get() or postcommit.current.get() is not None:
            return await make_request(bot, method)
        deadline = self.monotonic() + self.budget
        backoff = 0.5
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                # Bot API: retry_after is "the number of seconds left to wait before the
                # request can be repeated"; waiting it out is not a failure.
                wait = float(exc.retry_after)
            except TelegramNetworkError as exc:
                if "timeout" in exc.message.lower() and method.__api_method__.startswith("send"):
                    # Telegram may have sent it and answered late: resending would say it
                    # twice. A reply is at most once; what must arrive goes via the outbox.
                    raise
                wait, backoff = backoff, min(backoff * 2, self.max_backoff)
            except TelegramServerError:
                wait, backoff = backoff, min(backoff * 2, self.max_backoff)
            if self.monotonic() + wait > deadline:
                raise
            await self.sleep(wait)


def install(bot: Bot, **kwargs: Any) -> Bot:
    bot.session.middleware(RetryMiddleware(**kwargs))
    return bot
