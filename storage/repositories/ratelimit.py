"""Send slots shared by the bot's processes through the database (when there is no Redis)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import RateBooking

# pg_advisory_xact_lock key: every booking transaction takes it, so bookings are serialised.
RATE_LOCK_KEY = 0x7261_7465  # "rate"


class RateRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    async def lock(self, forget_before: float) -> None:
        """Serialise bookings until the transaction ends, and forget expired ones.

        PostgreSQL: a transaction-scoped advisory lock. SQLite: the DELETE takes the database's
        write lock (a write statement reserves it even when no row matches).
        """
        if self._postgres:
            await self.session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": RATE_LOCK_KEY}
            )
        await self.session.execute(delete(RateBooking).where(RateBooking.at < forget_before))

    async def now(self) -> float:
        """Seconds since the epoch by the database server's clock (one clock for every
        process); SQLite lives on the one host its processes share."""
        if self._postgres:
            return float(
                await self.session.scalar(text("SELECT extract(epoch from clock_timestamp())"))
            )
        return time.time()

    async def booked(self, keys: Iterable[str], since: float) -> dict[str, list[float]]:
        """Booked times at or after `since`, per key."""
        keys = list(keys)
        rows = await self.session.execute(
            select(RateBooking.key, RateBooking.at).where(
                RateBooking.key.in_(keys), RateBooking.at >= since
            )
        )
        out: dict[str, list[float]] = {k: [] for k in keys}
        for key, at in rows:
            out[key].append(float(at))
        return out

    async def blocked_until(self, keys: Iterable[str]) -> float:
        """The latest penalty end among these block keys (0 when none)."""
        value = await self.session.scalar(
            select(func.max(RateBooking.at)).where(RateBooking.key.in_(list(keys)))
        )
        return float(value or 0.0)

    async def book(self, keys: Iterable[str], at: float) -> None:
        """Record one booking at `at` under each key."""
        await self.session.execute(insert(RateBooking), [{"key": k, "at": at} for k in keys])

    async def prune(self, before: float) -> int:
        """Forget bookings and penalties that ended before `before` (housekeeping)."""
        result = await self.session.execute(delete(RateBooking).where(RateBooking.at < before))
        return int(result.rowcount)  # type: ignore[attr-defined]
