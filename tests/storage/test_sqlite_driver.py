"""The SQLite driver: statements on the event loop, another process's write lock waited for
without blocking the loop."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage import sqlite_driver
from storage.db import create_engine, durably


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
        assert await _rows(engine) == 2
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


@contextlib.asynccontextmanager
async def _database(path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on a new database file with a table `t (x TEXT)`, disposed at the end."""
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x TEXT)"))
        yield engine
    finally:
        await engine.dispose()


async def _rows(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM t"))).scalar_one())


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
    # no timed checkpoint
    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_SECONDS", 3600.0, raising=False)
    path = tmp_path / "db.sqlite3"
    async with _database(path) as engine:
        before = path.stat().st_size
        await _fill(engine, 1500)  # past SQLite's automatic checkpoint (1,000 pages)
        await _fill(engine, 10)
        assert path.stat().st_size == before  # nothing copied on the loop
        checkpointer = sqlite_driver.checkpointer_of(engine, path)
        assert checkpointer is not None
        busy, log, copied = await asyncio.to_thread(checkpointer.checkpoint)
        assert busy == 0 and log == copied and copied >= 1500
        assert path.stat().st_size > before + 1500 * 4000
        assert await _rows(engine) == 1510


async def test_the_wal_is_checkpointed_in_the_background_while_the_database_is_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_SECONDS", 0.05, raising=False)
    path = tmp_path / "db.sqlite3"
    async with _database(path) as engine:
        before = path.stat().st_size
        await _fill(engine, 50)
        for _ in range(200):  # the thread copies the pages within its period
            if path.stat().st_size > before + 50 * 4000:
                break
            await asyncio.sleep(0.02)
        assert path.stat().st_size > before + 50 * 4000
    # the last connection closed: the thread is gone
    assert sqlite_driver.checkpointer_of(engine, path) is None


async def test_a_durable_commit_syncs_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A durable commit (synchronous=FULL) waits for the disk to sync the WAL: in a thread,
    so the other updates go on meanwhile. An ordinary commit (no sync in WAL mode) stays on
    the loop, where it costs less than a thread's hand-off."""
    threads: list[tuple[bool, int]] = []
    names: list[str] = []
    real = sqlite_driver._commit

    def spying(conn: sqlite3.Connection, durable: bool) -> None:
        threads.append((durable, threading.get_ident()))
        names.append(threading.current_thread().name)
        real(conn, durable)

    monkeypatch.setattr(sqlite_driver, "_commit", spying)
    loop_thread = threading.get_ident()
    async with _database(tmp_path / "db.sqlite3") as engine:
        threads.clear()
        names.clear()
        levels: list[int] = []
        async with AsyncSession(engine) as session:
            await durably(session)
            await session.execute(text("INSERT INTO t VALUES ('durable')"))
            levels.append((await session.execute(text("PRAGMA synchronous"))).scalar_one())
            await session.commit()
        async with AsyncSession(engine) as session:
            await session.execute(text("INSERT INTO t VALUES ('ordinary')"))
            levels.append((await session.execute(text("PRAGMA synchronous"))).scalar_one())
            await session.commit()
        assert [durable for durable, _ in threads] == [True, False]
        # the durable one synced (synchronous=FULL, 2) and its connection went back to the pool
        # as NORMAL (1), as the ordinary one found it
        assert levels == [2, 1]
        assert threads[0][1] != loop_thread
        assert threads[1][1] == loop_thread
        # the database's own thread: asyncio's shared executor may be busy with other work
        # while the commit holds the write lock
        assert names[0].startswith("sqlite-commit")
        assert await _rows(engine) == 2


async def test_a_durable_commit_cancelled_meanwhile_ends_before_the_writer_lock_is_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit goes on in its thread whatever happens to the task that waits for it (a
    stop cancels that task): the next writer starts only once it has ended."""
    real = sqlite_driver._commit
    ended: list[float] = []

    def slow(conn: sqlite3.Connection, durable: bool) -> None:
        if durable:
            time.sleep(0.3)  # a slow disk
        real(conn, durable)
        if durable:
            ended.append(time.monotonic())

    monkeypatch.setattr(sqlite_driver, "_commit", slow)
    async with _database(tmp_path / "db.sqlite3") as engine:

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


async def test_a_closed_database_leaves_no_wal_behind(tmp_path: Path) -> None:
    """The last connection to close checkpoints what is left and removes the WAL, as SQLite
    does: a copy of the database file alone, once the bot has stopped, holds every commit."""
    path = tmp_path / "db.sqlite3"
    async with _database(path) as engine:
        await _fill(engine, 20)
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (x) VALUES ('last')"))
        checkpointer = sqlite_driver.checkpointer_of(engine, path)
        assert checkpointer is not None
    # its thread has ended (a daemon thread still running could be cut off at the process's
    # exit, its connection open, the WAL left behind)
    assert not checkpointer.running()
    assert _copied_alone(path) == (False, 1)


def _copied_alone(path: Path) -> tuple[bool, int]:
    """Whether a WAL is left beside the file, and how many 'last' rows a copy of the file
    alone holds."""
    left = Path(f"{path}-wal").exists()
    copy = path.with_name("copy.sqlite3")
    copy.write_bytes(path.read_bytes())
    other = sqlite3.connect(copy)
    try:
        return left, other.execute("SELECT count(*) FROM t WHERE x = 'last'").fetchone()[0]
    finally:
        other.close()


async def test_a_restart_that_a_reader_holds_up_is_not_tried_again_every_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A RESTART refuses the loop's writers while it waits; a reader holding an old snapshot
    (a backup, another process) would make it wait, give up and try again every period."""
    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_SECONDS", 0.02)
    monkeypatch.setattr(sqlite_driver, "RESTART_FRAMES", 5)
    monkeypatch.setattr(sqlite_driver, "RESTART_WAIT_MS", 20)
    restarts = 0
    real = sqlite_driver._Checkpointer._pragma

    def counting(self: Any, statement: str) -> tuple[int, int, int]:
        nonlocal restarts
        restarts += "RESTART" in statement
        return real(self, statement)

    monkeypatch.setattr(sqlite_driver._Checkpointer, "_pragma", counting)
    path = tmp_path / "db.sqlite3"
    async with _database(path) as engine:
        await _fill(engine, 20)
        await asyncio.sleep(0.1)  # checkpointed: the next write could start the WAL over...
        reader = sqlite3.connect(path, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchall()  # ... but a reader holds on
        try:
            for _ in range(25):
                await _fill(engine, 2)
                await asyncio.sleep(0.02)
        finally:
            reader.execute("COMMIT")
            reader.close()
        assert restarts == 1
        assert await _rows(engine) == 70
