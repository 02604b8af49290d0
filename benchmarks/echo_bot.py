"""The reference for benchmarks/bench_updates.py: a bare aiogram echo bot.

It answers every message with its text and every button press with an empty toast, through
aiogram's default long polling (every update a task, no limit). Run by the benchmark with
BOT_TOKEN and TELEGRAM_API_BASE pointing at the fake Bot API server; not part of the bot.
"""

from __future__ import annotations

import asyncio
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, Message


async def main() -> None:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "ok")

    @dp.callback_query()
    async def press(callback: CallbackQuery) -> None:
        await callback.answer()

    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_BASE"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    await dp.start_polling(bot, handle_signals=True)


if __name__ == "__main__":
    asyncio.run(main())
