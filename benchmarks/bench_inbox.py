"""What the inbox costs each update at a steady rate, where every update arrives alone: the
store on receipt (its own durable transaction), the claim (a transaction), and the done-record
(one statement in the handler's transaction).

Run: .venv/bin/python benchmarks/bench_inbox.py [--updates 1000] [--rounds 3]
     [--url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_inbox]

Default: SQLite in a fresh temporary folder, as `citizen-bot run` uses it. Figures are CPU
time of this process per update (`time.process_time`, all threads), beside two references
measured in the same run: an empty transaction, and a transaction with one SELECT built
once. Not a test: it prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, select  # noqa: E402

from bot.clock import SystemClock  # noqa: E402
from bot.telegram.inbox import store_updates  # noqa: E402
from storage.db import create_engine, create_session_factory  # noqa: E402
from storage.models import Base, FsmRecord  # noqa: E402
from storage.repositories import InboxRepo  # noqa: E402

BOT = 7
CHATS = 50


def message(update_id: int) -> dict[str, Any]:
    chat = 100 + update_id % CHATS
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": chat, "type": "private", "first_name": "Lan"},
            "from": {"id": chat, "is_bot": False, "first_name": "Lan"},
            "text": "đăng ký khai sinh cho con cần giấy tờ gì",
        },
    }


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--url", default="")
    args = parser.parse_args(argv)
    url = args.url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench_inbox.sqlite3"
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    sessions = create_session_factory(engine)
    clock = SystemClock()
    table: Any = FsmRecord.__table__
    one_row = select(table.c.state).where(table.c.key == bindparam("k"))
    next_id = 1
    claimed: list[Any] = []

    async def empty() -> None:
        async with sessions.begin() as session:
            await session.connection()  # begun and committed, with nothing in it

    async def one_select() -> None:
        async with sessions.begin() as session:
            await session.execute(one_row, {"k": "none"})

    async def store() -> None:
        nonlocal next_id
        await store_updates(sessions, BOT, [message(next_id)], clock)
        next_id += 1

    async def claim() -> None:
        now = clock.now()
        async with sessions.begin() as session:
            rows = await InboxRepo(session).claim(
                BOT, now, until=now + timedelta(seconds=30), token="bench", limit=32
            )
        claimed.extend(rows)

    async def finish() -> None:
        async with sessions.begin() as session:
            for row in claimed:
                await InboxRepo(session).finish(BOT, row.update_id, clock.now())
        claimed.clear()

    steps: dict[str, Callable[[], Awaitable[None]]] = {
        "reference: empty transaction": empty,
        "reference: transaction, one SELECT": one_select,
        "store (durable transaction)": store,
        "claim (transaction)": claim,
        "done-record (own transaction here)": finish,
    }
    spent: dict[str, list[float]] = {name: [] for name in steps}
    for round_ in range(args.rounds + 1):  # the first round warms up
        totals = dict.fromkeys(steps, 0.0)
        for _ in range(args.updates):
            for name, step in steps.items():
                started = time.process_time()
                await step()
                totals[name] += time.process_time() - started
        if round_:
            for name, total in totals.items():
                spent[name].append(total / args.updates * 1e6)
    await engine.dispose()
    print(f"{args.updates} updates, one at a time, {args.rounds} rounds; {url.split(':')[0]}")
    print(f"{'CPU per update (µs), median of rounds':44s} {'median':>8s} {'min':>8s}")
    for name, values in spent.items():
        print(f"  {name:42s} {statistics.median(values):8.0f} {min(values):8.0f}")


if __name__ == "__main__":
    asyncio.run(main())
