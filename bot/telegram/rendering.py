"""One autoescaping Jinja environment for every user-visible string, and message splitting.

Telegram HTML parse mode rejects unescaped `<`, `>`, `&` (Bot API, "HTML style"), so
user and knowledge-base text only ever reaches a message through autoescaped rendering.
"""

from __future__ import annotations

import html
import json
import re
import sys
from collections.abc import Callable
from datetime import datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup

LOCALES = ("vi", "en")
TELEGRAM_TEXT_LIMIT = 4096
# Headroom below Telegram's limit: entities like &amp; count as one character after
# parsing, so the raw HTML length is an upper bound; keep a margin all the same.
SAFE_TEXT_LIMIT = 4000


def _load_catalog(locale: str) -> dict[str, str]:
    """`locales/<locale>.json` plus any `locales/<locale>.<feature>.json` beside it."""
    folder = resources.files("bot.telegram").joinpath("locales")
    base = folder.joinpath(f"{locale}.json")
    # A locale without a catalog falls back to the default locale key by key (see `t`).
    data: dict[str, str] = json.loads(base.read_text("utf-8")) if base.is_file() else {}
    for extra in sorted(folder.iterdir(), key=lambda f: f.name):
        if extra.name.startswith(f"{locale}.") and extra.name != f"{locale}.json":
            data.update(json.loads(extra.read_text("utf-8")))
    return data


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
        self.catalogs = {loc: _load_catalog(loc) for loc in LOCALES}
        self._compiled: dict[tuple[str, str], Template] = {}

    def _format_datetime(self, value: datetime) -> str:
        return value.astimezone(self.tz).strftime("%H:%M %d/%m/%Y")

    def _format_date(self, value: datetime) -> str:
        return value.astimezone(self.tz).strftime("%d/%m/%Y")

    def locale_of(self, locale: str | None) -> str:
        return locale if locale in self.catalogs else self.default_locale

    def t(self, key: str, locale: str | None = None, **params: Any) -> str:
        """A catalog string with its parameters escaped (HTML-safe Markup)."""
        loc = self.locale_of(locale)
        template = self._compiled.get((loc, key))
        if template is None:
            source = self.catalogs[loc].get(key) or self.catalogs[self.default_locale].get(key)
            if source is None:
                raise KeyError(f"missing translation {key!r}")
            template = self.env.from_string(source)
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
    """Split Telegram HTML into parts of at most `limit` characters, keeping tags balanced."""
    parts: list[str] = []
    stack: list[tuple[str, str]] = []
    rest = text
    while rest:
        prefix = "".join(f"<{n}{a}>" for n, a in stack)
        budget = limit - len(prefix)
        # Room for closing whatever is open at the cut.
        budget -= sum(len(n) + 3 for n, _ in stack) + 64
        if len(prefix) + len(rest) + sum(len(n) + 3 for n, _ in stack) <= limit:
            parts.append(prefix + rest)
            break
        cut = _cut_point(rest, max(budget, 1))
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
