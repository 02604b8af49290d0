"""A local fake of the Telegram Bot API, served over real HTTP by aiohttp.web.

Tests run the production aiogram ``Bot`` against it, so aiogram's own client (form encoding,
``check_response`` and its exception mapping, timeouts) is exercised too::

    async with FakeTelegram() as server:
        bot = Bot(server.token, session=AiohttpSession(api=server.api))
        ...
        await bot.session.close()

Wire format, as aiogram 3 sends it (``client/session/aiohttp.py``): every method is a POST to
``/bot{token}/{method}`` whose body is ``application/x-www-form-urlencoded`` or, when files are
uploaded, ``multipart/form-data``. Strings travel raw; numbers, booleans, lists and objects
(``reply_markup``, ``reply_parameters``, ``media``...) travel as JSON text. Uploaded files are
extra multipart parts referenced from a field as ``attach://<part name>``. JSON bodies and GET
query strings are accepted too, as the real server does.

Behaviour that mirrors the real server because the bot must cope with it:

- HTML parse mode: a ``<`` that does not open a supported tag, or unbalanced tags, is answered
  with 400 "can't parse entities" (tdlib's ``parse_html``); ``&`` and ``>`` are literal unless they
  form ``&lt;``/``&gt;``/``&amp;``/``&quot;``/numeric references. Returned ``text``/``caption`` is
  the visible text (markup removed); ``entities`` are omitted.
- Text over 4096 UTF-16 code units after entity parsing (captions over 1024) is 400 "message is
  too long" / "message caption is too long": Telegram counts UTF-16 units, so an emoji outside
  the Basic Multilingual Plane counts twice.
- A reply to a message the chat does not have is 400 "message to be replied not found", unless
  ``allow_sending_without_reply`` is set (top level or in ``reply_parameters``).
- Callback data over 64 bytes is 400 "BUTTON_DATA_INVALID".
- Editing to identical text and markup is 400 "message is not modified".
- Only inline keyboards are echoed in returned messages (Message.reply_markup is inline-only).
- getUpdates honours ``offset`` (confirmation), ``limit``, ``timeout`` (long polling) and
  ``allowed_updates``; updates of types not allowed are dropped, as Telegram never delivers them
  (see ``dropped_updates``).

- setWebhook/deleteWebhook/getWebhookInfo: while a webhook is set, getUpdates answers 409 and
  pushed updates are POSTed to it as JSON, with ``X-Telegram-Bot-Api-Secret-Token`` when a
  secret was set, until answered 2xx (anything else, or a connection error, is retried — on the
  next of ``webhook_backends`` when the test lists several processes behind one URL, as a load
  balancer would). One chat's updates go one at a time and in order; different chats' updates
  go in parallel (up to ``webhook_concurrency``). Every attempt is in ``webhook_deliveries``.
  Lenient: any URL is accepted (Telegram wants HTTPS on ports 443, 80, 88 or 8443).

Deliberately lenient: editing/deleting/copying a message the fake has never seen works (tests may
feed updates straight into the dispatcher, bypassing the server; ``remember`` makes such a
message known).

Misbehaving on demand: ``fail_next``/``delay_next`` program single answers; ``storm`` makes a
share of all calls answer 429 with ``retry_after``, 500/502, or answer only after a delay (the
call is carried out first, as Telegram does with a request whose client gave up).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

JSON = dict[str, Any]

BOT_ID = 42
BOT_USERNAME = "citizen_test_bot"
BOT_FIRST_NAME = "Citizen Test Bot"
# The numeric prefix must equal BOT_ID: aiogram derives ``Bot.id`` from the token, and handlers
# compare it with ``from.id`` of the bot's own messages (e.g. "is this a reply to our card?").
DEFAULT_TOKEN = f"{BOT_ID}:TEST-TOKEN"

BOT_USER: JSON = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": BOT_FIRST_NAME,
    "username": BOT_USERNAME,
}
GET_ME: JSON = {
    **BOT_USER,
    "can_join_groups": True,
    "can_read_all_group_messages": False,  # privacy mode on, Telegram's default
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

#: Methods whose successful results are messages the bot sent (see ``sent_messages``).
SEND_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "copyMessage", "forwardMessage"}
)

# Update types delivered when allowed_updates is [] or was never set (Bot API, getUpdates).
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)

# Form fields that are strings in the Bot API even when they look like JSON numbers
# (a file_id or a text of "123" must not become an int).
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "url",
        "photo",
        "document",
        "video",
        "audio",
        "voice",
        "sticker",
        "animation",
        "thumbnail",
        "file_id",
        "action",
        "emoji",
        "language_code",
        "title",
        "description",
        "short_description",
        "name",
        "payload",
        "secret_token",
    }
)

# What a copy or forward carries over from the original message.
_CONTENT_KEYS = frozenset(
    {
        "text",
        "caption",
        "photo",
        "document",
        "video",
        "voice",
        "audio",
        "animation",
        "sticker",
        "location",
        "contact",
    }
)

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a content and reply markup of the current message"
)


def _now() -> int:
    return int(time.time())


def chat_type_for(chat_id: int) -> str:
    """Telegram chat type implied by an id: users are positive, groups negative."""
    return "private" if chat_id > 0 else "supergroup"


def _chat_dict(chat_id: int, chat_type: str, first_name: str = "Lan") -> JSON:
    if chat_type == "private":
        return {"id": chat_id, "type": "private", "first_name": first_name}
    return {"id": chat_id, "type": chat_type, "title": "Test group"}


def _user_dict(user: int | JSON, first_name: str = "Lan") -> JSON:
    if isinstance(user, dict):
        return user
    if user == BOT_ID:
        return dict(BOT_USER)
    return {"id": user, "is_bot": False, "first_name": first_name, "language_code": "vi"}


# sendPhoto (Bot API): "The photo must be at most 10 MB in size. The photo's width and height
# must not exceed 10000 in total. Width and height ratio must be at most 20."
MAX_PHOTO_BYTES = 10 * 1024 * 1024


def _uploaded_photo_size(data: bytes) -> tuple[int, int]:
    """Width and height of an uploaded PNG or JPEG, with Telegram's limits on them."""
    if len(data) > MAX_PHOTO_BYTES:
        raise ApiError(400, "Bad Request: PHOTO_SAVE_FILE_INVALID")
    width = height = 0
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    elif data[:2] == b"\xff\xd8":
        pos = 2
        while pos + 9 < len(data):
            marker, length = data[pos + 1], int.from_bytes(data[pos + 2 : pos + 4], "big")
            if 0xC0 <= marker <= 0xC3:
                height = int.from_bytes(data[pos + 5 : pos + 7], "big")
                width = int.from_bytes(data[pos + 7 : pos + 9], "big")
                break
            pos += 2 + length
    if not (width and height):
        # Deliberately lenient (tests upload placeholder bytes): Telegram's own default size.
        return 1280, 960
    if width + height > 10000 or max(width, height) > 20 * min(width, height):
        raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
    return width, height


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------------------------
# HTML parse mode, following tdlib's parse_html (the parser behind the Bot API)
# --------------------------------------------------------------------------------------------

