"""The whole bot against the fake Bot API server: production dispatcher, aiogram's real
HTTP client pointed at TELEGRAM_API_BASE, a real database, a movable clock."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import App, create_app, create_bot, create_dispatcher, create_sender
from bot.clock import FixedClock
from bot.settings import BotSettings, CaseSettings, DatabaseSettings, Settings, TelegramSettings
from bot.telegram.outbox import OutboxSender
from bot.telegram.ratelimit import TelegramRateLimiter
from tests.fake_telegram import FakeTelegram, make_callback_update, make_message_update

ADMIN = 999
CITIZEN = 5001
OTHER_CITIZEN = 5002
OFFICIAL_A = 7001
OFFICIAL_B = 7002
GROUP_A = -1001111
GROUP_B = -1002222
# Overridable so that two test runs on one machine (two checkouts) do not share a schema.
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Monday 2026-11-23 09:00 in Hà Nội.
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


async def reset_postgres(url: str = POSTGRES_URL) -> None:
    """An empty `public` schema, so migrations start from nothing."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3"


def make_settings(
    server: FakeTelegram,
    database_url: str,
    *,
    redis_url: str | None = None,
    telegram_timeout: float = 5,
    **case_overrides: Any,
) -> Settings:
    return Settings(
        telegram=TelegramSettings(
            bot_token=server.token,
            telegram_api_base=server.base_url,
            telegram_timeout=telegram_timeout,
        ),
        database=DatabaseSettings(database_url=database_url, redis_url=redis_url),
        bot=BotSettings(admin_ids=[ADMIN]),
        cases=CaseSettings(**case_overrides),
    )


class Harness:
    """Feeds updates in Telegram's wire format and reads what the bot sent back."""

    def __init__(
        self,
        server: FakeTelegram,
        app: App,
        bot: Bot,
        dp: Dispatcher,
        sender: OutboxSender,
        clock: FixedClock,
    ) -> None:
        self.server, self.app, self.bot, self.dp = server, app, bot, dp
        self.sender, self.clock = sender, clock
        self._message_ids = itertools.count(50_000)

    @classmethod
    async def start(
        cls,
        server: FakeTelegram,
        database_url: str,
        *,
        clock: FixedClock | None = None,
        redis_url: str | None = None,
        telegram_timeout: float = 5,
        **case_overrides: Any,
    ) -> Harness:
        clock = clock or FixedClock(START)
        settings = make_settings(
            server,
            database_url,
            redis_url=redis_url,
            telegram_timeout=telegram_timeout,
            **case_overrides,
        )
        app = await create_app(settings, clock)
        bot = create_bot(settings)
        # Telegram's real limits, but per-chat spacing short enough for a test to wait for.
        sender = create_sender(
            bot, app, TelegramRateLimiter(per_chat_interval=0.01, group_per_minute=1000)
        )
        dp = create_dispatcher(app, sender=sender)
        return cls(server, app, bot, dp, sender, clock)

    async def close(self) -> None:
        await self.dp.storage.close()
        await self.bot.session.close()
        await self.app.close()

    # ---- feeding updates ---------------------------------------------------------------
    async def feed(self, update: dict[str, Any], *, deliver: bool = True) -> None:
        if isinstance(update.get("message"), dict):
            self.server.remember(update["message"])  # as if it had come through Telegram
        await self.dp.feed_raw_update(self.bot, update)
        if deliver:
            await self.sender.deliver_all()

    async def say(
        self,
        text: str | None = None,
        *,
        user: int = CITIZEN,
        chat: int | None = None,
        deliver: bool = True,
        **kwargs: Any,
    ) -> dict[str, Any]:
        chat_id = chat if chat is not None else user
        update = make_message_update(
            text,
            chat_id=chat_id,
            user_id=user,
            # The chat's next id, as Telegram numbers a chat's messages whoever sends them.
            message_id=max(next(self._message_ids), self.server.next_message_id(chat_id)),
            **kwargs,
        )
        await self.feed(update, deliver=deliver)
        return update

    async def press(
        self,
        label: str,
        *,
        user: int = CITIZEN,
        chat: int | None = None,
        deliver: bool = True,
        first_name: str = "Lan",
    ) -> dict[str, Any]:
        """Press the newest button in the chat whose text contains `label`."""
        chat_id = chat if chat is not None else user
        message, data = self.find_button(chat_id, label)
        return await self.press_data(
            data,
            message["message_id"],
            user=user,
            chat=chat_id,
            deliver=deliver,
            first_name=first_name,
        )

    async def press_data(
        self,
        data: str,
        message_id: int,
        *,
        user: int = CITIZEN,
        chat: int | None = None,
        deliver: bool = True,
        first_name: str = "Lan",
    ) -> dict[str, Any]:
        update = make_callback_update(
            data,
            user_id=user,
            chat_id=chat if chat is not None else user,
            message_id=message_id,
            first_name=first_name,
        )
        await self.feed(update, deliver=deliver)
        return update

    # ---- reading what the bot sent -----------------------------------------------------
    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """Current state (after edits) of every bot message in the chat, oldest first."""
        sent = [
            m
            for (c, _), m in sorted(self.server.messages.items())
            if c == chat_id and m.get("from", {}).get("is_bot")
        ]
        return sent

    def texts(self, chat_id: int) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.messages(chat_id)]

    def last_text(self, chat_id: int) -> str:
        texts = self.texts(chat_id)
        return texts[-1] if texts else ""

    def find_button(self, chat_id: int, label: str) -> tuple[dict[str, Any], str]:
        for message in reversed(self.messages(chat_id)):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label.lower() in button["text"].lower():
                        return message, button["callback_data"]
        raise AssertionError(
            f"no button {label!r} in chat {chat_id}; last: {self.last_text(chat_id)!r}"
        )

    def alerts(self) -> list[str]:
        """Texts of answerCallbackQuery toasts/alerts, oldest first."""
        return [c.params.get("text", "") for c in self.server.calls_to("answerCallbackQuery")]

    def card(self, chat_id: int) -> dict[str, Any]:
        for message in reversed(self.messages(chat_id)):
            if "Hạn trả lời" in (message.get("text") or "") or "đã chuyển" in (
                message.get("text") or ""
            ):
                return message
        raise AssertionError(f"no case card in {chat_id}")


