"""The SQLite driver: statements on the event loop, another process's write lock waited for
without blocking the loop."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import create_engine


async def test_statements_do_not_cross_to_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each statement used to be a round trip to aiosqlite's thread (the hand-off cost more
    than the statement, and a transaction held SQLite's lock across every one of them)."""
    import aiosqlite

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3")
    try:
        async with engine.begin() as conn:  # connected: the connection is opened in the thread
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        hops = 0
        real = aiosqlite.Connection._execute

        async def counting(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal hops
            hops += 1
            return await real(self, fn, *args, **kwargs)

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))
            await conn.execute(text("INSERT INTO t VALUES (2)"))
            assert (await conn.execute(text("SELECT sum(x) FROM t"))).scalar() == 3
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 2
        assert hops == 0
    finally:
        await engine.dispose()


async def test_another_process_holding_the_write_lock_is_waited_for_asynchronously(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        other = sqlite3.connect(path, isolation_level=None)  # "another process"
        other.execute("BEGIN IMMEDIATE")  # holds SQLite's write lock
        other.execute("INSERT INTO t VALUES (1)")
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        async def write() -> None:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (2)"))

        beat = asyncio.create_task(ticker())
        writer = asyncio.create_task(write())
        await asyncio.sleep(0.5)
        assert not writer.done()  # waiting for the lock…
        assert ticks >= 20  # …without blocking the event loop
        other.execute("COMMIT")
        await asyncio.wait_for(writer, 5)
        beat.cancel()
        other.close()
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT sum(x) FROM t"))).scalar() == 3
    finally:
        await engine.dispose()
