"""`citizen-bot shell`: an offline terminal chat with the production dispatcher.

The bot's HTTP session is replaced by one that prints what the bot would send; what you type
becomes Telegram updates fed to the same dispatcher. Buttons are shown as numbered choices.

Every role can be played: the citizen in a private chat, an official in an agency's group,
the admin (`/as …`). Messages are numbered like Telegram numbers them (#N), so an official
can reply to a card (`/reply N …`) or press its buttons (`/press N`). `/time` moves the clock
and runs the minute tick on the way, as the running bot would.

Update ids and message ids continue from what the database remembers, so a restarted shell is
never mistaken for a re-delivery of updates it already handled (Bot API: update_id increases
monotonically), and a new message never takes an old message's id (replies find their case by
message id).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import zlib
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol

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
    ForceReply,
    InlineKeyboardMarkup,
    Location,
    Message,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    User,
)

from bot.app import App, create_dispatcher, create_sender
from bot.settings import Settings
from bot.telegram.ratelimit import TelegramRateLimiter
from bot.telegram.rendering import Renderer, html_to_terminal
from storage.models import Agency
from storage.repositories import AgencyRepo, InboxRepo, OutboxRepo

BOT_USER = User(id=1, is_bot=True, first_name="Citizen bot", username="citizen_bot")
SHELL_USER = User(id=100_001, is_bot=False, first_name="Shell", last_name="User")
# The admin played in the shell when ADMIN_IDS is empty (see `shell_settings`).
SHELL_ADMIN_ID = 100_003
OFFICIAL_IDS = 200_000_000  # officials: this plus a number derived from the agency code
GROUP_IDS = 1_000_000_000_000  # groups made up for unbound agencies: minus this minus a number
HISTORY_WINDOW = 200  # outbox rows read back for one chat's recent messages
GROUP_COMMANDS = ("/bind", "/unbind", "/traloi")  # the bot takes them in groups only

Button = tuple[str, str, str]  # (label, kind, data): callback, url, text, contact or location


def shell_settings(settings: Settings) -> Settings:
    """The shell always has an admin to play: the first of ADMIN_IDS, or a stand-in."""
    if not settings.bot.admin_ids:
        settings.bot = settings.bot.model_copy(update={"admin_ids": [SHELL_ADMIN_ID]})
    return settings


def _stable(code: str, modulo: int) -> int:
    return zlib.crc32(code.encode("utf-8")) % modulo


def official_user(code: str) -> User:
    """The official the shell plays in an agency's group."""
    return User(
        id=OFFICIAL_IDS + _stable(code, 100_000_000),
        is_bot=False,
        first_name="Cán bộ",
        last_name=code,
    )


def made_up_group_id(code: str) -> int:
    """A group for an agency not bound to one yet (supergroup ids are negative)."""
    return -(GROUP_IDS + _stable(code, 1_000_000_000))


class ChatNames:
    """Who a chat is, in words: an agency's group, an admin, a citizen."""

    def __init__(
        self, renderer: Renderer, locale: str, admin_ids: Iterable[int], you: int | None = None
    ) -> None:
        self.r = renderer
        self.loc = locale
        self.admin_ids = set(admin_ids)
        self.you = you
        self.groups: dict[int, tuple[str, str]] = {}  # chat id → (agency code, agency name)
        self.made_up: dict[int, tuple[str, str]] = {}  # the shell's groups of unbound agencies

    def load(self, agencies: Iterable[Agency]) -> None:
        """The groups bound to agencies (bindings change: call again after /bind)."""
        self.groups = dict(self.made_up)
        for agency in agencies:
            if agency.chat_id is not None:
                self.groups[agency.chat_id] = (agency.code, agency.name)

    def make_up(self, chat_id: int, code: str, name: str) -> None:
        """Name a group the shell made up for an agency not bound yet."""
        self.made_up[chat_id] = self.groups[chat_id] = (code, name)

    def __call__(self, chat_id: int) -> str:
        if chat_id in self.groups:
            code, name = self.groups[chat_id]
            return self.r.plain("shell.chat.group", self.loc, name=name, code=code)
        if chat_id == self.you:
            return self.r.plain("shell.chat.you", self.loc)
        if chat_id in self.admin_ids:
            return self.r.plain("shell.chat.admin", self.loc, id=chat_id)
        if chat_id > 0:
            return self.r.plain("shell.chat.citizen", self.loc, id=chat_id)
        return self.r.plain("shell.chat.other", self.loc, id=chat_id)


