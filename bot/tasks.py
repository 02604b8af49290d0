"""Waiting on the event loop: the inbox's and the outbox's workers share these."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable


async def first_of(*events: asyncio.Event, within: float) -> None:
    """Wait until one of `events` is set, or `within` seconds."""
    if any(e.is_set() for e in events):
        return
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=within, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def wind_down(tasks: Iterable[asyncio.Task[object]], grace: float) -> None:
    """Let `tasks` finish for up to `grace` seconds, then cancel the rest and wait for them."""
    running = set(tasks)
    if not running:
        return
    _, pending = await asyncio.wait(running, timeout=grace)
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
