"""The SQLite driver: statements on the event loop, another process's write lock waited for
without blocking the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

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


async def _fill(engine: AsyncEngine, pages: int) -> None:
    """One transaction writing about `pages` pages of 4 KiB."""
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO t (x) VALUES (:x)"), [{"x": "p" * 4000} for _ in range(pages)]
        )


async def test_a_commit_on_the_event_loop_leaves_the_checkpoint_to_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite checkpoints the WAL inside the commit that takes it past 1,000 pages: it copies
    the pages into the database file and syncs it, which took up to 30 ms here and far more
    on a busy disk, with the whole event loop stopped. Here that commit only appends to the
    WAL; the copy is made by a thread of the driver's own."""
    from storage import sqlite_driver

    monkeypatch.setattr(
        sqlite_driver, "CHECKPOINT_SECONDS", 3600.0, raising=False
    )  # no timed checkpoint
    path = tmp_path / "db.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x TEXT)"))
        before = path.stat().st_size
        await _fill(engine, 1500)  # past SQLite's automatic checkpoint (1,000 pages)
        await _fill(engine, 10)
        assert path.stat().st_size == before  # nothing copied on the loop
        checkpointer = sqlite_driver.checkpointer_of(engine, path)
        assert checkpointer is not None
        busy, log, copied = await asyncio.to_thread(checkpointer.checkpoint)
        assert busy == 0 and log == copied and copied >= 1500
        assert path.stat().st_size > before + 1500 * 4000
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 1510
    finally:
        await engine.dispose()


async def test_the_wal_is_checkpointed_in_the_background_while_the_database_is_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import sqlite_driver

    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_SECONDS", 0.05, raising=False)
    path = tmp_path / "db.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x TEXT)"))
        before = path.stat().st_size
        await _fill(engine, 50)
        for _ in range(200):  # the thread copies the pages within its period
            if path.stat().st_size > before + 50 * 4000:
                break
            await asyncio.sleep(0.02)
        assert path.stat().st_size > before + 50 * 4000
    finally:
        await engine.dispose()
    # the last connection closed: the thread is gone
    assert sqlite_driver.checkpointer_of(engine, path) is None


async def test_a_durable_commit_syncs_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A durable commit (synchronous=FULL) waits for the disk to sync the WAL: in a thread,
    so the other updates go on meanwhile. An ordinary commit (no sync in WAL mode) stays on
    the loop, where it costs less than a thread's hand-off."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from storage import sqlite_driver
    from storage.db import durably

    threads: list[tuple[bool, int]] = []
    real = sqlite_driver._commit

    def spying(conn: sqlite3.Connection, durable: bool) -> None:
        threads.append((durable, threading.get_ident()))
        real(conn, durable)

    monkeypatch.setattr(sqlite_driver, "_commit", spying)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3")
    loop_thread = threading.get_ident()
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x TEXT)"))
        threads.clear()
        async with AsyncSession(engine) as session:
            await durably(session)
            await session.execute(text("INSERT INTO t VALUES ('durable')"))
            await session.commit()
        async with AsyncSession(engine) as session:
            await session.execute(text("INSERT INTO t VALUES ('ordinary')"))
            await session.commit()
        assert [durable for durable, _ in threads] == [True, False]
        assert threads[0][1] != loop_thread
        assert threads[1][1] == loop_thread
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 2
    finally:
        await engine.dispose()


async def test_a_durable_commit_cancelled_meanwhile_ends_before_the_writer_lock_is_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit goes on in its thread whatever happens to the task that waits for it (a
    stop cancels that task): the next writer starts only once it has ended."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from storage import sqlite_driver
    from storage.db import durably

    real = sqlite_driver._commit
    ended: list[float] = []

    def slow(conn: sqlite3.Connection, durable: bool) -> None:
        if durable:
            time.sleep(0.3)  # a slow disk
        real(conn, durable)
        if durable:
            ended.append(time.monotonic())

    monkeypatch.setattr(sqlite_driver, "_commit", slow)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x TEXT)"))

        async def durable_write() -> None:
            async with AsyncSession(engine) as session:
                await durably(session)
                await session.execute(text("INSERT INTO t VALUES ('durable')"))
                await session.commit()

        task = asyncio.create_task(durable_write())
        await asyncio.sleep(0.1)  # in its commit
        task.cancel()
        async with engine.begin() as conn:  # the next writer
            await conn.execute(text("INSERT INTO t VALUES ('next')"))
            started = time.monotonic()  # it has the writer lock
        with pytest.raises(asyncio.CancelledError):
            await task
        assert ended and ended[0] <= started
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT x FROM t ORDER BY rowid"))).scalars().all()
        assert rows == ["durable", "next"]
    finally:
        await engine.dispose()
