"""SQLAlchemy's aiosqlite adapter, with statements run on the event loop instead of a thread,
and one writer at a time queued in the event loop instead of in SQLite's busy handler.

aiosqlite runs each SQLite connection in a thread of its own; every call crosses to it and back
(a queue put, a thread wake-up, the event loop woken through its self-pipe), and SQLAlchemy's
adapter makes four such calls per statement. A statement on a local SQLite file takes tens of
microseconds; the hand-off took far longer, and under load a transaction holding the write
lock waited, after each of its statements, for its turn in a busy event loop — so the writes
of the whole process queued behind it. Here, once the connection is open (in aiosqlite's
thread, as before), each statement, commit and rollback runs directly on the event loop: the
same `sqlite3` connection does the same calls in the same order, so the SQL, the transactions
and SQLite's behaviour are unchanged. A write whose transaction another process holds does not
block the loop in SQLite's busy handler: the busy timeout is short and the statement is tried
again after an asynchronous sleep (a statement that failed with SQLITE_BUSY changed nothing).

SQLite lets one connection write at a time. A connection that is about to write waits its turn
on an asyncio lock of the database, from its first write to its commit or rollback — exactly
the span SQLite's own lock covers (the driver opens the transaction at the first write) — and
the next in line starts the moment the lock is released.

Two kinds of disk work leave the event loop, since they wait for the disk while everything else
would wait for them (https://www.sqlite.org/wal.html, "Application-Initiated Checkpoints"):
- **Checkpoints.** SQLite copies the WAL back into the database file (and syncs it) inside the
  commit that takes the WAL past 1,000 pages. Here the connections' automatic checkpoint is off
  and a thread of the driver's own, with its own connection, checkpoints every
  CHECKPOINT_SECONDS while there were commits (PASSIVE: it never blocks readers or writers).
  If the WAL still grows past RESTART_FRAMES after a complete copy (writes without a pause, so
  it never starts over), that thread starts it over (RESTART), waiting at most RESTART_WAIT_MS
  for the writer and readers of the moment; after one they held up, not again for
  RESTART_BACKOFF_SECONDS. It is joined before the last connection to the file closes, which
  then checkpoints what is left and removes the WAL, as SQLite does.
- **Durable commits** (synchronous=FULL, `storage.db.durably`) sync the WAL: that commit runs in
  the database's own commit thread while its transaction keeps the writer lock. An ordinary
  commit in WAL mode syncs nothing and stays on the loop, where it costs less than a thread's
  hand-off.

`storage.db.create_engine` uses it for `sqlite+aiosqlite://` URLs. SQLite is the embedded
default for one process; a province-sized deployment runs on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

DRIVER = "aiosqlite_onetrip"
# How long a write waits for the lock (ours, or another process's) before it fails with
# "database is locked", as SQLite's own busy timeout of 30 s did before.
WRITE_WAIT_SECONDS = 30.0
_READS = ("SELECT", "PRAGMA", "EXPLAIN")
# SQLite's busy handler blocks the calling thread — here the event loop — so it waits at most
# this long (milliseconds) before the statement is retried after an asynchronous sleep. A write
# that meets the checkpoint thread's locks waits here: 20 ms stopped the loop for 20 ms
# (benchmarks/bench_commits.py), 5 ms for 6.
BUSY_TIMEOUT_MS = 5
# How often the checkpoint thread copies the WAL into the database file (if anything was
# committed since), and the WAL's size (pages) past which it waits for a pause to start it over.
CHECKPOINT_SECONDS = 1.0
RESTART_FRAMES = 10_000
# How long a RESTART waits for the writer and readers of the moment (the loop's writers are
# refused meanwhile and retry), and how long after one that could not finish the next is tried:
# a reader holding an old snapshot (a backup, another process) keeps the WAL from starting over.
RESTART_WAIT_MS = 100
RESTART_BACKOFF_SECONDS = 60.0

log = logging.getLogger(__name__)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _writes(operation: str) -> bool:
    return not operation.lstrip()[:8].upper().startswith(_READS)


_Result = tuple[Any, list[Any], int, Any]


def _run(conn: sqlite3.Connection, operation: str, parameters: Any) -> _Result:
    """In the connection's thread: one statement from cursor to closed cursor."""
    cursor = conn.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _run_many(conn: sqlite3.Connection, operation: str, parameters: Sequence[Any]) -> _Result:
    cursor = conn.cursor()
    try:
        cursor.executemany(operation, parameters)
        return cursor.description, [], cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _commit(conn: sqlite3.Connection, durable: bool) -> None:
    """Commit; `durable`: SQLite syncs the WAL to disk before it returns (synchronous=FULL),
    and the caller has put this call in the database's commit thread."""
    conn.commit()


