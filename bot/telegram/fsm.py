"""aiogram FSM storage in the database, so a draft survives a restart without Redis."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from storage.repositories import FsmRepo
from storage.repositories.fsm import FsmRow


def _state_name(state: StateType) -> str | None:
    if state is None:
        return None
    return state.state if isinstance(state, State) else state


# The session of the update being handled (set by the DB session middleware). FSM writes
# join that transaction: a handler that fails leaves the conversation where it was, and on
# SQLite a second connection would wait for the update's own write lock.
current_session: ContextVar[AsyncSession | None] = ContextVar("current_session", default=None)


# Per update session: the FSM rows it loaded, so a handler that reads and writes its state
# several times costs one SELECT, and the writes reach the database once, when the update's
# transaction commits (`_write_before_commit`).
_ROWS = "fsm_rows"


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    """The conversations this transaction changed are written as it commits (a failed update
    rolls back with its conversation unchanged). SQLAlchemy runs this inside the asyncio
    session's commit, where synchronous statements are allowed."""
    rows: dict[str, FsmRow] | None = session.info.get(_ROWS)
    if rows:
        FsmRepo.write(session, rows.values())


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    """What a rolled-back transaction loaded or changed is not what the database holds."""
    session.info.pop(_ROWS, None)


def preload(session: AsyncSession, row: FsmRow) -> None:
    """A conversation read for the update (`UpdateContextRepo`, together with the locale and
    the admins): the update's FSM reads and writes use it, as if this storage had read it."""
    session.info.setdefault(_ROWS, {})[row.key] = row


class SqlAlchemyStorage(BaseStorage):
    """FSM records in the `fsm_records` table, in the update's transaction when there is one."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], key_builder: KeyBuilder | None = None
    ) -> None:
        self.sessions = sessions
        self.key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)

    @asynccontextmanager
    async def _session(self, write: bool) -> AsyncIterator[AsyncSession]:
        shared = current_session.get()
        if shared is not None:
            yield shared
            return
        if write:
            async with self.sessions.begin() as session:
                yield session
        else:
            async with self.sessions() as session:
                yield session

    def key_of(self, key: StorageKey) -> str:
        """The row key the storage keeps `key`'s conversation under."""
        return self.key_builder.build(key)

    @staticmethod
    async def _row(session: AsyncSession, key: str) -> FsmRow:
        rows: dict[str, FsmRow] = session.info.setdefault(_ROWS, {})
        if key not in rows:
            rows[key] = await FsmRepo(session).get(key)
        return rows[key]

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        """Store the state for this key."""
        async with self._session(write=True) as session:
            row = await self._row(session, self.key_builder.build(key))
            row.state, row.changed = _state_name(state), True

    async def get_state(self, key: StorageKey) -> str | None:
        """The stored state, or None."""
        async with self._session(write=False) as session:
            return (await self._row(session, self.key_builder.build(key))).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        """Store the data for this key (JSON-serialisable)."""
        async with self._session(write=True) as session:
            row = await self._row(session, self.key_builder.build(key))
            # A copy: the caller may go on changing what it passed.
            row.data, row.changed = copy.deepcopy(dict(data)), True

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        """The stored data, or an empty dict."""
        async with self._session(write=False) as session:
            row = await self._row(session, self.key_builder.build(key))
            # A copy: a caller that changes what it got must not change the loaded row.
            return copy.deepcopy(row.data) if row.data else {}

    async def close(self) -> None:
        """Nothing to close: the engine belongs to the application."""