@dataclass
class Shown:
    """A bot message as the terminal knows it (its current state after edits)."""

    id: int
    chat_id: int
    text: str
    buttons: list[Button] = field(default_factory=list)
    reply_to: int | None = None
    keyboard: str = ""  # "inline", "reply" (a keyboard under the input), "remove", "force"


@dataclass(frozen=True)
class Persona:
    """Who you are in the shell, and where you type."""

    role: str  # citizen | official | admin
    user: User
    chat: Chat
    agency: str | None = None


class MovableClock(Protocol):
    def now(self) -> datetime: ...

    def set(self, at: datetime) -> None: ...


def _buttons(markup: Any) -> tuple[str, list[Button]]:
    if isinstance(markup, InlineKeyboardMarkup):
        return "inline", [
            (b.text, "url", b.url) if b.url else (b.text, "callback", b.callback_data or "")
            for row in markup.inline_keyboard
            for b in row
        ]
    if isinstance(markup, ReplyKeyboardMarkup):
        return "reply", [
            (
                b.text,
                "contact" if b.request_contact else "location" if b.request_location else "text",
                b.text,
            )
            for row in markup.keyboard
            for b in row
        ]
    if isinstance(markup, ReplyKeyboardRemove):
        return "remove", []
    if isinstance(markup, ForceReply):
        return "force", []
    return "", []


def _reply_to(method: Any) -> int | None:
    params = getattr(method, "reply_parameters", None)
    if params is not None:
        return int(params.message_id)
    value = getattr(method, "reply_to_message_id", None)
    return int(value) if value else None


class ShellSession(BaseSession):
    """Answers the bot's API calls locally and hands the messages to the terminal."""

    def __init__(self, chat: ShellChat) -> None:
        super().__init__()
        self.chat = chat

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

    def _sent(self, method: Any, text: str | None, markup: Any = None) -> Message:
        chat_id = int(method.chat_id)
        kind, buttons = _buttons(markup)
        shown = Shown(
            id=self.chat.next_message_id(),
            chat_id=chat_id,
            text=text or "",
            buttons=buttons,
            reply_to=_reply_to(method),
            keyboard=kind,
        )
        self.chat.receive(shown)
        return self.chat.as_message(shown)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> Any:
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, SendMessage):
            return self._sent(method, method.text, method.reply_markup)
        if isinstance(method, SendPhoto | SendDocument):
            label = self.chat.t("shell.attachment")
            caption = f"{label} {method.caption}" if method.caption else label
            return self._sent(method, caption, method.reply_markup)
        if isinstance(method, SendMediaGroup):
            return [self._sent(method, self.chat.t("shell.attachment")) for _ in method.media]
        if isinstance(method, EditMessageText):
            if method.chat_id is not None and method.message_id is not None:
                self.chat.edited(
                    int(method.chat_id), method.message_id, method.text, method.reply_markup
                )
            return True
        if isinstance(method, EditMessageReplyMarkup):
            if method.chat_id is not None and method.message_id is not None:
                self.chat.edited(int(method.chat_id), method.message_id, None, method.reply_markup)
            return True
        if isinstance(method, AnswerCallbackQuery):
            if method.text:
                self.chat.out(("   ⚠️ " if method.show_alert else "   💬 ") + method.text)
            return True
        return True