def _commit_in_thread(conn: sqlite3.Connection, thread: ThreadPoolExecutor) -> None:
    """A durable commit, in the database's commit thread (its own: asyncio's shared executor
    may be busy with other work while this commit holds the write lock). Cancelled meanwhile,
    it waits for the thread's commit to end before the cancellation goes on: until then the
    connection and the writer lock are still the commit's."""
    committing = asyncio.get_running_loop().run_in_executor(thread, _commit, conn, True)
    try:
        await_(asyncio.shield(committing))
    except asyncio.CancelledError:
        while not committing.done():
            with contextlib.suppress(asyncio.CancelledError):
                await_(asyncio.wait({committing}))
        raise


class _Checkpointer:
    """Checkpoints one database file's WAL in a thread, while connections to it are open."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.users = 0  # open connections
        self.wrote = False  # a commit since the last checkpoint (a flag: no lock needed)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"sqlite-checkpoint {Path(path).name}", daemon=True
        )
        self._conn: sqlite3.Connection | None = None
        self._using = threading.Lock()  # the thread's connection, one checkpoint at a time
        self._restart_after = 0.0  # (time.monotonic) no RESTART before this

    def start(self) -> None:
        self._thread.start()

    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """End the thread (after the checkpoint under way) and close its connection: a last
        connection closed after it checkpoints what is left and removes the WAL."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(CHECKPOINT_SECONDS):
                if self.wrote:
                    self.wrote = False
                    try:
                        busy, frames, copied = self.checkpoint()
                    except sqlite3.Error as exc:
                        log.warning("checkpoint of %s failed: %s", self.path, exc)
                        busy, frames, copied = 1, 1, 0
                    if busy or copied < frames:
                        self.wrote = True  # not all of it: the next period tries again
        finally:
            with self._using:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

    def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint, and a RESTART if that copied everything but the WAL has
        grown past RESTART_FRAMES: SQLite's (busy, pages in the WAL, pages copied). Called in
        the thread (and by tests)."""
        with self._using:
            if self._conn is None:
                self._conn = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False, timeout=0
                )
            busy, frames, copied = self._pragma("PRAGMA wal_checkpoint(PASSIVE)")
            if (
                not busy
                and copied == frames > RESTART_FRAMES
                and time.monotonic() >= self._restart_after
            ):
                self._conn.execute(f"PRAGMA busy_timeout={RESTART_WAIT_MS}").close()
                try:
                    busy, frames, copied = self._pragma("PRAGMA wal_checkpoint(RESTART)")
                finally:
                    self._conn.execute("PRAGMA busy_timeout=0").close()
                if busy:
                    self._restart_after = time.monotonic() + RESTART_BACKOFF_SECONDS
            return busy, frames, copied

    def _pragma(self, statement: str) -> tuple[int, int, int]:
        assert self._conn is not None
        cursor = self._conn.execute(statement)
        try:
            busy, frames, copied = cursor.fetchall()[0]  # all rows: the statement is reset
        finally:
            cursor.close()
        return int(busy), int(frames), int(copied)


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_rowcount", "_lastrowid")

    def __init__(self, adapt_connection: Any) -> None:
        # No cursor is opened here: each statement opens and closes its own, in one hand-off.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: Any = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _async_soft_close(self) -> None:
        return None

    def _writer(self) -> _Connection:
        return self._adapt_connection  # type: ignore[return-value]

    def close(self) -> None:
        self._rows.clear()

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        if _writes(operation):
            await self._writer().begin_writing()
        result = await self._writer().inline(_run, operation, parameters)
        self._description, rows, self._rowcount, self._lastrowid = result
        self._rows = collections.deque(rows)
        return None

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._writer().begin_writing()
        result = await self._writer().inline(_run_many, operation, list(seq_of_parameters))
        self._description, _, self._rowcount, self._lastrowid = result
        self._rows = collections.deque()
        return None


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_writing", "durable", "_checkpointer")
    _cursor_cls = _Cursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._writing = False
        # synchronous=FULL on this connection (`storage.db.durably`): its commits sync the WAL
        self.durable = False
        self._checkpointer: _Checkpointer | None = None  # a file's: set by `_DBAPI.connect`

    async def inline(self, run: Any, operation: str, parameters: Any) -> _Result:
        """Run one statement on the event loop; while another process holds SQLite's write
        lock, try again after a sleep (up to WRITE_WAIT_SECONDS, then "database is locked")."""
        conn = self._connection._conn
        delay, waited = 0.001, 0.0
        while True:
            try:
                return run(conn, operation, parameters)  # type: ignore[no-any-return]
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or waited >= WRITE_WAIT_SECONDS:
                    raise
            await asyncio.sleep(delay)
            waited += delay + BUSY_TIMEOUT_MS / 1000
            delay = min(delay * 2, 0.1)

    async def begin_writing(self) -> None:
        """Wait for this database's writer lock, once per transaction."""
        if self._writing:
            return
        try:
            await asyncio.wait_for(self.dbapi.writer.acquire(), WRITE_WAIT_SECONDS)
        except TimeoutError:
            raise self.dbapi.OperationalError("database is locked") from None
        self._writing = True

    def _done_writing(self) -> None:
        if self._writing:
            self._writing = False
            self.dbapi.writer.release()

    def commit(self) -> None:
        try:
            if self._connection._connection:
                conn = self._connection._conn
                try:
                    if self._writing and self.durable:
                        # waits for the disk: in a thread, the writer lock kept meanwhile
                        _commit_in_thread(conn, self.dbapi.commit_thread())
                    else:
                        _commit(conn, False)
                finally:  # (a cancelled durable commit has committed too)
                    if self._writing and self._checkpointer is not None:
                        self._checkpointer.wrote = True
        except Exception as error:
            self._handle_exception(error)
        finally:
            self._done_writing()

    def rollback(self) -> None:
        try:
            if self._connection._connection:
                self._connection._conn.rollback()
        except Exception as error:
            self._handle_exception(error)
        finally:
            self._done_writing()

    def close(self) -> None:
        # the checkpoint thread first: the last connection to close then finishes the WAL
        self._release()
        try:
            super().close()
        finally:
            self._done_writing()

    def terminate(self) -> None:
        try:
            super().terminate()
        finally:
            self._release()
            try:
                self._done_writing()
            except RuntimeError:  # garbage-collected outside the event loop
                self._writing = False

    def _release(self) -> None:
        """This connection no longer uses its database's checkpoint thread."""
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            self.dbapi.release(checkpointer)


