"""Direct replies (the conversation's next question, validation messages) ride out a 429
or a Telegram 5xx instead of failing the update. Outbox deliveries do their own scheduling
(they never block on a long retry_after), so they opt out through `outbox_delivery`."""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter, TelegramServerError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

outbox_delivery: ContextVar[bool] = ContextVar("outbox_delivery", default=False)


class RetryMiddleware(BaseRequestMiddleware):
    def __init__(self, attempts: int = 3, max_wait: float = 10.0) -> None:
        self.attempts = attempts
        self.max_wait = max_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if outbox_delivery.get():
            return await make_request(bot, method)
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                # Telegram says how long to wait (Bot API FAQ: about 1 message/s per chat).
                if attempt == self.attempts or exc.retry_after > self.max_wait:
                    raise
                await asyncio.sleep(exc.retry_after)
            except TelegramServerError:
                if attempt == self.attempts:
                    raise
                await asyncio.sleep(0.5 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover


def install(bot: Bot, **kwargs: Any) -> Bot:
    bot.session.middleware(RetryMiddleware(**kwargs))
    return bot
