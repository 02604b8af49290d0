"""aiogram FSM storage in the database, so a draft survives a restart without Redis."""

from __future__ import annotations

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
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories import FsmRepo


def _state_name(state: StateType) -> str | None:
    if state is None:
        return None
    return state.state if isinstance(state, State) else state


# The session of the update being handled (set by the DB session middleware). FSM writes
# join that transaction: a handler that fails leaves the conversation where it was, and on
# SQLite a second connection would wait for the update's own write lock.
current_session: ContextVar[AsyncSession | None] = ContextVar("current_session", default=None)


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
            await shared.flush()
            return
        if write:
            async with self.sessions.begin() as session:
                yield session
        else:
            async with self.sessions() as session:
                yield session

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        """Store the state for this key."""
        async with self._session(write=True) as session:
            await FsmRepo(session).set_state(self.key_builder.build(key), _state_name(state))

    async def get_state(self, key: StorageKey) -> str | None:
        """The stored state, or None."""
        async with self._session(write=False) as session:
            row = await FsmRepo(session).get(self.key_builder.build(key))
            return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        """Store the data for this key (JSON-serialisable)."""
        async with self._session(write=True) as session:
            await FsmRepo(session).set_data(self.key_builder.build(key), dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        """The stored data, or an empty dict."""
        async with self._session(write=False) as session:
            row = await FsmRepo(session).get(self.key_builder.build(key))
            return dict(row.data) if row and row.data else {}

    async def close(self) -> None:
        """Nothing to close: the engine belongs to the application."""