class ShellChat:
    """Turns typed lines into updates for the dispatcher, as the persona you play."""

    def __init__(self, app: App, out: Callable[[str], None] = print) -> None:
        self.app = app
        self.out = out
        self.r = app.renderer
        self.loc = app.settings.bot.locale
        self.session = ShellSession(self)
        self.bot = Bot(
            "1:shell", session=self.session, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
        )
        # Offline there is no Telegram to be polite to; deliveries follow the shell's clock.
        offline = TelegramRateLimiter(
            global_per_second=1_000_000, per_chat_interval=0, group_per_minute=1_000_000
        )
        # The shell's moved clock is the outbox's clock too, queueing and delivering alike.
        app.notifier.outbox_clock = app.clock
        self.sender = create_sender(self.bot, app, offline, clock=app.clock)
        self.dp: Dispatcher = create_dispatcher(app, sender=self.sender)
        admins = app.settings.bot.admin_ids
        self.admin_id: int | None = admins[0] if admins else None
        self.names = ChatNames(self.r, self.loc, admins, you=SHELL_USER.id)
        self.agencies: dict[str, Agency] = {}
        self.known: dict[int, dict[int, Shown]] = {}  # chat → message id → message
        self.active: dict[int, tuple[int | None, list[Button]]] = {}  # chat → pressable buttons
        self.force_reply: dict[int, int] = {}  # chat → the message a ForceReply asked about
        self.persona = Persona("citizen", SHELL_USER, Chat(id=SHELL_USER.id, type="private"))
        self._update_ids: Iterator[int] = itertools.count(1)
        self._message_ids: Iterator[int] = itertools.count(1)
        self._started = False

    # ---- what the tests and the prompt read ------------------------------------------
    @property
    def chat_id(self) -> int:
        return self.persona.chat.id

    @property
    def buttons(self) -> list[Button]:
        """The buttons a number presses in the current chat."""
        return self.active.get(self.chat_id, (None, []))[1]

    def messages(self, chat_id: int) -> list[Shown]:
        """The bot's messages in a chat that this terminal knows, oldest first."""
        return sorted(self.known.get(chat_id, {}).values(), key=lambda m: m.id)

    def message(self, chat_id: int, message_id: int) -> Shown:
        return self.known[chat_id][message_id]

    def t(self, key: str, **params: Any) -> str:
        return self.r.plain(key, self.loc, **params)

    def time_text(self, at: datetime | None = None) -> str:
        at = at or self.app.clock.now()
        return at.astimezone(self.app.settings.bot.tz).strftime("%H:%M %d/%m/%Y")

    @property
    def prompt(self) -> str:
        """Who and where you are, and the shell's time."""
        p = self.persona
        if p.role == "official":
            who = self.t("shell.who.official", code=p.agency, group=p.chat.title)
        elif p.role == "admin" and p.chat.type != "private":
            who = self.t("shell.who.admin_in_group", group=p.chat.title)
        else:
            who = self.t(f"shell.who.{p.role}")
        return f"{who} · {self.time_text()}"

    def prompt_line(self) -> str:
        mark = {"citizen": "🙂", "official": "🧑‍💼", "admin": "🛡"}[self.persona.role]
        return f"\n[{self.prompt}] {mark} "

    # ---- ids that continue across runs -------------------------------------------------
    async def start(self) -> None:
        """Continue the update and message ids (and the clock) from the database."""
        if self._started:
            return
        self._started = True
        async with self.app.sessions() as session:
            last_update, last_at = await InboxRepo(session).latest(self.bot.id)
            outbox = OutboxRepo(session)
            last_message = await outbox.highest_message_id()
            queued_at = await outbox.latest_created_at()
            await self._load_agencies(session)
        self._update_ids = itertools.count(last_update + 1)
        self._message_ids = itertools.count(last_message + 1)
        # A rehearsal that moved the clock ahead resumes there: cases keep their history in
        # order (nothing happens before what the database already recorded).
        latest = max((t for t in (last_at, queued_at) if t is not None), default=None)
        clock: Any = self.app.clock
        if latest is not None and latest > clock.now() and hasattr(clock, "set"):
            clock.set(latest)

    async def _load_agencies(self, session: Any) -> None:
        rows = await AgencyRepo(session).all()
        self.agencies = {a.code: a for a in rows}
        self.names.load(rows)

    def next_message_id(self) -> int:
        return next(self._message_ids)

    # ---- what the bot sends ------------------------------------------------------------
    def as_message(self, shown: Shown) -> Message:
        return Message(
            message_id=shown.id,
            date=self.app.clock.now(),
            chat=self._chat(shown.chat_id),
            from_user=BOT_USER,
            text=shown.text or None,
        )

    def _chat(self, chat_id: int) -> Chat:
        if chat_id > 0:
            return Chat(id=chat_id, type="private")
        title = self.names.groups.get(chat_id, ("", str(chat_id)))[1]
        return Chat(id=chat_id, type="supergroup", title=title)

    def receive(self, shown: Shown) -> None:
        self.known.setdefault(shown.chat_id, {})[shown.id] = shown
        if shown.keyboard == "inline":
            self.active[shown.chat_id] = (shown.id, shown.buttons)
        elif shown.keyboard == "reply":
            self.active[shown.chat_id] = (None, shown.buttons)
        elif shown.keyboard == "remove":
            if self.active.get(shown.chat_id, (0, []))[0] is None:
                del self.active[shown.chat_id]
        elif shown.keyboard == "force":
            self.force_reply[shown.chat_id] = shown.id
        self._print(shown)

    def edited(self, chat_id: int, message_id: int, text: str | None, markup: Any) -> None:
        shown = self.known.setdefault(chat_id, {}).get(message_id)
        if shown is None:
            shown = Shown(message_id, chat_id, text or "")
            self.known[chat_id][message_id] = shown
        kind, buttons = _buttons(markup)
        shown.buttons, shown.keyboard = buttons, kind
        if self.active.get(chat_id, (None, []))[0] == message_id:
            if buttons:
                self.active[chat_id] = (message_id, buttons)
            else:
                del self.active[chat_id]
        if text is not None:
            shown.text = text
            self._print(shown, edited=True)

    def _print(self, shown: Shown, *, edited: bool = False) -> None:
        here = shown.chat_id == self.chat_id
        tag = f"#{shown.id}"
        if edited:
            tag += f" ({self.t('shell.edited')})"
        if shown.reply_to in self.known.get(shown.chat_id, {}):
            tag += f" ↩ #{shown.reply_to}"  # a reply to a bot message (yours are not numbered)
        head = f"🤖 {tag}" if here else f"📨 {self.names(shown.chat_id)} · {tag}"
        body = html_to_terminal(shown.text).replace("\n", "\n   ")
        self.out(f"\n{head}\n   {body}")
        self._print_buttons(shown)
        if here and self.force_reply.get(shown.chat_id) == shown.id:
            self.out("   " + self.t("shell.force_reply", n=shown.id))

    def _print_buttons(self, shown: Shown) -> None:
        if not shown.buttons:
            return
        here = shown.chat_id == self.chat_id
        active = self.active.get(shown.chat_id, (None, []))
        numbered = here and (
            active[0] == shown.id or (active[0] is None and active[1] is shown.buttons)
        )
        if numbered:
            for i, (label, _, _) in enumerate(shown.buttons, 1):
                self.out(f"   [{i}] {label}")
            return
        self.out("   " + " ".join(f"[{label}]" for label, _, _ in shown.buttons))
        command = f"/press {shown.id}" if here else self._way_to(shown.chat_id)
        if command:
            self.out("   " + self.t("shell.to_press", command=command))

    def _way_to(self, chat_id: int) -> str:
        if chat_id == SHELL_USER.id:
            return "/as citizen"
        if chat_id == self.admin_id:
            return "/as admin"
        if chat_id in self.names.groups:
            return f"/as group {self.names.groups[chat_id][0]}"
        return ""

    # ---- what you type -----------------------------------------------------------------
    def _message(self, text: str | None = None, **fields: Any) -> Message:
        entities = None
        if text and text.startswith("/"):
            entities = [MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))]
        return Message(
            message_id=self.next_message_id(),
            date=self.app.clock.now(),
            chat=self.persona.chat,
            from_user=self.persona.user,
            text=text,
            entities=entities,
            **fields,
        )

    async def feed(self, update: Update) -> None:
        await self.dp.feed_update(self.bot, update)
        await self.sender.deliver_all()
        async with self.app.sessions() as session:
            await self._load_agencies(session)  # a /bind or /unbind changes the names

    async def send_text(self, text: str, reply_to: Shown | None = None) -> None:
        pending = self.force_reply.pop(self.chat_id, None)
        if reply_to is None and pending is not None:
            reply_to = self.known.get(self.chat_id, {}).get(pending)
        fields: dict[str, Any] = {}
        if reply_to is not None:
            fields["reply_to_message"] = self.as_message(reply_to)
        message = self._message(text, **fields)
        await self.feed(Update(update_id=next(self._update_ids), message=message))

    async def press(self, number: int) -> None:
        """Press the `number`-th button of the current chat."""
        message_id, buttons = self.active[self.chat_id]
        label, kind, data = buttons[number - 1]
        if kind == "callback":
            shown = self.known.get(self.chat_id, {}).get(message_id or 0)
            target = shown or Shown(message_id or 0, self.chat_id, "")
            callback = CallbackQuery(
                id=str(next(self._update_ids)),
                from_user=self.persona.user,
                chat_instance=str(self.chat_id),
                data=data,
                message=self.as_message(target),
            )
            await self.feed(Update(update_id=next(self._update_ids), callback_query=callback))
        elif kind == "url":
            self.out(f"   🔗 {data}")
        elif kind == "contact":
            phone = await asyncio.to_thread(input, self.t("shell.phone_prompt"))
            user = self.persona.user
            contact = Contact(
                phone_number=phone.strip(), first_name=user.first_name, user_id=user.id
            )
            message = self._message(contact=contact)
            await self.feed(Update(update_id=next(self._update_ids), message=message))
        elif kind == "location":
            typed = await asyncio.to_thread(input, self.t("shell.location_prompt"))
            try:
                lat, lon = (float(x) for x in typed.replace(";", ",").split(","))
            except ValueError:
                self.out(self.t("shell.location_invalid"))
                return
            message = self._message(location=Location(latitude=lat, longitude=lon))
            await self.feed(Update(update_id=next(self._update_ids), message=message))
        else:
            await self.send_text(data)

    async def handle_line(self, line: str) -> None:
        await self.start()
        line = line.strip()
        if not line:
            return
        command, _, rest = line.partition(" ")
        shell_commands = {
            "/as": self.cmd_as,
            "/reply": self.cmd_reply,
            "/press": self.cmd_press,
            "/time": self.cmd_time,
            "/history": self.cmd_history,
        }
        handler = shell_commands.get(command.lower())
        if handler is not None:
            await handler(rest.strip())
            return
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            await self.press(int(line))
            return
        await self.send_text(line)
        if command.lower() in GROUP_COMMANDS and self.persona.chat.type == "private":
            # The bot takes these only in a group (handlers/__init__): say how to get there.
            code = rest.split()[0].upper() if rest.split() else ""
            if command.lower() == "/bind" and code in self.agencies:
                way = f"/as admin group {code}"
                self.out(self.t("shell.group_command", command=command, way=way))
            else:
                self.out(self.t("shell.group_command_any", command=command))

    # ---- shell commands ------------------------------------------------------------------
    async def cmd_as(self, args: str) -> None:
        """/as citizen · /as group CODE · /as admin · /as admin group CODE"""
        words = args.split()
        role = words[0].lower() if words else ""
        if role in ("citizen", "dan", "dân", "nguoidan", "người_dân"):
            self.persona = Persona("citizen", SHELL_USER, Chat(id=SHELL_USER.id, type="private"))
        elif role in ("admin", "qtv"):
            if self.admin_id is None:
                self.out(self.t("shell.no_admin"))
                return
            admin = User(id=self.admin_id, is_bot=False, first_name="Quản trị viên")
            if len(words) >= 3 and words[1].lower() in ("group", "nhom", "nhóm"):
                group = self._group(words[2])
                if group is None:
                    return
                self.persona = Persona("admin", admin, group, words[2].upper())
            else:
                self.persona = Persona("admin", admin, Chat(id=admin.id, type="private"))
        elif role in ("group", "official", "nhom", "nhóm", "canbo") and len(words) >= 2:
            group = self._group(words[1])
            if group is None:
                return
            code = words[1].upper()
            self.persona = Persona("official", official_user(code), group, code)
        else:
            self.out(self.t("shell.as_usage"))
            return
        self.out("\n" + self.t("shell.you_are", who=self.prompt))
        if self.persona.agency and self.agencies[self.persona.agency].chat_id != self.chat_id:
            key = "shell.group_unbound_admin" if role in ("admin", "qtv") else "shell.group_unbound"
            self.out(self.t(key, code=self.persona.agency))
        await self.show_history(3, quiet=True)

    def _group(self, code: str) -> Chat | None:
        agency = self.agencies.get(code.upper())
        if agency is None:
            codes = ", ".join(sorted(self.agencies))
            self.out(self.t("shell.unknown_agency", code=code, codes=codes))
            return None
        chat_id = agency.chat_id or made_up_group_id(agency.code)
        if agency.chat_id is None:
            self.names.make_up(chat_id, agency.code, agency.name)
        return Chat(id=chat_id, type="supergroup", title=agency.name)

    def _find(self, number: str) -> Shown | None:
        shown = self.known.get(self.chat_id, {}).get(int(number)) if number.isdigit() else None
        if shown is None:
            self.out(self.t("shell.no_message", n=number))
        return shown

    async def cmd_reply(self, args: str) -> None:
        """/reply N text: a reply to message #N of this chat."""
        number, _, text = args.partition(" ")
        if not number or not text.strip():
            self.out(self.t("shell.reply_usage"))
            return
        if not self.known.get(self.chat_id, {}).get(int(number) if number.isdigit() else 0):
            await self.load_history(self.chat_id)
        shown = self._find(number)
        if shown is not None:
            await self.send_text(text.strip(), reply_to=shown)

    async def cmd_press(self, args: str) -> None:
        """/press N [K]: the buttons of message #N become the numbered ones; K presses one."""
        words = args.split()
        if not words:
            self.out(self.t("shell.press_usage"))
            return
        if not self.known.get(self.chat_id, {}).get(int(words[0]) if words[0].isdigit() else 0):
            await self.load_history(self.chat_id)
        shown = self._find(words[0])
        if shown is None:
            return
        if not shown.buttons or shown.keyboard != "inline":
            self.out(self.t("shell.no_buttons", n=shown.id))
            return
        self.active[self.chat_id] = (shown.id, shown.buttons)
        if len(words) > 1:
            k = int(words[1]) if words[1].isdigit() else 0
            if not 1 <= k <= len(shown.buttons):
                self.out(self.t("shell.no_such_button", n=shown.id, k=words[1]))
                return
            await self.press(k)
            return
        self._print_buttons(shown)

    async def cmd_history(self, args: str) -> None:
        """/history [N]: the last N messages of this chat (from the database too)."""
        await self.show_history(int(args) if args.isdigit() else 5)

    async def load_history(self, chat_id: int) -> None:
        """What the bot sent to the chat before this run, as the outbox recorded it."""
        async with self.app.sessions() as session:
            rows = await OutboxRepo(session).sent_to(chat_id, HISTORY_WINDOW)
        past: dict[int, Shown] = {}
        for row in rows:
            payload = dict(row.payload)
            markup = (
                InlineKeyboardMarkup.model_validate(payload["reply_markup"])
                if payload.get("reply_markup")
                else None
            )
            kind, buttons = _buttons(markup)
            if row.method == "edit_message_text":
                mid = int(payload["message_id"])
                old = past.get(mid)
                past[mid] = Shown(
                    mid, chat_id, payload["text"], buttons, old.reply_to if old else None, kind
                )
            elif row.sent_message_id is not None:
                text = payload.get("text") or payload.get("caption") or self.t("shell.attachment")
                reply_to = payload.get("reply_to_message_id")
                past[row.sent_message_id] = Shown(
                    row.sent_message_id, chat_id, text, buttons, reply_to, kind
                )
        known = self.known.setdefault(chat_id, {})
        for mid, shown in past.items():
            known.setdefault(mid, shown)  # what this run saw itself is newer
        if chat_id not in self.active:
            with_buttons = [m for m in self.messages(chat_id) if m.keyboard == "inline"]
            if with_buttons:
                self.active[chat_id] = (with_buttons[-1].id, with_buttons[-1].buttons)

    async def show_history(self, count: int, *, quiet: bool = False) -> None:
        await self.load_history(self.chat_id)
        recent = self.messages(self.chat_id)[-count:]
        if not recent and not quiet:
            self.out(self.t("shell.history_empty"))
        for shown in recent:
            self._print(shown)

    async def cmd_time(self, args: str) -> None:
        """/time: the shell's time; /time +3d [08:00] or a date moves it forward, ticking."""
        clock: Any = self.app.clock
        if not args:
            self.out(self.t("shell.time_now", time=self.time_text()))
            return
        target = parse_time(args, clock.now(), self.app.settings.bot.tz)
        if target is None or not hasattr(clock, "set"):
            self.out(self.t("shell.time_usage"))
            return
        if target < clock.now():
            self.out(self.t("shell.time_backwards", time=self.time_text()))
            return
        await self.move_clock(clock, target)

    async def move_clock(self, clock: MovableClock, target: datetime) -> None:
        """Tick where the running bot would have ticked on the way: at the start of every
        working day (when reminders and reports go out), then at the target."""
        from bot.domain.reminders import run_tick

        sent = 0
        for at in tick_moments(
            clock.now(), target, self.app.settings.bot.tz, self.app.settings.reports.day_start_hour
        ):
            clock.set(at)
            counts = await run_tick(self.app)
            if counts["messages"]:
                self.out("\n" + self.t("shell.time_tick", time=self.time_text(at)))
                await self.sender.deliver_all()
                sent += counts["messages"]
        self.out("\n" + self.t("shell.time_moved", time=self.time_text()))
        if not sent:
            self.out(self.t("shell.time_quiet"))

    # ---- the loop ------------------------------------------------------------------------
    async def run(self) -> None:
        await self.start()
        self.out(self.t("shell.banner"))
        self.out(self.t("shell.commands"))
        await self.handle_line("/start")
        while True:
            try:
                line = await asyncio.to_thread(input, self.prompt_line())
            except EOFError:
                break
            if line.strip() in ("/quit", "/exit"):
                break
            if line.strip():
                await self.handle_line(line)
        await self.close()

    async def close(self) -> None:
        await self.dp.storage.close()
        await self.bot.session.close()


