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

`storage.db.create_engine` uses it for `sqlite+aiosqlite://` URLs. SQLite is the embedded
default for one process; a province-sized deployment runs on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
from collections.abc import Sequence
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
# this long (milliseconds) before the statement is retried after an asynchronous sleep.
BUSY_TIMEOUT_MS = 20


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
    __slots__ = ("_writing",)
    _cursor_cls = _Cursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._writing = False

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
                self._connection._conn.commit()
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
        try:
            super().close()
        finally:
            self._done_writing()

    def terminate(self) -> None:
        try:
            super().terminate()
        finally:
            try:
                self._done_writing()
            except RuntimeError:  # garbage-collected outside the event loop
                self._writing = False


class _DBAPI(AsyncAdapt_aiosqlite_dbapi):
    def __init__(self, aiosqlite: Any, sqlite: Any) -> None:
        super().__init__(aiosqlite, sqlite)
        # One per engine (SQLAlchemy imports the DBAPI for each): its database's writer.
        self.writer = asyncio.Lock()

    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        # Opened in aiosqlite's thread, used on the event loop's (see the module's doc).
        kw["check_same_thread"] = False
        kw["timeout"] = BUSY_TIMEOUT_MS / 1000
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy does: never keeps the process alive
        return _Connection(self, await_(connection))


class SQLiteDialect_onetrip(SQLiteDialect_aiosqlite):  # noqa: N801 - SQLAlchemy's naming
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> _DBAPI:
        import aiosqlite

        return _DBAPI(aiosqlite, sqlite3)


def register() -> None:
    """Make `sqlite+aiosqlite_onetrip://` known to SQLAlchemy (idempotent)."""
    registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialect_onetrip")
