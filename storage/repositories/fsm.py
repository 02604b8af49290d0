"""Conversation (FSM) records for deployments without Redis."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FsmRecord


class FsmRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key: str) -> FsmRecord | None:
        """The record for this key, if any."""
        return await self.session.get(FsmRecord, key)

    async def set_state(self, key: str, state: str | None) -> None:
        """Store the state for this key."""
        row = await self.get(key)
        if row is None:
            self.session.add(FsmRecord(key=key, state=state, data={}))
        else:
            row.state = state

    async def set_data(self, key: str, data: dict[str, Any]) -> None:
        """Store the data for this key."""
        row = await self.get(key)
        if row is None:
            self.session.add(FsmRecord(key=key, state=None, data=data))
        else:
            row.data = data

    async def prune(self, before: datetime) -> int:
        """Forget conversations last written before `before` (abandoned drafts)."""
        result = await self.session.execute(delete(FsmRecord).where(FsmRecord.updated_at < before))
        return int(result.rowcount)  # type: ignore[attr-defined]
