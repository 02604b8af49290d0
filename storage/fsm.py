"""aiogram FSM storage in the database, so a draft survives a restart without Redis."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import FsmRecord


def _state_name(state: StateType) -> str | None:
    if state is None:
        return None
    return state.state if isinstance(state, State) else state


class SqlAlchemyStorage(BaseStorage):
    """FSM records in the `fsm_records` table; each call is its own short transaction."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], key_builder: KeyBuilder | None = None
    ) -> None:
        self.sessions = sessions
        self.key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        """Store the state for this key."""
        async with self.sessions.begin() as session:
            row = await session.get(FsmRecord, self.key_builder.build(key))
            if row is None:
                session.add(FsmRecord(key=self.key_builder.build(key), state=_state_name(state), data={}))
            else:
                row.state = _state_name(state)

    async def get_state(self, key: StorageKey) -> str | None:
        """The stored state, or None."""
        async with self.sessions() as session:
            row = await session.get(FsmRecord, self.key_builder.build(key))
            return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        """Store the data for this key (JSON-serialisable)."""
        async with self.sessions.begin() as session:
            row = await session.get(FsmRecord, self.key_builder.build(key))
            if row is None:
                session.add(FsmRecord(key=self.key_builder.build(key), state=None, data=dict(data)))
            else:
                row.data = dict(data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        """The stored data, or an empty dict."""
        async with self.sessions() as session:
            row = await session.get(FsmRecord, self.key_builder.build(key))
            return dict(row.data) if row and row.data else {}

    async def close(self) -> None:
        """Nothing to close: the engine belongs to the application."""
