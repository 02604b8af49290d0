"""Conversation (FSM) records for deployments without Redis.

Read and written with plain statements on the table, not through the ORM's unit of work: every
update reads its conversation, and a filing writes it at each step (the ORM's identity map and
flush cost more than the statements themselves)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.models import FsmRecord

_TABLE: Table = FsmRecord.__table__  # type: ignore[assignment]


@dataclass
class FsmRow:
    """A conversation as loaded: `stored` when the table has its row; `changed` once a write
    is waiting for the transaction's commit."""

    key: str
    state: str | None = None
    data: dict[str, Any] | None = None
    stored: bool = False
    changed: bool = False


_READ = select(_TABLE.c.state, _TABLE.c.data)


class FsmRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key: str) -> FsmRow:
        """The conversation for this key (not `stored` when there is none yet)."""
        found = (await self.session.execute(_READ.where(_TABLE.c.key == key))).first()
        if found is None:
            return FsmRow(key)
        return FsmRow(key, found[0], found[1] or {}, stored=True)

    async def prune(self, before: datetime) -> int:
        """Forget conversations last written before `before` (abandoned drafts)."""
        result = await self.session.execute(delete(FsmRecord).where(FsmRecord.updated_at < before))
        return int(result.rowcount)  # type: ignore[attr-defined]

    @staticmethod
    def write(session: Session, rows: Iterable[FsmRow]) -> None:
        """Store the changed conversations (on the synchronous session of a transaction about
        to commit: see `bot.telegram.fsm`)."""
        now = datetime.now(UTC)
        for row in rows:
            if not row.changed:
                continue
            values = {"state": row.state, "data": row.data or {}, "updated_at": now}
            if row.stored:
                session.execute(update(_TABLE).where(_TABLE.c.key == row.key).values(**values))
            else:
                session.execute(insert(_TABLE).values(key=row.key, **values))
            row.stored, row.changed = True, False
