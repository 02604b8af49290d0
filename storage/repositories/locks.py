"""Locks across the bot's processes, held by a transaction."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# pg_try_advisory_xact_lock key of the minute tick ("tick" in ASCII).
TICK_LOCK_KEY = 0x7469_636B

# A write that changes nothing: on SQLite it still takes the file's write lock.
_SQLITE_RESERVE = text("UPDATE alembic_version SET version_num = version_num WHERE 1 = 0")


async def try_transaction_lock(session: AsyncSession, key: int) -> bool:
    """Take the lock `key` until the session's transaction ends; False when another
    transaction holds it.

    SQLite has one lock for the whole file: the transaction takes its write lock now, as its
    first statement, so what it reads next is not being read by another process's transaction
    at the same time; a second one waits for the first to commit (the busy timeout), then
    reads what the first recorded. Always True there.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        await session.execute(_SQLITE_RESERVE)
        return True
    if dialect != "postgresql":
        return True
    return bool(await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}))
