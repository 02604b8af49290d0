"""One autoescaping Jinja environment for every template, Fluent catalogs for every message
(`locales/<locale>/*.ftl`), and message splitting.

Telegram HTML parse mode rejects unescaped `<`, `>`, `&` (Bot API, "HTML style"), so
user and knowledge-base text only ever reaches a message through autoescaped rendering.
"""

from __future__ import annotations

import html
import json
import re
import sys
from collections.abc import Callable
from datetime import date, datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from fluent.runtime import FluentBundle, FluentResource
from fluent.runtime.types import FluentInt
from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup, escape

from bot.domain.text import index_at_units, utf16_len

LOCALES = ("vi", "en")
TELEGRAM_TEXT_LIMIT = 4096
# Headroom below Telegram's limit: entities like &amp; count as one character after
# parsing, so the raw HTML length is an upper bound; keep a margin all the same.
SAFE_TEXT_LIMIT = 4000


def _legacy_json(locale: str) -> dict[str, str]:
    """`locales/<locale>.json` and `locales/<locale>.<feature>.json` left from before the
    Fluent catalogs (a branch that still adds keys there): used for keys no .ftl has, until
    `python -m bot.telegram.i18n_convert` moves them."""
    folder = resources.files("bot.telegram").joinpath("locales")
    data: dict[str, str] = {}
    for extra in sorted(folder.iterdir(), key=lambda f: f.name):
        if extra.name.endswith(".json") and extra.name.split(".")[0] == locale:
            data.update(json.loads(extra.read_text("utf-8")))
    return data


def _fluent_sources(locale: str) -> list[str]:
    """Every `locales/<locale>/*.ftl`, by file name."""
    folder = resources.files("bot.telegram").joinpath("locales", locale)
    if not folder.is_dir():
        return []
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".ftl")), key=lambda f: f.name)
    return [f.read_text("utf-8") for f in files]


# The administrative date style, dd/mm/yyyy (and the time before it).
DAY_FORMAT = "%d/%m/%Y"
DAYTIME_FORMAT = "%H:%M %d/%m/%Y"


class FluentCatalog:
    """One locale's Fluent messages (Project Fluent: CLDR plural rules through Babel).

    Parameters are escaped for Telegram HTML before they reach Fluent; whole numbers are
    shown without digit grouping (chat ids, years, codes); other numbers and the dates are
    formatted by Babel for the locale (dates as dd/mm/yyyy, the administrative style)."""

    def __init__(self, locale: str, tz: ZoneInfo, sources: list[str]) -> None:
        self.locale = locale
        self.tz = tz
        # Custom functions return plain strings, which fluent.runtime accepts as text.
        functions: dict[str, Any] = {
            "DAY": self._day,
            "DAYTIME": self._daytime,
            "LOWER": lambda value: str(value).lower(),
            "PRESENT": lambda value: "yes" if value else "no",
        }
        self.bundle = FluentBundle(
            [locale],
            use_isolating=False,  # no Unicode isolation marks: Telegram would show them
            functions=functions,
        )
        self.sources: dict[str, str] = {}
        for source in sources:
            resource = FluentResource(source)
            self.bundle.add_resource(resource)
            for entry in resource.body:
                ident = getattr(getattr(entry, "id", None), "name", None)
                span = getattr(entry, "span", None)
                if ident is not None and span is not None:
                    self.sources[ident.replace("-", ".")] = source[span.start : span.end]

    def _local(self, value: date) -> date:
        return value.astimezone(self.tz) if isinstance(value, datetime) else value

    # Dates are all-numeric (dd/mm/yyyy, the administrative style) in both locales, which
    # Babel would write with the same Latin digits: strftime gives the same text many times
    # faster (a monthly late list formats thousands of dates).
    def _day(self, value: date) -> str:
        return self._local(value).strftime(DAY_FORMAT)

    def _daytime(self, value: datetime) -> str:
        return self._local(value).strftime(DAYTIME_FORMAT)

    def __contains__(self, key: str) -> bool:
        return key in self.sources

    def format(self, key: str, params: dict[str, Any]) -> Markup:
        message = self.bundle.get_message(key.replace(".", "-"))
        if message.value is None:
            raise KeyError(f"message {key!r} has no value")
        args = {name: _fluent_arg(value) for name, value in params.items()}
        text, errors = self.bundle.format_pattern(message.value, args)
        if errors:
            raise ValueError(f"{self.locale} {key}: {errors}")
        return Markup(text)


class _PlainInt(FluentInt):
    """An integer for Fluent (plural variants still select on it), written without digit
    grouping: both shipped locales write its digits the same, so Babel's number pattern is not
    needed (a long report formats thousands of them)."""

    def format(self, locale: Any) -> str:
        return str(int(self))