async def file_case(
    h: Harness,
    content: str = "Bộ phận một cửa yêu cầu nộp thêm bản sao giấy tờ "
    "không có trong quy định khi tôi làm khai sinh cho con.",
    *,
    user: int = CITIZEN,
    kind_label: str = "Phản ánh",
    procedure_query: str | None = None,
    attachments: Iterable[str] = (),
    deliver: bool = True,
) -> str:
    """Walk the whole intake conversation from /phananh; return the tracking code."""
    await h.say("/phananh", user=user)
    await h.press(kind_label, user=user)
    await h.say(content, user=user)
    for file_id in attachments:
        await h.say(user=user, photo_file_id=file_id)
    await h.press("Bỏ qua" if not list(attachments) else "Xong", user=user)
    if procedure_query:
        await h.say(procedure_query, user=user)
        message, data = h.find_button(user, "")
        await h.press_data(data, message["message_id"], user=user)
    else:
        await h.press("Bỏ qua", user=user)
    if "Dùng thông tin" in h.last_text(user):
        await h.press("Dùng thông tin này", user=user)
    else:
        await h.say("Nguyễn Thị Lan", user=user)
        await h.say("0912 345 678", user=user)
        await h.say("12 Lê Lợi, phường An Hòa", user=user)
    await h.press("Gửi phản ánh", user=user, deliver=deliver)
    from sqlalchemy import select

    from storage.models import Case

    async with h.app.sessions() as session:
        code = await session.scalar(
            select(Case.code).where(Case.citizen_id == user).order_by(Case.id.desc()).limit(1)
        )
    assert code, f"no case filed; last message: {h.last_text(user)!r}"
    return code
