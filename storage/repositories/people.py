"""Citizens' remembered profiles and the record of handled Telegram updates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Citizen, ProcessedUpdate


class CitizenRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, telegram_id: int) -> Citizen | None:
        """The citizen's remembered profile, if any."""
        return await self.session.get(Citizen, telegram_id)

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


class UpdateRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, bot_id: int, update_id: int, now: datetime) -> bool:
        """Record the update as handled; False when it was handled before."""
        try:
            async with self.session.begin_nested():
                self.session.add(ProcessedUpdate(bot_id=bot_id, update_id=update_id, at=now))
        except IntegrityError:
            return False
        return True

    async def prune(self, before: datetime) -> int:
        """Forget old update ids (Telegram re-delivers for at most a day)."""
        result = await self.session.execute(
            delete(ProcessedUpdate).where(ProcessedUpdate.at < before)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def latest(self, bot_id: int) -> tuple[int, datetime | None]:
        """The highest update id handled for this bot (0 if none) and the latest time one was."""
        row = (
            await self.session.execute(
                select(func.max(ProcessedUpdate.update_id), func.max(ProcessedUpdate.at)).where(
                    ProcessedUpdate.bot_id == bot_id
                )
            )
        ).one()
        return int(row[0] or 0), row[1]
