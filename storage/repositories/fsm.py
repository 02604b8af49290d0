"""Conversation (FSM) records for deployments without Redis.

Read and written with plain statements on the table, not through the ORM's unit of work: every
update reads its conversation, and a filing writes it at each step (the ORM's identity map and
flush cost more than the statements themselves)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select, update
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

    @classmethod
    def loaded(cls, key: str, state: str | None, data: dict[str, Any] | None) -> FsmRow:
        """The conversation as its row in the table holds it."""
        return cls(key, state, data or {}, stored=True)


# Built once, values as parameters: a statement built per call costs SQLAlchemy about twice
# as much as running it (the cache key of a new statement object is computed every time).
_KEY = bindparam("p_key", type_=_TABLE.c.key.type)
_VALUES = {
    "state": bindparam("p_state", type_=_TABLE.c.state.type),
    "data": bindparam("p_data", type_=_TABLE.c.data.type),
    "updated_at": bindparam("p_updated_at", type_=_TABLE.c.updated_at.type),
}
_READ = select(_TABLE.c.state, _TABLE.c.data).where(_TABLE.c.key == _KEY)
_UPDATE = update(_TABLE).where(_TABLE.c.key == _KEY).values(**_VALUES)
_INSERT = insert(_TABLE).values(key=_KEY, **_VALUES)


class FsmRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key: str) -> FsmRow:
        """The conversation for this key (not `stored` when there is none yet)."""
        found = (await self.session.execute(_READ, {"p_key": key})).first()
        if found is None:
            return FsmRow(key)
        return FsmRow.loaded(key, found[0], found[1])

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
            values = {"p_key": row.key, "p_state": row.state, "p_data": row.data or {}}
            session.execute(_UPDATE if row.stored else _INSERT, {**values, "p_updated_at": now})
            row.stored, row.changed = True, False
