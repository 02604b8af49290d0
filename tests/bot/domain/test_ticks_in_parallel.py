"""Several processes tick every minute: what is due goes out once."""

from __future__ import annotations

import asyncio
from collections import Counter

from bot.clock import FixedClock
from tests.bot.domain.test_reminders import (
    GROUP_TTPV,
    GROUP_UBND,
    bind,
    local,
    make_app,
    outbox,
    submit,
)


async def test_processes_ticking_at_the_same_moment_send_each_message_once(
    database_url: str,
) -> None:
    clock = FixedClock(local(2026, 11, 23))
    first = await make_app(None, clock, database_url=database_url)  # type: ignore[arg-type]
    others = [await make_app(None, clock, database_url=database_url) for _ in range(3)]  # type: ignore[arg-type]
    apps = [first, *others]
    try:
        await bind(first, TTPVHCC=GROUP_TTPV, UBND_TINH=GROUP_UBND)
        for i in range(6):
            await submit(first, f"Phản ánh số {i} về thái độ của cán bộ tiếp nhận hồ sơ.")
        # Due 3/12; on 1/12 the two-day reminders are due; on 4/12 the escalations. 1/12 is
        # also past the monthly report's day.
        for day in (1, 4):
            clock.set(local(2026, 12, day, 9))
            await asyncio.gather(*(app_tick(a) for a in apps))
        rows = await outbox(first)
        by_purpose = Counter(r.purpose for r in rows)
        assert by_purpose["reminder"] == 6, by_purpose
        texts = Counter((r.chat_id, r.payload.get("text")) for r in rows)
        assert max(texts.values()) == 1, [t for t, n in texts.items() if n > 1][:3]
    finally:
        for a in apps:
            await a.close()


async def app_tick(app):  # type: ignore[no-untyped-def]
    from bot.domain.reminders import run_tick

    return await run_tick(app)
