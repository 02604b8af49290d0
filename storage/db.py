"""Engine, sessions and migrations."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import column, event, select, table, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite there is for one process anyway
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_REVISION = re.compile(r'^revision\s*=\s*["\']([^"\']+)["\']', re.M)
_DOWN = re.compile(r'^down_revision\s*=\s*["\']([^"\']+)["\']', re.M)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine; for SQLite, make its folder and turn on foreign keys and WAL."""
    parsed = make_url(url)
    # A database error's message never carries the statement's values (names, phones and
    # addresses of citizens): they would end up in the logs.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if parsed.drivername == "sqlite+aiosqlite":
        # The same driver, one thread hand-off per statement (storage/sqlite_driver.py).
        from storage import sqlite_driver

        sqlite_driver.register()
        parsed = parsed.set(drivername=f"sqlite+{sqlite_driver.DRIVER}")
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if database and database != ":memory:":
                cursor.execute("PRAGMA journal_mode=WAL")
                # In WAL mode a NORMAL commit survives a crash of the process (not of the
                # machine) without an fsync: about 4 ms less per update on an ordinary disk.
                # What must survive a power cut too commits with `durably` (FULL): the
                # inbox, whose updates Telegram no longer holds once confirmed. A FULL commit
                # also syncs every NORMAL commit before it.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine.sync_engine, "checkin")
        def _back_to_normal(dbapi_conn: Any, record: Any) -> None:
            if record.info.pop(_DURABLE, False) and dbapi_conn is not None:
                # (None: the connection was invalidated, a new one starts NORMAL)
                if hasattr(dbapi_conn, "durable"):
                    dbapi_conn.durable = False
                cursor = dbapi_conn.cursor()
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.close()

    return engine


_DURABLE = "durable_commit"


async def durably(session: AsyncSession) -> None:
    """Make the session's transaction commit to disk, whatever the machine does next: call
    before its first write. (SQLite: synchronous=FULL on its connection until it is back in
    the pool; PostgreSQL commits durably anyway.)"""
    if session.get_bind().dialect.name != "sqlite":
        return
    connection = await session.connection()
    if connection.info.get(_DURABLE):
        return
    # Outside SQLite's transaction: the driver opens it only at the first write.
    await connection.exec_driver_sql("PRAGMA synchronous=FULL")
    connection.info[_DURABLE] = True
    driver: Any = (await connection.get_raw_connection()).dbapi_connection
    if hasattr(driver, "durable"):  # ours: a commit that syncs runs off the event loop
        driver.durable = True


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at our migrations; no alembic.ini file needed."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


# pg_advisory_xact_lock key taken by every migration run ("migrate" in ASCII, truncated).
MIGRATION_LOCK_KEY = 0x6D69_6772_6174_65


async def migrate(engine: AsyncEngine, revision: str = "head", *, down: bool = False) -> None:
    """Upgrade (or downgrade) the schema on this engine; safe when several processes start at
    once: they take turns, and the later ones find the schema already there."""

    def _run(connection: Connection) -> None:
        from alembic import command

        cfg = alembic_config(connection)
        if down:
            command.downgrade(cfg, revision)
        else:
            command.upgrade(cfg, revision)

    if engine.dialect.name == "sqlite":
        async with _file_lock(engine.url.database), engine.begin() as conn:
            await conn.run_sync(_run)
        return
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Held until this transaction (the whole migration, DDL included) commits.
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        await conn.run_sync(_run)


@asynccontextmanager
async def _file_lock(database: str | None) -> AsyncIterator[None]:
    """An exclusive lock on `<database>.migrate-lock` beside an SQLite file (POSIX flock;
    released by the system even if the process dies)."""
    if not database or database == ":memory:" or fcntl is None:
        yield
        return
    path = Path(database).with_name(Path(database).name + ".migrate-lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a")
    try:
        # flock blocks: wait in a thread, not on the event loop.
        await asyncio.to_thread(fcntl.flock, handle.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        handle.close()  # closing the file releases the lock


def head_revision() -> str | None:
    """The newest migration, read from the migration files (None if they do not form one
    line): checking it costs no Alembic import."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text("utf-8")
        if found := _REVISION.search(source):
            revisions.add(found.group(1))
        if found := _DOWN.search(source):
            parents.add(found.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None for an empty one)."""
    version = table("alembic_version", column("version_num"))
    try:
        async with engine.connect() as conn:
            return (await conn.execute(select(version.c.version_num))).scalar()
    except DBAPIError:  # no alembic_version table yet
        return None


async def upgrade_if_needed(engine: AsyncEngine) -> bool:
    """Bring the schema to the newest migration; when it is there already (every start but
    the first after an upgrade), Alembic is not even imported. Whether it migrated."""
    head = head_revision()
    if head is not None and await current_revision(engine) == head:
        return False
    await migrate(engine)
    return True
