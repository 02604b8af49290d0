"""How long SQLite commits stop the event loop: the same write transactions through our driver
(checkpoints in the driver's thread, durable commits synced in a thread) and, as the
reference in the same run, through the same driver with SQLite's own automatic checkpoint
(inside the commit that takes the WAL past 1,000 pages, on the loop) and durable commits
synced on the loop — what the driver did before.

Run: .venv/bin/python benchmarks/bench_commits.py [--transactions 5000] [--rounds 2]
     (the README's figures: --rounds 3 --transactions 8000)

Each transaction inserts a row of ~600 bytes and updates another, like an update's handler;
every tenth is durable (`storage.db.durably`), like the inbox's store of a polled batch. A
task beside them sleeps 1 ms at a time and records how late it wakes: the loop's stalls.
SQLite in a fresh temporary folder. Not a test: it prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from storage import sqlite_driver  # noqa: E402
from storage.db import create_engine, durably  # noqa: E402


async def run(path: Path, transactions: int, *, reference: bool) -> dict[str, float]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    real_period = sqlite_driver.CHECKPOINT_SECONDS
    real_commit_in_thread = sqlite_driver._commit_in_thread
    if reference:

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_checkpoints(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA wal_autocheckpoint=1000")  # SQLite's default
            cursor.close()

        sqlite_driver.CHECKPOINT_SECONDS = 3600.0  # the thread makes no checkpoint

        def on_the_loop(conn: Any, _thread: Any) -> None:
            sqlite_driver._commit(conn, True)

        sqlite_driver._commit_in_thread = on_the_loop  # type: ignore[assignment]

    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT, n INTEGER)"))
    stalls: list[float] = []
    done = False

    async def ticker() -> None:
        while not done:
            t = time.perf_counter()
            await asyncio.sleep(0.001)
            stalls.append(time.perf_counter() - t - 0.001)

    beat = asyncio.create_task(ticker())
    started = time.perf_counter()
    try:
        for i in range(transactions):
            async with AsyncSession(engine) as session:
                if i % 10 == 0:
                    await durably(session)
                await session.execute(
                    text("INSERT INTO t (x, n) VALUES (:x, 0)"), {"x": f"{i:08d}" + "x" * 592}
                )
                await session.execute(
                    text("UPDATE t SET n = n + 1 WHERE id = :id"), {"id": i // 2 + 1}
                )
                await session.commit()
            if i % 20 == 0:
                await asyncio.sleep(0)  # let the ticker see the loop between transactions
    finally:
        sqlite_driver.CHECKPOINT_SECONDS = real_period
        sqlite_driver._commit_in_thread = real_commit_in_thread
    elapsed = time.perf_counter() - started
    done = True
    await beat
    await engine.dispose()
    stalls.sort()
    return {
        "transactions/s": transactions / elapsed,
        "loop stall p99 (ms)": stalls[int(len(stalls) * 0.99)] * 1000,
        "loop stall max (ms)": stalls[-1] * 1000,
        "stalls over 10 ms": float(sum(1 for s in stalls if s > 0.010)),
        "time in stalls over 10 ms (ms)": sum(s for s in stalls if s > 0.010) * 1000,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"ours": [], "reference": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            # alternate which goes first: the machine's state changes within a run
            order = ("ours", "reference") if r % 2 == 0 else ("reference", "ours")
            for kind in order:
                path = Path(tmp) / f"{kind}{r}.sqlite3"
                results[kind].append(
                    await run(path, args.transactions, reference=kind == "reference")
                )
    print(
        f"{args.transactions} write transactions (every tenth durable), "
        f"median of {args.rounds} rounds; checkpoint period {sqlite_driver.CHECKPOINT_SECONDS} s"
    )
    print(f"{'':34}{'ours':>12}{'reference':>12}")
    for key in results["ours"][0]:
        ours = statistics.median(r[key] for r in results["ours"])
        ref = statistics.median(r[key] for r in results["reference"])
        print(f"  {key:32}{ours:12.1f}{ref:12.1f}")
    print("reference: SQLite's automatic checkpoint and durable syncs in the commit, on the loop")


if __name__ == "__main__":
    asyncio.run(main())
