"""Locks across the bot's processes, held by a transaction."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# pg_try_advisory_xact_lock key of the minute tick ("tick" in ASCII).
TICK_LOCK_KEY = 0x7469_636B


async def try_transaction_lock(session: AsyncSession, key: int) -> bool:
    """Take the lock `key` until the session's transaction ends; False when another
    transaction holds it. SQLite has one writer at a time anyway: always True there."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}))
