"""Warm-up: what the first citizens after a start would otherwise wait for.

Commands and the bot start fast because the heavy parts are loaded on first use: numpy (the
search's scoring), the templates and the default locale's messages, the country's
administrative units (an address given in a filing), the holiday package and its translations
(a new case's reply deadline). Each costs 30-170 ms the first time, and in the bot that first
time stopped the event loop: the first question, the first address and the first submitted
case each took 0.1-0.25 s, and every update queued behind them waited as long (at 100
updates/s, a tail of a second or two).

`warm_up` loads them in a thread as the bot starts taking updates (polling or webhook). The
thread touches only caches that store a part once it is whole: imports (the import lock),
`load_gazetteer`'s `lru_cache`, the renderer's jinja2 template cache (stored under its own
lock) and its dict of message catalogs (a catalog is parsed in full before it is stored). So
it needs no lock of its own: a handler that gets there first loads the part itself, and one of
the two copies is kept — either is complete. While the thread runs, the loop shares the
interpreter with it (the thread gives the GIL up every few milliseconds); a handler that needs
a module the thread is importing waits for that import to end (numpy, at most ~80 ms), which
is no longer than importing it itself. Once it is done, the bot moves what it loaded out of
the cyclic collector's reach, as it did with the search index at the start (`bot/runner.py`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.telegram.rendering import Renderer

log = logging.getLogger(__name__)


def _numpy() -> None:
    import numpy  # noqa: F401  the search's scoring imports it on the first question


def _places(province: str | None) -> Callable[[], None]:
    def load() -> None:
        if province:
            from knowledge.places import load_gazetteer

            load_gazetteer(province)

    return load


def _holidays() -> None:
    from bot.domain.reply_clock import WorkCalendar

    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    # The package imports a country's module and its translations on first use; a throwaway
    # calendar loads them (its year tables are its own: the application's calendar builds
    # its years itself, ~0 ms once the module is loaded).
    WorkCalendar().is_working_day(today)


def _templates(renderer: Renderer | None) -> Callable[[], None]:
    def compile_all() -> None:
        if renderer is None:
            return
        # jinja2 compiles a template on its first render (a few ms each, 32 of them) and
        # keeps it in the environment's cache, which takes a lock to store it.
        for name in renderer.env.list_templates():
            renderer.env.get_template(name)
        # The default locale's message catalog, parsed on first use.
        renderer.fluent[renderer.default_locale]  # noqa: B018

    return compile_all


def steps(
    province: str | None, renderer: Renderer | None = None
) -> list[tuple[str, Callable[[], None]]]:
    """What `warm_up` loads, by name, in the order the first citizens need it."""
    return [
        ("numpy", _numpy),
        ("templates", _templates(renderer)),
        ("places", _places(province)),
        ("holidays", _holidays),
    ]


def warm_up_now(province: str | None, renderer: Renderer | None = None) -> dict[str, float]:
    """Load every part here and now; the milliseconds each took. A part that fails is logged
    and skipped: it is loaded again, or fails properly, where it is used."""
    took: dict[str, float] = {}
    for name, step in steps(province, renderer):
        started = time.perf_counter()
        try:
            step()
        except Exception:
            log.exception("warm-up: %s failed", name)
            continue
        took[name] = 1000 * (time.perf_counter() - started)
    return took


async def warm_up(province: str | None, renderer: Renderer | None = None) -> dict[str, float]:
    """`warm_up_now` in a thread of its own, the event loop going on meanwhile."""
    took = await asyncio.to_thread(warm_up_now, province, renderer)
    log.info("warm-up done: %s", ", ".join(f"{k} {v:.0f} ms" for k, v in took.items()))
    return took
