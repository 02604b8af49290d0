"""`citizen-bot shell`: an offline terminal chat with the production dispatcher.

The bot's HTTP session is replaced by one that prints what the bot would send; what you type
becomes Telegram updates fed to the same dispatcher. Buttons are shown as numbered choices.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncGenerator, Callable
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendDocument,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import (
    CallbackQuery,
    Chat,
    Contact,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    Update,
    User,
)

from bot.app import App, create_dispatcher, create_sender
from bot.telegram.rendering import html_to_terminal

BOT_USER = User(id=1, is_bot=True, first_name="Citizen bot", username="citizen_bot")
SHELL_USER = User(id=100_001, is_bot=False, first_name="Shell", last_name="User")


class ShellSession(BaseSession):
    """Answers the bot's API calls locally and prints the messages."""

    def __init__(self, out: Callable[[str], None] = print) -> None:
        super().__init__()
        self.out = out
        self.ids = itertools.count(1)
        self.buttons: list[tuple[str, str, str]] = []  # (label, kind, data)

    async def close(self) -> None:
        return None

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - BaseSession's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    def _remember_buttons(self, markup: Any) -> None:
        if isinstance(markup, InlineKeyboardMarkup):
            self.buttons = [
                (b.text, "callback", b.callback_data or "")
                for row in markup.inline_keyboard
                for b in row
            ]
        elif isinstance(markup, ReplyKeyboardMarkup):
            self.buttons = [
                (b.text, "contact" if b.request_contact else "text", b.text)
                for row in markup.keyboard
                for b in row
            ]
        else:
            return
        for i, (label, _, _) in enumerate(self.buttons, 1):
            self.out(f"   [{i}] {label}")

    def _message(self, chat_id: Any, text: str | None) -> Message:
        return Message(
            message_id=next(self.ids),
            date=datetime.now(UTC),
            chat=Chat(id=int(chat_id), type="private" if int(chat_id) > 0 else "supergroup"),
            from_user=BOT_USER,
            text=text,
        )

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> Any:
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, SendMessage):
            # Messages to other chats (an agency group, the admins) are shown with their chat.
            where = "" if method.chat_id == SHELL_USER.id else f"[→ chat {method.chat_id}] "
            self.out("\n🤖 " + where + html_to_terminal(method.text or "").replace("\n", "\n   "))
            self._remember_buttons(method.reply_markup)
            return self._message(method.chat_id, method.text)
        if isinstance(method, EditMessageText):
            self.out("\n🤖 (sửa) " + html_to_terminal(method.text or "").replace("\n", "\n   "))
            self._remember_buttons(method.reply_markup)
            return True
        if isinstance(method, EditMessageReplyMarkup):
            if method.reply_markup is None:
                self.buttons = []
            self._remember_buttons(method.reply_markup)
            return True
        if isinstance(method, AnswerCallbackQuery):
            if method.text:
                self.out(f"   ({method.text})")
            return True
        if isinstance(method, SendPhoto | SendDocument):
            self.out("\n🤖 [tệp đính kèm]")
            return self._message(method.chat_id, None)
        if isinstance(method, SendMediaGroup):
            return [self._message(method.chat_id, None) for _ in method.media]
        return True


class ShellChat:
    """Turns typed lines into updates for the dispatcher."""

    def __init__(self, app: App, out: Callable[[str], None] = print) -> None:
        self.app = app
        self.session = ShellSession(out)
        self.bot = Bot(
            "1:shell", session=self.session, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
        )
        self.sender = create_sender(self.bot, app)
        self.dp: Dispatcher = create_dispatcher(app, sender=self.sender)
        self.update_ids = itertools.count(1)
        self.message_ids = itertools.count(1_000_000)
        self.out = out

    def _message(self, **fields: Any) -> Message:
        return Message(
            message_id=next(self.message_ids),
            date=datetime.now(UTC),
            chat=Chat(id=SHELL_USER.id, type="private"),
            from_user=SHELL_USER,
            **fields,
        )

    async def feed(self, update: Update) -> None:
        await self.dp.feed_update(self.bot, update)
        await self.sender.deliver_all()

    async def handle_line(self, line: str) -> None:
        line = line.strip()
        choice = int(line) if line.isdigit() else 0
        if 1 <= choice <= len(self.session.buttons):
            label, kind, data = self.session.buttons[choice - 1]
            if kind == "callback":
                callback = CallbackQuery(
                    id=str(next(self.update_ids)),
                    from_user=SHELL_USER,
                    chat_instance="shell",
                    data=data,
                    message=self._message(text="…"),
                )
                await self.feed(Update(update_id=next(self.update_ids), callback_query=callback))
                return
            if kind == "contact":
                phone = await asyncio.to_thread(input, "📱 Số điện thoại chia sẻ: ")
                contact = Contact(
                    phone_number=phone.strip(),
                    first_name=SHELL_USER.first_name,
                    user_id=SHELL_USER.id,
                )
                await self.feed(
                    Update(update_id=next(self.update_ids), message=self._message(contact=contact))
                )
                return
            line = data
        entities = None
        if line.startswith("/"):
            from aiogram.types import MessageEntity

            entities = [MessageEntity(type="bot_command", offset=0, length=len(line.split()[0]))]
        await self.feed(
            Update(
                update_id=next(self.update_ids), message=self._message(text=line, entities=entities)
            )
        )

    async def run(self) -> None:
        self.out("Citizen bot — offline shell. Gõ câu hỏi; số [n] để bấm nút; /quit để thoát.")
        await self.handle_line("/start")
        while True:
            try:
                line = await asyncio.to_thread(input, "\n🙂 ")
            except EOFError:
                break
            if line.strip() in ("/quit", "/exit"):
                break
            if line.strip():
                await self.handle_line(line)
        await self.bot.session.close()