_STEP = re.compile(r"(\d+)\s*([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_time(text: str, now: datetime, tz: Any) -> datetime | None:
    """ "+3d", "+2h", "+1d2h", "+10d 08:00", "2026-12-01T09:00", "01/12/2026 09:00" → when.

    A time without a zone is local time."""
    text = text.strip()
    relative = re.fullmatch(r"\+((?:\s*\d+\s*[dhm])+)(?:\s+(\d{1,2}):(\d{2}))?", text)
    if relative:
        delta = timedelta()
        for amount, unit in _STEP.findall(relative.group(1)):
            delta += timedelta(**{_UNITS[unit]: int(amount)})
        when = (now + delta).astimezone(tz)
        if relative.group(2):
            when = when.replace(
                hour=int(relative.group(2)), minute=int(relative.group(3)), second=0, microsecond=0
            )
        return when
    local = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2}))?", text)
    try:
        if local:
            day, month, year, hh, mm = local.groups()
            return datetime(int(year), int(month), int(day), int(hh or 0), int(mm or 0), tzinfo=tz)
        when = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)


def tick_moments(start: datetime, end: datetime, tz: Any, day_start_hour: int) -> list[datetime]:
    """The start of every day strictly between `start` and `end`, then `end`."""
    moments = []
    day = start.astimezone(tz).date()
    while True:
        at = datetime.combine(day, time(day_start_hour), tzinfo=tz)
        if at >= end:
            break
        if at > start:
            moments.append(at.astimezone(UTC))
        day += timedelta(days=1)
    return [*moments, end]