_SUPPORTED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
        "tg-time",
    }
)
_ENTITY_RE = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|lt|gt|amp|quot);")
_TAG_SPACE = " \t\n\r\f\v"


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": ..., ...}``."""

    def __init__(self, error_code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _entities_error(message: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {message}")


def html_to_text(markup: str) -> str:
    """Visible text of an HTML-mode message, or ApiError(400) where Telegram would reject it."""
    out: list[str] = []
    stack: list[str] = []
    i, n = 0, len(markup)

    def offset(pos: int) -> int:
        return len(markup[:pos].encode())

    while i < n:
        ch = markup[i]
        if ch == "&":
            match = _ENTITY_RE.match(markup, i)
            if match:
                out.append(html.unescape(match.group(0)))
                i = match.end()
            else:  # unknown references stay literal in tdlib
                out.append(ch)
                i += 1
            continue
        if ch != "<":
            out.append(ch)
            i += 1
            continue
        begin = i
        if markup.startswith("</", i):
            close = markup.find(">", i)
            if close == -1:
                raise _entities_error(f"Unexpected end tag at byte offset {offset(begin)}")
            name = markup[i + 2 : close].strip().lower()
            if not stack:
                raise _entities_error(f"Unexpected end tag at byte offset {offset(begin)}")
            if name != stack[-1]:
                raise _entities_error(
                    f'Unmatched end tag at byte offset {offset(begin)}, expected "</{stack[-1]}>", '
                    f'found "</{name}>"'
                )
            stack.pop()
            i = close + 1
            continue
        j = i + 1
        while j < n and markup[j] not in _TAG_SPACE and markup[j] != ">":
            j += 1
        if j >= n:
            raise _entities_error(f"Unclosed start tag at byte offset {offset(begin)}")
        name = markup[i + 1 : j].lower()
        if name not in _SUPPORTED_TAGS:
            raise _entities_error(f'Unsupported start tag "{name}" at byte offset {offset(begin)}')
        quote = ""
        while j < n and (quote or markup[j] != ">"):
            if quote and markup[j] == quote:
                quote = ""
            elif not quote and markup[j] in "\"'":
                quote = markup[j]
            j += 1
        if j >= n:
            raise _entities_error(f"Unclosed start tag at byte offset {offset(begin)}")
        stack.append(name)
        i = j + 1
    if stack:
        raise _entities_error(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def _visible_text(
    text: str, parse_mode: Any, *, limit: int, too_long: str, empty: str | None
) -> str:
    visible = html_to_text(text) if str(parse_mode or "").lower() == "html" else text
    if empty is not None and not visible.strip():
        raise ApiError(400, empty)
    if _utf16_len(visible) > limit:
        raise ApiError(400, too_long)
    return visible


def _inline_markup(markup: Any) -> JSON | None:
    """The markup to echo in a Message (inline keyboards only), validating callback data."""
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    for row in markup["inline_keyboard"]:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _decode_field(key: str, value: str) -> Any:
    """Undo aiogram's form encoding: JSON-typed fields arrive as JSON text."""
    if key in _STRING_FIELDS:
        return value
    stripped = value.strip()
    # Only JSON that cannot be a plain string ("NaN", "Infinity" are file ids or texts too).
    if stripped[:1] in ("{", "[", "-") or stripped[:1].isdigit() or stripped in _JSON_WORDS:
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value


_JSON_WORDS = frozenset({"true", "false", "null"})


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass
class UploadedFile:
    """A file part of a multipart request; ``file_id`` is what the fake assigned to it."""

    field_name: str
    filename: str
    content_type: str
    data: bytes
    file_id: str


@dataclass
class Call:
    """One request the bot made: canonical method name, decoded params and the JSON answered."""

    method: str
    params: JSON
    ok: bool
    response: JSON
    token: str = ""
    files: dict[str, UploadedFile] = field(default_factory=dict)
    #: Messages this call created or changed (also for copyMessage, whose result is a MessageId).
    messages: list[JSON] = field(default_factory=list)
    #: When the call was answered (``time.monotonic()``), for latency measurements.
    at: float = field(default_factory=time.monotonic)
    #: How the parameters came: "application/json", a form, or "" (none, or the URL query).
    content_type: str = ""

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def error_code(self) -> int | None:
        return self.response.get("error_code")

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")


@dataclass
class Fault:
    """A programmed answer for the next matching call(s); ``times=None`` means until cleared."""

    method: str  # lower-case method name
    error_code: int | None
    description: str
    retry_after: int | None = None
    migrate_to_chat_id: int | None = None
    chat_id: int | None = None
    times: int | None = 1
    delay: float = 0.0

    def matches(self, method: str, params: JSON) -> bool:
        if self.method != method:
            return False
        return self.chat_id is None or params.get("chat_id") == self.chat_id

    def error(self) -> ApiError | None:
        if self.error_code is None:
            return None
        parameters: JSON = {}
        if self.retry_after is not None:
            parameters["retry_after"] = self.retry_after
        if self.migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = self.migrate_to_chat_id
        return ApiError(self.error_code, self.description, parameters or None)


@dataclass
class Storm:
    """Random faults on every call but getUpdates/getMe/getFile (a bad day at Telegram)."""

    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_slow: float = 0.0
    slow_seconds: float = 2.0
    retry_after: tuple[int, int] = (1, 3)
    seed: int = 0
    rng: random.Random = field(init=False)
    counts: dict[str, int] = field(default_factory=lambda: {"429": 0, "5xx": 0, "slow": 0})

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def fault(self, method: str) -> Fault | None:
        if method in ("getupdates", "getme", "getfile", "deletewebhook"):
            return None
        roll = self.rng.random()
        if roll < self.rate_429:
            self.counts["429"] += 1
            wait = self.rng.randint(*self.retry_after)
            return Fault(method, 429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        roll -= self.rate_429
        if roll < self.rate_5xx:
            self.counts["5xx"] += 1
            code = self.rng.choice((500, 502))
            text = "Internal Server Error" if code == 500 else "Bad Gateway"
            return Fault(method, code, text)
        roll -= self.rate_5xx
        if roll < self.rate_slow:
            self.counts["slow"] += 1
            return Fault(method, None, "", delay=self.slow_seconds)
        return None


@dataclass
class WebhookDelivery:
    """One POST of an update to a webhook backend: the HTTP status, 0 if it could not connect."""

    url: str
    update_id: int
    status: int


def _chat_key(update: JSON) -> Any:
    """The chat an update belongs to (its updates are delivered in order, one at a time)."""
    for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
        if isinstance(update.get(key), dict):
            return update[key]["chat"]["id"]
    callback = update.get("callback_query")
    if isinstance(callback, dict):
        message = callback.get("message") or {}
        return message.get("chat", {}).get("id", callback["from"]["id"])
    member = update.get("my_chat_member") or update.get("chat_member")
    if isinstance(member, dict):
        return member["chat"]["id"]
    return ("update", update["update_id"])


Handler = Callable[[JSON, dict[str, UploadedFile]], Awaitable[tuple[Any, list[JSON]]]]


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeTelegram:
    """Fake Bot API on 127.0.0.1 with an ephemeral port; use as ``async with``."""

    def __init__(self, *, token: str = DEFAULT_TOKEN, host: str = "127.0.0.1") -> None:
        self.token = token
        self.host = host
        self.port: int | None = None
        self.calls: list[Call] = []
        #: Latest state of every message known to the fake, keyed by (chat_id, message_id):
        #: what the bot sent or edited, and messages of pushed updates.
        self.messages: dict[tuple[int, int], JSON] = {}
        #: Override the type implied by the id (private if > 0, else supergroup).
        self.chat_types: dict[int, str] = {}
        #: Pushed updates of a type the poller did not ask for; Telegram never delivers these.
        self.dropped_updates: list[JSON] = []
        #: Registered file contents, by file_id; see ``add_file``.
        self.files: dict[str, bytes] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.faults: list[Fault] = []
        self.storm_: Storm | None = None

        #: setWebhook's parameters while a webhook is set (url, secret_token, allowed_updates…).
        self.webhook: JSON | None = None
        #: Where webhook updates really go (processes behind the URL's load balancer), in
        #: turn; empty: to the webhook URL itself.
        self.webhook_backends: list[str] = []
        self.webhook_concurrency = 4
        #: Every webhook POST: to which backend, which update, and the answer (status or 0
        #: for a connection error).
        self.webhook_deliveries: list[WebhookDelivery] = []

        self._pending: list[JSON] = []
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._webhook_event = asyncio.Event()
        self._webhook_task: asyncio.Task[None] | None = None
        self._in_flight: set[int] = set()
        self._busy_chats: set[Any] = set()
        self._next_backend = itertools.count()
        self._updates_event = asyncio.Event()
        self._calls_event = asyncio.Event()
        self._closing = asyncio.Event()
        self._deleted: set[tuple[int, int]] = set()
        self._last_message_id: dict[int, int] = {}
        self._file_paths: dict[str, str] = {}
        self._file_counter = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, tuple[str, Handler]] = {}
        for name, handler in self._handlers().items():
            self._methods[name.lower()] = (name, handler)

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a client that gave up (timeout, stopped polling) must not leave
        # a long-poll or a programmed delay running until shutdown.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        self._closing.set()
        self._updates_event.set()
        self._webhook_event.set()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def api(self) -> TelegramAPIServer:
        """aiogram server config pointing at this fake."""
        return TelegramAPIServer.from_base(self.base_url)

    # ---- test-facing API -------------------------------------------------------------------

    def push_update(self, update: JSON) -> JSON:
        """Queue an update for getUpdates; messages in it become known to the fake."""
        self._pending.append(update)
        for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
            message = update.get(key)
            if isinstance(message, dict):
                self._remember(message)
        self._updates_event.set()
        self._webhook_event.set()
        return update

    def push_updates(self, updates: Iterable[JSON]) -> None:
        for update in updates:
            self.push_update(update)

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by a getUpdates offset."""
        return list(self._pending)

    def fail_next(
        self,
        method: str,
        *,
        error_code: int | None,
        description: str = "",
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        times: int | None = 1,
        chat_id: int | None = None,
        delay: float = 0.0,
    ) -> Fault:
        """Answer the next ``times`` calls of ``method`` (for ``chat_id``) with an error.

        ``times=None`` keeps failing until ``clear_faults``. ``delay`` seconds are slept before
        answering; with ``error_code=None`` the call then succeeds normally (a slow server).
        Examples: 429 "Too Many Requests: retry after 1" with retry_after=1; 403 "Forbidden: bot
        was blocked by the user"; 400 "Bad Request: chat not found"; 500 "Internal Server Error".
        """
        fault = Fault(
            method=method.lower(),
            error_code=error_code,
            description=description,
            retry_after=retry_after,
            migrate_to_chat_id=migrate_to_chat_id,
            chat_id=chat_id,
            times=times,
            delay=delay,
        )
        self.faults.append(fault)
        return fault

    def delay_next(
        self, method: str, seconds: float, *, times: int | None = 1, chat_id: int | None = None
    ) -> Fault:
        """Answer the next call(s) of ``method`` normally, but only after ``seconds``."""
        return self.fail_next(method, error_code=None, delay=seconds, times=times, chat_id=chat_id)

    def clear_faults(self) -> None:
        self.faults.clear()
        self.storm_ = None

    def storm(self, **kwargs: Any) -> Storm:
        """Misbehave at random from now on (see `Storm`); `clear_faults` ends it."""
        self.storm_ = Storm(**kwargs)
        return self.storm_

    def next_message_id(self, chat_id: int) -> int:
        """The id Telegram would give the chat's next message (ids are per chat, in order)."""
        return self._last_message_id.get(chat_id, 0) + 1

    def remember(self, message: JSON) -> None:
        """Make a message known to the fake (one fed straight into the dispatcher)."""
        self._remember(message)

    def add_file(self, file_id: str, content: bytes, *, file_path: str | None = None) -> None:
        """Make ``file_id`` downloadable (getFile + /file/bot<token>/<path>)."""
        self.files[file_id] = content
        if file_path is not None:
            self._file_paths[file_id] = file_path

    def calls_to(self, method: str) -> list[Call]:
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def sent_messages(self, chat_id: int | None = None) -> list[JSON]:
        """Messages the bot sent successfully (send*, copy, forward), oldest first."""
        return [
            message
            for call in self.calls
            if call.ok and call.method in SEND_METHODS
            for message in call.messages
            if chat_id is None or message["chat"]["id"] == chat_id
        ]

    async def wait_for(
        self,
        predicate: Callable[[Call], bool] | str,
        timeout: float = 5,  # noqa: ASYNC109 - the brief's API; a test deadline, not I/O
    ) -> Call:
        """The first recorded call matching ``predicate`` (or a method name), waiting for it."""
        check: Callable[[Call], bool]
        if isinstance(predicate, str):
            method = predicate.lower()

            def check(call: Call) -> bool:
                return call.method.lower() == method

        else:
            check = predicate
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for call in self.calls:
                if check(call):
                    return call
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = ", ".join(call.method for call in self.calls) or "none"
                raise TimeoutError(f"no matching call within {timeout}s; calls: {seen}")
            self._calls_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._calls_event.wait(), remaining)

    async def wait_delivered(self, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Until every pushed update was delivered (confirmed by the bot)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._pending:
            if loop.time() > deadline:
                ids = [u["update_id"] for u in self._pending]
                raise TimeoutError(f"updates not delivered within {timeout}s: {ids[:20]}")
            await asyncio.sleep(0.05)

    def clear(self) -> None:
        """Forget recorded calls and dropped updates; messages, queue and faults are kept."""
        self.calls.clear()
        self.dropped_updates.clear()

    # ---- HTTP ------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        raw_method = request.match_info["method"]
        try:
            params, files = await self._read_params(request)
        except ApiError as error:
            return self._answer(Call(raw_method, {}, False, error.body(), token), request)

        entry = self._methods.get(raw_method.lower())
        if entry is None:
            not_found = ApiError(404, "Not Found: method not found")
            return self._answer(
                Call(raw_method, params, False, not_found.body(), token, files), request
            )
        name, handler = entry

        fault = self._take_fault(name.lower(), params)
        fault_error = fault.error() if fault is not None else None
        if fault_error is not None:
            call = Call(name, params, False, fault_error.body(), token, files)
        else:
            try:
                result, messages = await handler(params, files)
            except ApiError as error:
                call = Call(name, params, False, error.body(), token, files)
            else:
                body = {"ok": True, "result": result}
                call = Call(name, params, True, body, token, files, messages)
        response = self._answer(call, request)
        if fault is not None and fault.delay:
            # The call is handled and recorded first: like Telegram, a request the client gave
            # up on may still have taken effect.
            await self._sleep(fault.delay)
        return response

    async def _handle_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        for file_id, file_path in self._file_paths.items():
            if file_path == path:
                return web.Response(body=self.files.get(file_id, b""))
        raise web.HTTPNotFound()

    def _answer(self, call: Call, request: web.Request | None = None) -> web.Response:
        if request is not None and request.body_exists:
            call.content_type = request.content_type
        self.calls.append(call)
        self._calls_event.set()
        status = 200 if call.ok else int(call.response["error_code"])
        return web.json_response(call.response, status=status)

    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, UploadedFile]]:
        params: JSON = {key: _decode_field(key, value) for key, value in request.query.items()}
        files: dict[str, UploadedFile] = {}
        if not request.body_exists:
            return params, files
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as e:
                raise ApiError(400, "Bad Request: can't parse JSON body") from e
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: JSON body must be an object")
            params.update(body)
            return params, files
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = UploadedFile(
                    field_name=key,
                    filename=value.filename,
                    content_type=value.content_type,
                    data=value.file.read(),
                    file_id=self._new_file_id("upload"),
                )
            elif isinstance(value, bytes | bytearray):
                params[key] = _decode_field(key, bytes(value).decode())
            else:
                params[key] = _decode_field(key, value)
        for upload in files.values():
            self.files[upload.file_id] = upload.data
        return params, files

    def _take_fault(self, method: str, params: JSON) -> Fault | None:
        if self.storm_ is not None:
            fault = self.storm_.fault(method)
            if fault is not None:
                return fault
        for fault in self.faults:
            if fault.matches(method, params):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    # ---- state helpers ---------------------------------------------------------------------

    def _chat(self, chat_id: int) -> JSON:
        return _chat_dict(chat_id, self.chat_types.get(chat_id, chat_type_for(chat_id)))

    def _remember(self, message: JSON) -> None:
        chat_id = message["chat"]["id"]
        message_id = message["message_id"]
        self.messages[(chat_id, message_id)] = message
        self._last_message_id[chat_id] = max(self._last_message_id.get(chat_id, 0), message_id)

    def _new_message(self, chat_id: int, params: JSON, content: JSON) -> JSON:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        message: JSON = {
            "message_id": message_id,
            "from": dict(BOT_USER),
            "date": _now(),
            "chat": self._chat(chat_id),
        }
        reply_to = self._reply_target(chat_id, params)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        markup = _inline_markup(params.get("reply_markup"))
        if markup is not None:
            message["reply_markup"] = markup
        self._remember(message)
        return message

    def _reply_target(self, chat_id: int, params: JSON) -> JSON | None:
        reply_parameters = params.get("reply_parameters")
        message_id = params.get("reply_to_message_id")
        without_reply = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply_parameters, dict):
            message_id = reply_parameters.get("message_id")
            chat_id = reply_parameters.get("chat_id", chat_id)
            without_reply = bool(reply_parameters.get("allow_sending_without_reply"))
        if not isinstance(message_id, int):
            return None
        target = self.messages.get((chat_id, message_id))
        if target is None:
            if not without_reply:
                raise ApiError(400, "Bad Request: message to be replied not found")
            return None
        # Telegram does not nest replies more than one level.
        return {key: value for key, value in target.items() if key != "reply_to_message"}

    def _new_file_id(self, kind: str) -> str:
        return f"{kind}-file-{next(self._file_counter)}"

    def _file_ref(self, value: Any, files: dict[str, UploadedFile], kind: str) -> str:
        """file_id for a media field: an existing file_id, a URL, or ``attach://<part>``."""
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is None:
                raise ApiError(400, f"Bad Request: file {value!r} not found in the request")
            return upload.file_id
        if isinstance(value, str) and value:
            if value.startswith(("http://", "https://")):
                return self._new_file_id(kind)
            return value
        raise ApiError(400, f"Bad Request: there is no {kind} in the request")

    def _media_content(self, kind: str, value: Any, files: dict[str, UploadedFile]) -> JSON:
        file_id = self._file_ref(value, files, kind)
        unique = f"u-{file_id}"
        if kind == "photo":
            width, height = 1280, 960
            upload = files.get(str(value).removeprefix("attach://"))
            if upload is not None:
                width, height = _uploaded_photo_size(upload.data)
            return {
                "photo": [
                    {"file_id": file_id, "file_unique_id": unique, "width": 90, "height": 90},
                    {
                        "file_id": file_id,
                        "file_unique_id": unique,
                        "width": width,
                        "height": height,
                    },  # fmt: skip
                ]
            }
        if kind == "document":
            document: JSON = {"file_id": file_id, "file_unique_id": unique}
            upload = files.get(str(value).removeprefix("attach://"))
            if upload is not None:
                document["file_name"] = upload.filename
                document["mime_type"] = upload.content_type
                document["file_size"] = len(upload.data)
            return {"document": document}
        if kind in ("video", "animation"):
            return {
                kind: {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "width": 640,
                    "height": 480,
                    "duration": 1,
                }
            }
        return {kind: {"file_id": file_id, "file_unique_id": unique, "duration": 1}}

    def _caption(self, params: JSON) -> JSON:
        caption = params.get("caption")
        if caption is None:
            return {}
        visible = _visible_text(
            str(caption),
            params.get("parse_mode"),
            limit=MAX_CAPTION_LENGTH,
            too_long="Bad Request: message caption is too long",
            empty=None,
        )
        return {"caption": visible} if visible else {}

    def _edit_target(self, params: JSON) -> tuple[int, int, JSON] | None:
        if params.get("inline_message_id"):
            return None
        chat_id = _require_chat_id(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise ApiError(400, "Bad Request: message identifier is not specified")
        key = (chat_id, message_id)
        if key in self._deleted:
            raise ApiError(400, "Bad Request: message to edit not found")
        message = self.messages.get(key)
        if message is None:  # lenient: a message the fake never saw, e.g. fed via feed_update
            message = {
                "message_id": message_id,
                "from": dict(BOT_USER),
                "date": _now(),
                "chat": self._chat(chat_id),
            }
        elif message.get("from", {}).get("id") != BOT_ID:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat_id, message_id, message

    # ---- methods ---------------------------------------------------------------------------

    def _handlers(self) -> dict[str, Handler]:
        return {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._true,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendMediaGroup": self._send_media_group,
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "deleteMessage": self._delete_message,
            "getChat": self._get_chat,
            "getFile": self._get_file,
            "leaveChat": self._true,
            "sendChatAction": self._send_chat_action,
            "setChatMenuButton": self._true,
        }

    async def _true(self, params: JSON, files: dict[str, UploadedFile]) -> tuple[Any, list[JSON]]:
        return True, []

    async def _get_me(self, params: JSON, files: dict[str, UploadedFile]) -> tuple[Any, list[JSON]]:
        return dict(GET_ME), []

    async def _set_webhook(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[Any, list[JSON]]:
        url = params.get("url")
        if not isinstance(url, str) or not url:
            return await self._delete_webhook(params, files)
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) or DEFAULT_ALLOWED_UPDATES
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": sorted(self._allowed_updates),
            "max_connections": params.get("max_connections", 40),
        }
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver_webhook_updates())
        self._webhook_event.set()
        return True, []

    async def _delete_webhook(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[Any, list[JSON]]:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True, []

    async def _get_webhook_info(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[Any, list[JSON]]:
        info: JSON = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook:
            info["allowed_updates"] = self.webhook["allowed_updates"]
            info["max_connections"] = self.webhook["max_connections"]
        return info, []

    async def _deliver_webhook_updates(self) -> None:
        """POST pending updates to the webhook until it is deleted or the server closes."""
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=60)  # Telegram waits about a minute
        async with aiohttp.ClientSession(timeout=timeout) as http:
            tasks: set[asyncio.Task[None]] = set()
            try:
                while not self._closing.is_set() and self.webhook is not None:
                    self._webhook_event.clear()
                    self._drop_unwanted()
                    for update in list(self._pending):
                        if len(tasks) >= self.webhook_concurrency:
                            break
                        chat = _chat_key(update)
                        if update["update_id"] in self._in_flight or chat in self._busy_chats:
                            continue
                        self._in_flight.add(update["update_id"])
                        self._busy_chats.add(chat)
                        task = asyncio.create_task(self._post_update(http, update, chat))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                        task.add_done_callback(lambda _t: self._webhook_event.set())
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._webhook_event.wait(), 0.5)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _post_update(self, http: Any, update: JSON, chat: Any) -> None:
        import aiohttp

        try:
            while not self._closing.is_set() and self.webhook is not None:
                backends = self.webhook_backends or [self.webhook["url"]]
                target = backends[next(self._next_backend) % len(backends)]
                headers = {}
                if self.webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
                try:
                    async with http.post(target, json=update, headers=headers) as response:
                        status = response.status
                        await response.read()
                except (aiohttp.ClientError, TimeoutError, OSError):
                    status = 0
                self.webhook_deliveries.append(WebhookDelivery(target, update["update_id"], status))
                if 200 <= status < 300:
                    self._pending = [
                        u for u in self._pending if u["update_id"] != update["update_id"]
                    ]
                    return
                await self._sleep(0.2)  # and then the next backend
        finally:
            self._in_flight.discard(update["update_id"])
            self._busy_chats.discard(chat)

    async def _get_updates(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[Any, list[JSON]]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = float(params.get("timeout") or 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):  # remembered until changed, as Telegram does
            self._allowed_updates = frozenset(allowed) or DEFAULT_ALLOWED_UPDATES
        if isinstance(offset, int):
            if offset < 0:
                self._pending = self._pending[offset:]
            else:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._drop_unwanted()
            remaining = deadline - loop.time()
            if self._pending or remaining <= 0 or self._closing.is_set():
                break
            self._updates_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._updates_event.wait(), remaining)
        return list(self._pending[:limit]), []

    def _drop_unwanted(self) -> None:
        kept: list[JSON] = []
        for update in self._pending:
            kinds = set(update) - {"update_id"}
            if kinds & self._allowed_updates:
                kept.append(update)
            else:
                self.dropped_updates.append(update)
        self._pending = kept

    @staticmethod
    def _commands_key(params: JSON) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _set_my_commands(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[Any, list[JSON]]:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: commands must be a list")
        self.commands[self._commands_key(params)] = commands
        return True, []

    async def _get_my_commands(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[Any, list[JSON]]:
        return list(self.commands.get(self._commands_key(params), [])), []

    async def _send_message(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[Any, list[JSON]]:
        chat_id = _require_chat_id(params)
        text = _visible_text(
            str(params.get("text") or ""),
            params.get("parse_mode"),
            limit=MAX_TEXT_LENGTH,
            too_long="Bad Request: message is too long",
            empty="Bad Request: message text is empty",
        )
        message = self._new_message(chat_id, params, {"text": text})
        return message, [message]

    async def _send_photo(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[Any, list[JSON]]:
        chat_id = _require_chat_id(params)
        content = self._media_content("photo", params.get("photo"), files)
        message = self._new_message(chat_id, params, {**content, **self._caption(params)})
        return message, [message]

    async def _send_document(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[Any, list[JSON]]:
        chat_id = _require_chat_id(params)
        content = self._media_content("document", params.get("document"), files)
        message = self._new_message(chat_id, params, {**content, **self._caption(params)})
        return message, [message]

    async def _send_media_group(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[Any, list[JSON]]:
        chat_id = _require_chat_id(params)
        media = params.get("media")
        if not isinstance(media, list) or not 1 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: wrong number of media items in the group")
        group_id = str(next(self._file_counter))
        messages = []
        for item in media:
            kind = str(item.get("type", "photo"))
            content = self._media_content(kind, item.get("media"), files)
            content.update(self._caption(item))
            content["media_group_id"] = group_id
            messages.append(self._new_message(chat_id, params, content))
        return messages, messages

    def _source_message(self, params: JSON) -> JSON:
        from_chat_id = params.get("from_chat_id")
        message_id = params.get("message_id")
        if not isinstance(from_chat_id, int) or not isinstance(message_id, int):
            raise ApiError(400, "Bad Request: message to copy not found")
        return self.messages.get((from_chat_id, message_id), {})

    async def _copy_message(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[Any, list[JSON]]:
        chat_id = _require_chat_id(params)
        source = self._source_message(params)
        content = {key: value for key, value in source.items() if key in _CONTENT_KEYS}
        if "caption" in params:
            content.pop("caption", None)
            content.update(self._caption(params))
        message = self._new_message(chat_id, params, content)
        return {"message_id": message["message_id"]}, [message]

    async def _forward_message(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[Any, list[JSON]]:
        chat_id = _require_chat_id(params)
        source = self._source_message(params)
        content = {key: value for key, value in source.items() if key in _CONTENT_KEYS}
        if "entities" in source:
            content["entities"] = source["entities"]
        sender = source.get("from")
        content["forward_origin"] = (
            {"type": "user", "date": source.get("date", _now()), "sender_user": sender}
            if sender
            else {"type": "hidden_user", "date": _now(), "sender_user_name": "Hidden"}
        )
        message = self._new_message(chat_id, {}, content)
        return message, [message]

    async def _edit_message_text(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[Any, list[JSON]]:
        text = _visible_text(
            str(params.get("text") or ""),
            params.get("parse_mode"),
            limit=MAX_TEXT_LENGTH,
            too_long="Bad Request: message is too long",
            empty="Bad Request: message text is empty",
        )
        markup = _inline_markup(params.get("reply_markup"))
        target = self._edit_target(params)
        if target is None:
            return True, []
        chat_id, message_id, message = target
        known = (chat_id, message_id) in self.messages  # an unseen message is not "unmodified"
        if known and message.get("text") == text and message.get("reply_markup") == markup:
            raise ApiError(400, _NOT_MODIFIED)
        edited = {key: value for key, value in message.items() if key != "reply_markup"}
        edited.update(text=text, edit_date=_now())
        if markup is not None:
            edited["reply_markup"] = markup
        self._remember(edited)
        return edited, [edited]

    async def _edit_message_reply_markup(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[Any, list[JSON]]:
        markup = _inline_markup(params.get("reply_markup"))
        target = self._edit_target(params)
        if target is None:
            return True, []
        chat_id, message_id, message = target
        known = (chat_id, message_id) in self.messages  # an unseen message is not "unmodified"
        if known and message.get("reply_markup") == markup:
            raise ApiError(400, _NOT_MODIFIED)
        edited = {key: value for key, value in message.items() if key != "reply_markup"}
        edited["edit_date"] = _now()
        if markup is not None:
            edited["reply_markup"] = markup
        self._remember(edited)
        return edited, [edited]

    async def _delete_message(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[Any, list[JSON]]:
        chat_id = _require_chat_id(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise ApiError(400, "Bad Request: message identifier is not specified")
        key = (chat_id, message_id)
        if key in self._deleted:
            raise ApiError(400, "Bad Request: message to delete not found")
        self._deleted.add(key)
        self.messages.pop(key, None)
        return True, []

    async def _get_chat(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[Any, list[JSON]]:
        chat = self._chat(_require_chat_id(params))
        chat.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        return chat, []

    async def _get_file(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[Any, list[JSON]]:
        file_id = params.get("file_id")
        if not isinstance(file_id, str) or not file_id:
            raise ApiError(400, "Bad Request: invalid file_id")
        # Lenient: an unknown id (made up by an update builder) gets placeholder content.
        content = self.files.setdefault(file_id, f"fake content of {file_id}".encode())
        path = self._file_paths.get(file_id) or f"files/file_{next(self._file_counter)}"
        self._file_paths[file_id] = path
        result = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_size": len(content),
            "file_path": path,
        }
        return result, []

    async def _send_chat_action(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[Any, list[JSON]]:
        _require_chat_id(params)
        return True, []


def _require_chat_id(params: JSON) -> int:
    chat_id = params.get("chat_id")
    if chat_id is None or chat_id == "":
        raise ApiError(400, "Bad Request: chat_id is empty")
    if isinstance(chat_id, bool) or not isinstance(chat_id, int):
        # "@username" chats are not modelled.
        raise ApiError(400, "Bad Request: chat not found")
    return chat_id


# --------------------------------------------------------------------------------------------
# Update builders (Telegram wire format, plain dicts)
# --------------------------------------------------------------------------------------------

_update_ids = itertools.count(1)
# User messages get ids from a high range so they do not collide with the ids the fake server
# hands out to the bot's own messages (which start at 1 per chat), even when an update is fed
# straight into the dispatcher instead of through ``push_update``.
_message_ids = itertools.count(1_000_001)
_callback_ids = itertools.count(1)


def next_update_id() -> int:
    return next(_update_ids)


def _command_entities(text: str | None) -> list[JSON]:
    if not text or not text.startswith("/"):
        return []
    command = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]


def make_message_update(
    text: str | None = None,
    *,
    chat_id: int,
    user_id: int | None = None,
    first_name: str = "Lan",
    chat_type: str | None = None,
    message_id: int | None = None,
    reply_to: JSON | tuple[int, int] | None = None,
    reply_to_text: str | None = None,
    photo_file_id: str | None = None,
    document_file_id: str | None = None,
    document_name: str = "document.pdf",
    sticker: bool = False,
    voice: bool = False,
    location: tuple[float, float] | None = None,
    contact: str | None = None,
    caption: str | None = None,
    update_id: int | None = None,
    date: int | None = None,
    migrate_to_chat_id: int | None = None,
    migrate_from_chat_id: int | None = None,
    new_chat_members: list[int | JSON] | None = None,
    left_chat_member: int | JSON | None = None,
    group_chat_created: bool = False,
    edited: bool = False,
) -> JSON:
    """An update carrying a user's message.

    ``chat_type`` defaults to the id's implied type; ``user_id`` defaults to ``chat_id`` in a
    private chat. ``reply_to`` is a message dict (e.g. from ``server.messages``) or
    ``(chat_id, message_id)`` of a bot message. ``contact`` is a phone number shared by the user.
    A leading ``/command`` (also ``/command@bot``) gets its ``bot_command`` entity.
    """
    chat_type = chat_type or chat_type_for(chat_id)
    if user_id is None:
        if chat_type != "private":
            raise ValueError("user_id is required outside private chats")
        user_id = chat_id
    message_date = date if date is not None else _now()
    chat = _chat_dict(chat_id, chat_type, first_name)
    message: JSON = {
        "message_id": message_id if message_id is not None else next(_message_ids),
        "from": _user_dict(user_id, first_name),
        "date": message_date,
        "chat": chat,
    }
    if reply_to is not None:
        if isinstance(reply_to, dict):
            reply = {key: value for key, value in reply_to.items() if key != "reply_to_message"}
        else:
            reply_chat_id, reply_message_id = reply_to
            reply = {
                "message_id": reply_message_id,
                "from": dict(BOT_USER),
                "date": message_date,
                "chat": chat
                if reply_chat_id == chat_id
                else _chat_dict(reply_chat_id, chat_type_for(reply_chat_id)),
            }
            if reply_to_text is not None:
                reply["text"] = reply_to_text
        message["reply_to_message"] = reply
    if text is not None:
        message["text"] = text
        entities = _command_entities(text)
        if entities:
            message["entities"] = entities
    if photo_file_id is not None:
        unique = f"u-{photo_file_id}"
        message["photo"] = [
            {"file_id": photo_file_id, "file_unique_id": unique, "width": 90, "height": 90},
            {"file_id": photo_file_id, "file_unique_id": unique, "width": 1280, "height": 960},
        ]
    if document_file_id is not None:
        message["document"] = {
            "file_id": document_file_id,
            "file_unique_id": f"u-{document_file_id}",
            "file_name": document_name,
            "mime_type": "application/pdf" if document_name.endswith(".pdf") else None,
        }
        if message["document"]["mime_type"] is None:
            del message["document"]["mime_type"]
    if caption is not None:
        message["caption"] = caption
        entities = _command_entities(caption)
        if entities:
            message["caption_entities"] = entities
    if sticker:
        message["sticker"] = {
            "file_id": "sticker-file",
            "file_unique_id": "u-sticker-file",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
    if voice:
        message["voice"] = {
            "file_id": "voice-file",
            "file_unique_id": "u-voice-file",
            "duration": 3,
            "mime_type": "audio/ogg",
        }
    if location is not None:
        message["location"] = {"latitude": location[0], "longitude": location[1]}
    if contact is not None:
        message["contact"] = {
            "phone_number": contact,
            "first_name": first_name,
            "user_id": user_id,
        }
    if migrate_to_chat_id is not None:
        message["migrate_to_chat_id"] = migrate_to_chat_id
    if migrate_from_chat_id is not None:
        message["migrate_from_chat_id"] = migrate_from_chat_id
    if new_chat_members is not None:
        message["new_chat_members"] = [_user_dict(member) for member in new_chat_members]
    if left_chat_member is not None:
        message["left_chat_member"] = _user_dict(left_chat_member)
    if group_chat_created:
        message["group_chat_created"] = True
    if edited:
        message["edit_date"] = message_date
    key = "edited_message" if edited else "message"
    return {"update_id": update_id if update_id is not None else next_update_id(), key: message}


def make_callback_update(
    data: str,
    *,
    user_id: int,
    chat_id: int,
    message_id: int,
    message_text: str = "",
    chat_type: str | None = None,
    first_name: str = "Lan",
    reply_markup: JSON | None = None,
    callback_id: str | None = None,
    update_id: int | None = None,
) -> JSON:
    """An update for a press on an inline button under the bot's message ``message_id``."""
    chat_type = chat_type or chat_type_for(chat_id)
    message: JSON = {
        "message_id": message_id,
        "from": dict(BOT_USER),
        "date": _now(),
        "chat": _chat_dict(chat_id, chat_type, first_name),
    }
    if message_text:
        message["text"] = message_text
    if reply_markup is not None:
        message["reply_markup"] = reply_markup
    return {
        "update_id": update_id if update_id is not None else next_update_id(),
        "callback_query": {
            "id": callback_id if callback_id is not None else f"cb-{next(_callback_ids)}",
            "from": _user_dict(user_id, first_name),
            "message": message,
            "chat_instance": f"ci{chat_id}",
            "data": data,
        },
    }


def _chat_member(status: str) -> JSON:
    member: JSON = {"status": status, "user": dict(BOT_USER)}
    if status == "kicked":
        member["until_date"] = 0
    elif status == "administrator":
        member.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=False,
            can_manage_video_chats=False,
            can_restrict_members=False,
            can_promote_members=False,
            can_change_info=False,
            can_invite_users=False,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
            can_send_welcome_messages=False,
        )
    return member


def make_my_chat_member_update(
    chat_id: int,
    *,
    new_status: str = "kicked",
    old_status: str | None = None,
    user_id: int | None = None,
    chat_type: str | None = None,
    first_name: str = "Lan",
    update_id: int | None = None,
) -> JSON:
    """The bot's own membership changed: blocked ("kicked") in private, removed, added, promoted.

    ``user_id`` is who made the change (defaults to the private chat's user).
    """
    if new_status not in ("kicked", "left", "member", "administrator"):
        raise ValueError(f"unsupported status {new_status!r}")
    chat_type = chat_type or chat_type_for(chat_id)
    if old_status is None:
        old_status = "member" if new_status in ("kicked", "left", "administrator") else "left"
    actor = user_id if user_id is not None else (chat_id if chat_id > 0 else 1)
    return {
        "update_id": update_id if update_id is not None else next_update_id(),
        "my_chat_member": {
            "chat": _chat_dict(chat_id, chat_type, first_name),
            "from": _user_dict(actor, first_name),
            "date": _now(),
            "old_chat_member": _chat_member(old_status),
            "new_chat_member": _chat_member(new_status),
        },
    }