def _fluent_arg(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return _PlainInt(value, useGrouping=False)
    if isinstance(value, float | date):
        return value
    return escape(value)  # Markup stays as it is; everything else is escaped


class _Catalogs(dict[str, FluentCatalog]):
    """Locale → its Fluent catalog, parsed on first access."""

    def __init__(self, tz: ZoneInfo) -> None:
        super().__init__()
        self.tz = tz

    def __missing__(self, locale: str) -> FluentCatalog:
        if locale not in LOCALES:
            raise KeyError(locale)
        catalog = self[locale] = FluentCatalog(locale, self.tz, _fluent_sources(locale))
        return catalog


class Renderer:
    """Renders templates and catalog strings for a locale, escaping everything not ours."""

    def __init__(self, tz: ZoneInfo, default_locale: str = "vi") -> None:
        self.tz = tz
        self.default_locale = default_locale
        self.env = Environment(
            loader=PackageLoader("bot.telegram", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            # Templates ship with the code: no file-system check on every render.
            auto_reload=False,
        )
        self.env.filters["dt"] = self._format_datetime
        self.env.filters["d"] = self._format_date
        # Each locale's catalogs are parsed when first used (a few tenths of a second: a
        # command that prints no message does not pay for it).
        self.fluent = _Catalogs(tz)
        self.legacy = {loc: _legacy_json(loc) for loc in LOCALES}
        self._compiled: dict[tuple[str, str], Template] = {}

    @property
    def catalogs(self) -> dict[str, dict[str, str]]:
        """Every key each locale has, with its source text."""
        return {loc: {**self.legacy[loc], **self.fluent[loc].sources} for loc in LOCALES}

    def _format_datetime(self, value: datetime) -> str:
        return value.astimezone(self.tz).strftime(DAYTIME_FORMAT)

    def _format_date(self, value: date) -> str:
        if isinstance(value, datetime):
            value = value.astimezone(self.tz)
        return value.strftime(DAY_FORMAT)

    def locale_of(self, locale: str | None) -> str:
        return locale if locale in LOCALES else self.default_locale

    def t(self, key: str, locale: str | None = None, **params: Any) -> str:
        """A catalog message with its parameters escaped (HTML-safe Markup); a key missing in
        the locale falls back to the default locale."""
        loc = self.locale_of(locale)
        for candidate in (loc, self.default_locale):
            if key in self.fluent[candidate]:
                return self.fluent[candidate].format(key, params)
            if key in self.legacy[candidate]:
                return self._legacy(candidate, key, params)
        raise KeyError(f"missing translation {key!r}")

    def _legacy(self, loc: str, key: str, params: dict[str, Any]) -> str:
        template = self._compiled.get((loc, key))
        if template is None:
            template = self.env.from_string(self.legacy[loc][key])
            self._compiled[(loc, key)] = template
        return Markup(template.render(**params))

    def plain(self, key: str, locale: str | None = None, **params: Any) -> str:
        """A catalog string as plain text (button labels: Telegram shows them verbatim)."""
        return Markup(self.t(key, locale, **params)).unescape()

    def render(self, template: str, locale: str | None = None, **ctx: Any) -> str:
        """Render `templates/<template>` with `t` bound to the locale."""
        loc = self.locale_of(locale)
        bound: Callable[..., str] = lambda key, **p: self.t(key, loc, **p)  # noqa: E731
        return self.env.get_template(template).render(t=bound, locale=loc, **ctx).strip()


_TAG = re.compile(r"<(/?)([a-z\-]+)((?:\s[^>]*)?)>")


def _open_tags_after(chunk: str, stack: list[tuple[str, str]]) -> list[tuple[str, str]]:
    stack = list(stack)
    for closing, name, attrs in _TAG.findall(chunk):
        if closing:
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == name:
                    del stack[i]
                    break
        else:
            stack.append((name, attrs))
    return stack


def _cut_point(text: str, limit: int) -> int:
    """Where to cut `text` so the first part is at most `limit` long, nicely."""
    window = text[:limit]
    for sep in ("\n\n", "\n", ". ", " "):
        pos = window.rfind(sep)
        if pos > limit // 3:
            return pos + len(sep)
    pos = limit
    # Never cut inside a tag or an entity.
    lt, gt = window.rfind("<"), window.rfind(">")
    if lt > gt:
        pos = lt
    amp = window.rfind("&")
    if amp > window.rfind(";") and amp >= limit - 10:
        pos = min(pos, amp)
    return max(pos, 1)


def split_html(text: str, limit: int = SAFE_TEXT_LIMIT) -> list[str]:
    """Split Telegram HTML into parts of at most `limit` UTF-16 units (Telegram's unit: an
    emoji outside the Basic Multilingual Plane counts twice), keeping tags balanced."""
    parts: list[str] = []
    stack: list[tuple[str, str]] = []
    rest = text
    while rest:
        prefix = "".join(f"<{n}{a}>" for n, a in stack)
        closing = sum(len(n) + 3 for n, _ in stack)
        room = limit - utf16_len(prefix) - closing
        # A text never has fewer UTF-16 units than characters: a long rest is not measured
        # (measuring it at every cut made a long list quadratic).
        if len(rest) <= room and utf16_len(rest) <= room:
            parts.append(prefix + rest)
            break
        # Room for closing whatever is open at the cut.
        budget = limit - utf16_len(prefix) - closing - 64
        cut = _cut_point(rest, index_at_units(rest, max(budget, 1)))
        chunk, rest = rest[:cut], rest[cut:].lstrip("\n")
        new_stack = _open_tags_after(chunk, stack)
        suffix = "".join(f"</{n}>" for n, _ in reversed(new_stack))
        parts.append((prefix + chunk).rstrip() + suffix)
        stack = new_stack
    return [p for p in parts if p.strip()]


def html_to_terminal(text: str) -> str:
    """Telegram HTML to plain terminal text (bold kept as ANSI when printing to a TTY)."""
    bold_on, bold_off = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")
    text = re.sub(r"<b>", bold_on, text)
    text = re.sub(r"</b>", bold_off, text)
    text = re.sub(r'<a href="([^"]*)">([^<]*)</a>', r"\2 (\1)", text)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text)


def mention(user_id: int | None, name: str | None) -> str:
    """An HTML mention of a Telegram user (Bot API: <a href="tg://user?id=…">), escaped."""
    label = escape(name or str(user_id or ""))
    if user_id is None:
        return str(label)
    return f'<a href="tg://user?id={int(user_id)}">{label}</a>'
