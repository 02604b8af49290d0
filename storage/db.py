"""Engine, sessions and migrations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite there is for one process anyway
    fcntl = None  # type: ignore[assignment]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine; for SQLite, make its folder and turn on foreign keys and WAL."""
    parsed = make_url(url)
    # A database error's message never carries the statement's values (names, phones and
    # addresses of citizens): they would end up in the logs.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # Waiting for the lock beats failing while the sender worker writes.
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if database and database != ":memory:":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at our migrations; no alembic.ini file needed."""
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