class _DBAPI(AsyncAdapt_aiosqlite_dbapi):
    def __init__(self, aiosqlite: Any, sqlite: Any) -> None:
        super().__init__(aiosqlite, sqlite)
        # One per engine (SQLAlchemy imports the DBAPI for each): its database's writer, and
        # the checkpoint thread of its file while connections to it are open.
        self.writer = asyncio.Lock()
        self.checkpointers: dict[str, _Checkpointer] = {}
        self._lock = threading.Lock()  # connections are also closed by the garbage collector
        self._commit_thread: ThreadPoolExecutor | None = None

    def commit_thread(self) -> ThreadPoolExecutor:
        """The thread durable commits sync in (one: they hold the writer lock anyway)."""
        if self._commit_thread is None:
            self._commit_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-commit")
        return self._commit_thread

    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        # Opened in aiosqlite's thread, used on the event loop's (see the module's doc).
        kw["check_same_thread"] = False
        kw["timeout"] = BUSY_TIMEOUT_MS / 1000
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy does: never keeps the process alive
        adapted = _Connection(self, await_(connection))
        path = _file_of(arg[0] if arg else kw.get("database"), kw.get("uri", False))
        if path is not None:
            # no checkpoint inside a commit on the loop: the thread makes them
            adapted._connection._conn.execute("PRAGMA wal_autocheckpoint=0").close()
            adapted._checkpointer = self._use(path)
        return adapted

    def _use(self, path: str) -> _Checkpointer:
        with self._lock:
            checkpointer = self.checkpointers.get(path)
            if checkpointer is None:
                checkpointer = self.checkpointers[path] = _Checkpointer(path)
                checkpointer.start()
            checkpointer.users += 1
            return checkpointer

    def release(self, checkpointer: _Checkpointer) -> None:
        with self._lock:
            checkpointer.users -= 1
            last = checkpointer.users == 0
            if last and self.checkpointers.get(checkpointer.path) is checkpointer:
                del self.checkpointers[checkpointer.path]
            idle = None
            if last and not self.checkpointers:
                idle, self._commit_thread = self._commit_thread, None
        if last:
            checkpointer.stop()
        if idle is not None:  # no connection left to commit: the next one starts another
            idle.shutdown(wait=False)


def _file_of(database: Any, uri: bool) -> str | None:
    """The database file's path, or None for an in-memory or URI-named database."""
    if not isinstance(database, str) or uri or database in ("", ":memory:"):
        return None
    return str(Path(database).resolve())


def checkpointer_of(engine: Any, path: str | Path) -> _Checkpointer | None:
    """The checkpoint thread of an engine's database file, if connections to it are open."""
    dbapi = engine.sync_engine.dialect.dbapi
    checkpointers = getattr(dbapi, "checkpointers", {})
    with contextlib.suppress(OSError):
        path = Path(path).resolve()
    return checkpointers.get(str(path))  # type: ignore[no-any-return]


class SQLiteDialect_onetrip(SQLiteDialect_aiosqlite):  # noqa: N801 - SQLAlchemy's naming
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> _DBAPI:
        import aiosqlite

        return _DBAPI(aiosqlite, sqlite3)


def register() -> None:
    """Make `sqlite+aiosqlite_onetrip://` known to SQLAlchemy (idempotent)."""
    registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialect_onetrip")
