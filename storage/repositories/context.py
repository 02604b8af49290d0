"""What every update needs before its handler runs, read in one statement: the person's
conversation (FSM row), the language they chose and the admins added from Telegram.

Three separate reads cost three round trips and, above all, three passes through SQLAlchemy
(~125 µs each against ~60 µs for a statement built once): on the path every update takes."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, cast, literal_column, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Admin, Citizen, FsmRecord
from storage.repositories.fsm import FsmRow

_CONVERSATION, _LOCALE, _ADMIN = 1, 2, 3


@dataclass
class UpdateContext:
    """`conversation` is None when no key was asked for."""

    conversation: FsmRow | None = None
    locale: str | None = None
    admin_ids: set[int] = field(default_factory=set)


@functools.cache
def _statement() -> Any:
    """One UNION ALL, built once: a row per part found, told apart by its first column.
    Every NULL is typed: PostgreSQL types an untyped NULL of the first branch as text, and
    text does not match the admins' bigint."""
    fsm: Any = FsmRecord.__table__
    citizens: Any = Citizen.__table__
    admins: Any = Admin.__table__
    no_text = cast(null(), fsm.c.state.type)
    no_data = cast(null(), fsm.c.data.type)
    no_number = cast(null(), admins.c.telegram_id.type)
    return union_all(
        select(
            literal_column(str(_CONVERSATION)).label("part"),
            fsm.c.state.label("text"),
            fsm.c.data.label("data"),
            no_number.label("number"),
        ).where(fsm.c.key == bindparam("p_key", type_=fsm.c.key.type)),
        select(literal_column(str(_LOCALE)), citizens.c.locale, no_data, no_number).where(
            citizens.c.telegram_id == bindparam("p_user", type_=citizens.c.telegram_id.type)
        ),
        select(literal_column(str(_ADMIN)), no_text, no_data, admins.c.telegram_id),
    )


class UpdateContextRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def read(self, fsm_key: str | None, user_id: int | None) -> UpdateContext:
        """The conversation stored under `fsm_key` (not `stored` when there is none), the
        language `user_id` chose (None when they chose none) and the stored admins."""
        context = UpdateContext(FsmRow(fsm_key) if fsm_key is not None else None)
        result = await self.session.execute(_statement(), {"p_key": fsm_key, "p_user": user_id})
        for part, text, data, number in result:
            if part == _CONVERSATION and context.conversation is not None:
                context.conversation = FsmRow.loaded(context.conversation.key, text, data)
            elif part == _LOCALE:
                context.locale = text
            elif part == _ADMIN:
                context.admin_ids.add(int(number))
        return context
