"""The inbox of Telegram updates: stored on receipt, claimed by workers, marked done by the
handler's own transaction."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxUpdate

PENDING, DONE, FAILED = "pending", "done", "failed"


def _insert(dialect: str, target: Any = InboxUpdate) -> Any:
    """INSERT with ON CONFLICT into `target`, in the dialect of the database."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(target)


@functools.cache
def _finish_statement(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO UPDATE recording an update as done, built once per dialect (it
    runs for every update; building it each time cost more than running it)."""
    from sqlalchemy import bindparam

    # The table, not the mapped class: executed with a parameter dict, an ORM insert would
    # become a bulk insert, which has no rowcount.
    table: Any = InboxUpdate.__table__
    now = bindparam("now", type_=table.c.handled_at.type)
    stmt = _insert(dialect, table).values(
        bot_id=bindparam("bot_id", type_=table.c.bot_id.type),
        update_id=bindparam("update_id", type_=table.c.update_id.type),
        status=DONE,
        attempts=1,
        next_attempt_at=now,
        received_at=now,
        handled_at=now,
    )
    return stmt.on_conflict_do_update(
        index_elements=[table.c.bot_id, table.c.update_id],
        set_={
            "status": DONE,
            "handled_at": now,
            "claim_token": None,
            "claimed_until": None,
            "attempts": table.c.attempts + 1,
        },
        where=table.c.status != DONE,
    )


def _claimable(c: Any, bot_id: Any, now: Any) -> Any:
    """Due and not claimed by anyone (`c`: the table's columns)."""
    return and_(
        c.bot_id == bot_id,
        c.status == PENDING,
        c.next_attempt_at <= now,
        or_(c.claimed_until.is_(None), c.claimed_until < now),
    )


@dataclass(frozen=True, slots=True)
class ClaimedUpdate:
    """An update a worker claimed: what handling it needs."""

    update_id: int
    chat_id: int | None
    payload: dict[str, Any] | None
    attempts: int


@functools.cache
def _claim_statement() -> Any:
    """The claim, built once with its values as parameters (`p_bot`, `p_now`, `p_token`,
    `p_until`, `p_limit`: an UPDATE reserves the columns' own names). Built on the table, not
    the mapped class: an ORM statement's cache key is computed again at every execution
    (~0.2 ms here) and its rows become objects in the session (~0.1 ms), once per claimed
    batch — at a steady rate, once per update."""
    table: Any = InboxUpdate.__table__
    column = table.c
    bot_id = bindparam("p_bot", type_=column.bot_id.type)
    now = bindparam("p_now", type_=column.next_attempt_at.type)
    token = bindparam("p_token", type_=column.claim_token.type)
    until = bindparam("p_until", type_=column.claimed_until.type)
    earlier = table.alias("earlier")
    busy = exists().where(
        earlier.c.bot_id == column.bot_id,
        earlier.c.chat_id == column.chat_id,
        earlier.c.status == PENDING,
        earlier.c.claimed_until >= now,
        earlier.c.claim_token != token,
        earlier.c.update_id < column.update_id,
    )
    due = (
        select(column.update_id)
        .where(_claimable(column, bot_id, now), ~busy)
        .order_by(column.update_id)
        .limit(bindparam("p_limit", type_=Integer))
    )
    # One statement: the claimable condition is checked again under the row lock
    # (PostgreSQL), so two workers never claim the same update.
    return (
        update(table)
        .where(column.update_id.in_(due), _claimable(column, bot_id, now))
        .values(claim_token=token, claimed_until=until)
        .returning(column.update_id, column.chat_id, column.payload, column.attempts)
    )


@functools.cache
def _store_statement(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING, built once per dialect on the table (see
    `_claim_statement`); the rows travel as parameters, so any batch uses the same one."""
    table: Any = InboxUpdate.__table__
    return _insert(dialect, table).on_conflict_do_nothing().returning(table.c.update_id)


class InboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def store(
        self, bot_id: int, updates: Sequence[tuple[int, int | None, dict[str, Any]]], now: datetime
    ) -> int:
        """Store (update id, chat id, payload) rows; ids already known are ignored. How many
        were new."""
        if not updates:
            return 0
        rows = [
            {
                "bot_id": bot_id,
                "update_id": update_id,
                "chat_id": chat_id,
                "payload": payload,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "received_at": now,
            }
            for update_id, chat_id, payload in updates
        ]
        statement = _store_statement(self.session.get_bind().dialect.name)
        return len((await self.session.execute(statement, rows)).all())

    async def claim(
        self, bot_id: int, now: datetime, *, until: datetime, token: str, limit: int
    ) -> list[ClaimedUpdate]:
        """Claim up to `limit` due updates for `token`, oldest first, skipping chats whose
        earlier update is being handled under another worker's claim (one chat's updates go
        in order, also across processes)."""
        result = await self.session.execute(
            _claim_statement(),
            {"p_bot": bot_id, "p_now": now, "p_token": token, "p_until": until, "p_limit": limit},
        )
        return sorted((ClaimedUpdate(*row) for row in result), key=lambda row: row.update_id)

    async def is_done(self, bot_id: int, update_id: int) -> bool:
        """Whether this update was handled already."""
        status = await self.session.scalar(
            select(InboxUpdate.status).where(
                InboxUpdate.bot_id == bot_id, InboxUpdate.update_id == update_id
            )
        )
        return status == DONE

    async def finish(self, bot_id: int, update_id: int, now: datetime) -> bool:
        """Record the update as handled, in the handler's transaction (one statement, also for
        an update that never went through the inbox); False when it was handled before."""
        result = await self.session.execute(
            _finish_statement(self.session.get_bind().dialect.name),
            {"bot_id": bot_id, "update_id": update_id, "now": now},
        )
        return int(result.rowcount) == 1  # type: ignore[attr-defined]

    def _give_back(self, bot_id: int, update_id: int, token: str, error: str, **values: Any) -> Any:
        """The statement that ends `token`'s claim on a pending update after a failed attempt."""
        return (
            update(InboxUpdate)
            .where(
                InboxUpdate.bot_id == bot_id,
                InboxUpdate.update_id == update_id,
                InboxUpdate.claim_token == token,
                InboxUpdate.status == PENDING,
            )
            .values(
                attempts=InboxUpdate.attempts + 1,
                claim_token=None,
                claimed_until=None,
                last_error=error,
                **values,
            )
        )

    async def retry(
        self, bot_id: int, update_id: int, token: str, *, when: datetime, error: str
    ) -> None:
        """The handler failed: try the update again at `when`."""
        await self.session.execute(
            self._give_back(bot_id, update_id, token, error, next_attempt_at=when)
        )

    async def fail(self, bot_id: int, update_id: int, token: str, *, error: str) -> bool:
        """Give up on an update that failed every attempt (kept, with its error)."""
        result = await self.session.execute(
            self._give_back(bot_id, update_id, token, error, status=FAILED)
        )
        return int(result.rowcount) == 1  # type: ignore[attr-defined]

    async def release(self, token: str) -> int:
        """Hand back updates claimed by `token` that were not handled (a worker stopping)."""
        result = await self.session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.claim_token == token, InboxUpdate.status == PENDING)
            .values(claim_token=None, claimed_until=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def latest(self, bot_id: int) -> tuple[int, datetime | None]:
        """The highest update id handled for this bot (0 if none) and when one last was."""
        row = (
            await self.session.execute(
                select(func.max(InboxUpdate.update_id), func.max(InboxUpdate.handled_at)).where(
                    InboxUpdate.bot_id == bot_id, InboxUpdate.status == DONE
                )
            )
        ).one()
        return int(row[0] or 0), row[1]

    async def counts(self, bot_id: int | None = None) -> dict[str, int]:
        """How many updates are pending, done and failed."""
        query = select(InboxUpdate.status, func.count()).group_by(InboxUpdate.status)
        if bot_id is not None:
            query = query.where(InboxUpdate.bot_id == bot_id)
        found = {status: int(n) for status, n in await self.session.execute(query)}
        return {status: found.get(status, 0) for status in (PENDING, DONE, FAILED)}

    async def prune(self, before: datetime) -> int:
        """Forget handled updates received before `before` (Telegram re-delivers an update
        for about a day); pending and failed ones are kept."""
        result = await self.session.execute(
            delete(InboxUpdate).where(InboxUpdate.status == DONE, InboxUpdate.received_at < before)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
