"""Citizens' remembered profiles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Citizen


class CitizenRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, telegram_id: int) -> Citizen | None:
        """The citizen's remembered profile, if any."""
        return await self.session.get(Citizen, telegram_id)

    async def locale(self, telegram_id: int) -> str | None:
        """The language the citizen chose, if any (read on every update: one column, no
        object loaded)."""
        table = Citizen.__table__
        return await self.session.scalar(  # type: ignore[no-any-return]
            select(table.c.locale).where(table.c.telegram_id == telegram_id)
        )

    async def get_or_create(self, telegram_id: int, now: datetime) -> Citizen:
        """The citizen's row, created empty when missing."""
        row = await self.get(telegram_id)
        if row is None:
            row = Citizen(telegram_id=telegram_id, updated_at=now)
            self.session.add(row)
            await self.session.flush()
        return row

    async def forget(self, telegram_id: int) -> bool:
        """Delete remembered personal data (cases keep what the law requires)."""
        row = await self.get(telegram_id)
        if row is None:
            return False
        had_data = any((row.full_name, row.phone, row.email, row.address))
        row.full_name = row.phone = row.email = row.address = None
        await self.session.flush()
        return had_data
