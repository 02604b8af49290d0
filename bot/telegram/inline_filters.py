"""Filters run on the event loop, not in a thread.

aiogram calls a filter that is not a coroutine function — every magic filter (`F.text`,
`F.chat.type == "private"`) and every plain function — through `asyncio.to_thread`
(`CallableObject.call`). Each such check is a round trip to a worker thread and back through the
event loop's self-pipe, and an update is checked against many handlers' filters before one
matches: under load that hand-off, not the check, was most of the cost of routing an update.
Our sync filters only look at the update (no I/O, microseconds), so they are wrapped as
coroutine functions and run inline.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import HandlerObject


def _inline(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return callback(*args, **kwargs)

    return run


def run_filters_inline(router: Router) -> int:
    """Make every sync filter of `router` and its sub-routers (handlers' filters and the
    routers' own) run on the event loop; how many were changed. Call once the routers are
    set up."""
    changed = 0
    for each in router.chain_tail:
        for observer in each.observers.values():
            handlers: list[HandlerObject] = list(observer.handlers)
            own = getattr(observer, "_handler", None)
            if isinstance(own, HandlerObject):
                handlers.append(own)
            for handler in handlers:
                for event_filter in handler.filters or ():
                    if not event_filter.awaitable:
                        event_filter.callback = _inline(event_filter.callback)
                        event_filter.awaitable = True
                        changed += 1
    return changed
