"""Cases, their append-only history, attachments, and the (chat, message) → case links."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AnswerDraft, Case, CaseAttachment, CaseEvent, MessageLink


class CaseRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_code(self, code: str) -> Case | None:
        """A case by tracking code."""
        return await self.session.scalar(select(Case).where(Case.code == code))

    async def by_id(self, case_id: int, *, lock: bool = False) -> Case | None:
        """A case by id; `lock` takes the row lock (SELECT … FOR UPDATE) on PostgreSQL."""
        if not lock:
            return await self.session.get(Case, case_id)
        return await self.session.get(Case, case_id, with_for_update=True, populate_existing=True)

    async def by_source_key(self, key: str) -> Case | None:
        """The case filed from this draft, if any (double submits are idempotent)."""
        return await self.session.scalar(select(Case).where(Case.source_key == key))

    async def code_taken(self, code: str) -> bool:
        """Whether a tracking code is already in use."""
        return await self.session.scalar(select(Case.id).where(Case.code == code)) is not None

    async def of_citizen(self, citizen_id: int, limit: int = 10) -> Sequence[Case]:
        """The citizen's latest cases."""
        return (
            await self.session.scalars(
                select(Case)
                .where(Case.citizen_id == citizen_id)
                .order_by(Case.received_at.desc(), Case.id.desc())
                .limit(limit)
            )
        ).all()

    async def count_filed_since(self, citizen_id: int, since: datetime) -> int:
        """How many cases the citizen filed since `since`."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.citizen_id == citizen_id, Case.received_at >= since)
        )
        return int(count or 0)

    async def same_content_since(
        self, citizen_id: int, content_hash: str, since: datetime
    ) -> str | None:
        """The code of a case with the same content filed by the citizen since `since`."""
        return await self.session.scalar(
            select(Case.code)
            .where(
                Case.citizen_id == citizen_id,
                Case.received_at >= since,
                Case.content_hash == content_hash,
            )
            .limit(1)
        )

    async def add(self, case: Case) -> Case:
        """Insert a new case (its id is assigned)."""
        self.session.add(case)
        await self.session.flush()
        return case

    def add_attachments(self, case_id: int, items: Sequence[dict[str, Any]], origin: str) -> None:
        """Keep Telegram file ids of photos/documents of a case (citizen's or official's)."""
        for att in items:
            self.session.add(
                CaseAttachment(
                    case_id=case_id,
                    kind=att["kind"],
                    file_id=att["file_id"],
                    file_name=att.get("file_name"),
                    origin=origin,
                )
            )

    async def attachments(self, case_id: int, origin: str | None = None) -> list[CaseAttachment]:
        """The case's attachments in the order they came, optionally of one origin."""
        query = select(CaseAttachment).where(CaseAttachment.case_id == case_id)
        if origin is not None:
            query = query.where(CaseAttachment.origin == origin)
        return list(await self.session.scalars(query.order_by(CaseAttachment.id)))

    async def unresolved_places(
        self, statuses: Collection[str] | None = None, since: datetime | None = None
    ) -> Sequence[Case]:
        """Cases that needed a commune and did not get one (unresolved or outside the
        province), oldest first; only in `statuses` and received since `since` when given."""
        query = select(Case).where(Case.unit_status.in_(("unresolved", "outside")))
        if statuses is not None:
            query = query.where(Case.status.in_(list(statuses)))
        if since is not None:
            query = query.where(Case.received_at >= since)
        return (await self.session.scalars(query.order_by(Case.id))).all()

    async def due_for_action(
        self, statuses: Collection[str], now: datetime, limit: int
    ) -> Sequence[Case]:
        """Open cases whose next action is due by `now`, soonest first (through the
        `next_action_at` index); locked, and skipped by a concurrent tick on PostgreSQL."""
        return (
            await self.session.scalars(
                select(Case)
                .where(Case.next_action_at <= now, Case.status.in_(list(statuses)))
                .order_by(Case.next_action_at, Case.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()

    async def reschedule_all(self, statuses: Collection[str], at: datetime) -> int:
        """Make every open case due for a look at `at` (after the schedule's settings
        changed); how many."""
        result = await self.session.execute(
            update(Case)
            .where(Case.status.in_(list(statuses)))
            .values(next_action_at=at)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def open_by_agency(
        self, statuses: Collection[str], now: datetime
    ) -> list[tuple[str, int, int]]:
        """(agency, open cases, of which past due) for every agency with an open case."""
        overdue = func.sum(sql_case((Case.due_at < now, 1), else_=0))
        rows = await self.session.execute(
            select(Case.agency, func.count(), overdue)
            .where(Case.status.in_(list(statuses)))
            .group_by(Case.agency)
            .order_by(Case.agency)
        )
        return [(agency, int(n), int(late or 0)) for agency, n, late in rows]


class EventRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(
        self,
        case_id: int,
        *,
        at: datetime,
        actor_kind: str,
        action: str,
        actor_id: int | None = None,
        actor_name: str | None = None,
        from_status: str | None = None,
        to_status: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> CaseEvent:
        """Append one event to the case's history."""
        event = CaseEvent(
            case_id=case_id,
            at=at,
            actor_kind=actor_kind,
            actor_id=actor_id,
            actor_name=actor_name,
            action=action,
            from_status=from_status,
            to_status=to_status,
            details=details or {},
        )
        self.session.add(event)
        return event

    async def of_case(self, case_id: int) -> list[CaseEvent]:
        """The case's whole history, oldest first."""
        return list(
            await self.session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            )
        )

    async def last(self, case_id: int, action: str) -> CaseEvent | None:
        """The newest event of this action on the case."""
        return await self.session.scalar(
            select(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.action == action)
            .order_by(CaseEvent.id.desc())
            .limit(1)
        )

    async def of_cases(
        self, case_ids: Collection[int], actions: Collection[str]
    ) -> dict[int, list[CaseEvent]]:
        """Events of these actions for many cases at once, grouped by case."""
        grouped: dict[int, list[CaseEvent]] = {i: [] for i in case_ids}
        if not case_ids:
            return grouped
        rows = await self.session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id.in_(list(case_ids)), CaseEvent.action.in_(list(actions)))
            .order_by(CaseEvent.id)
        )
        for event in rows:
            grouped[event.case_id].append(event)
        return grouped


# session.info: the newest links `MessageLinkRepo.preload_newest` read, by (case, kind).
_NEWEST = "newest_links"


class MessageLinkRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, chat_id: int, message_id: int) -> MessageLink | None:
        """The link of one bot message, if it belongs to a case."""
        return await self.session.get(MessageLink, (chat_id, message_id))

    async def cards(self, case_id: int, chat_id: int) -> list[MessageLink]:
        """Every delivered part of every copy of the case's card in the chat: "card" for a
        card's first message, "card:<n>" for its n-th continuation."""
        return list(
            await self.session.scalars(
                select(MessageLink)
                .where(
                    MessageLink.case_id == case_id,
                    MessageLink.chat_id == chat_id,
                    or_(MessageLink.kind == "card", MessageLink.kind.like("card:%")),
                )
                .order_by(MessageLink.message_id)
            )
        )

    async def preload_newest(self, case_ids: Collection[int], kind: str) -> None:
        """Read the newest message of `kind` in every chat for these cases in one statement:
        `newest` answers from it for them until `forget_preloaded` (a tick reminding a hundred
        cases looked their cards up one statement at a time)."""
        known: dict[tuple[int, str], dict[int, int]] = self.session.info.setdefault(_NEWEST, {})
        for case_id in case_ids:
            known[(case_id, kind)] = {}
        if not case_ids:
            return
        with self.session.no_autoflush:
            rows = await self.session.execute(
                select(MessageLink.case_id, MessageLink.chat_id, func.max(MessageLink.message_id))
                .where(MessageLink.case_id.in_(list(case_ids)), MessageLink.kind == kind)
                .group_by(MessageLink.case_id, MessageLink.chat_id)
            )
        for case_id, chat_id, message_id in rows:
            known[(case_id, kind)][chat_id] = message_id

    def forget_preloaded(self) -> None:
        self.session.info.pop(_NEWEST, None)

    async def newest(self, case_id: int, chat_id: int, kind: str) -> int | None:
        """The newest message of this kind for the case in the chat (e.g. its card).

        Links are written by the outbox sender in transactions of its own, never pending in
        the caller's session: the caller's pending rows are not flushed for this read (a tick
        queuing a hundred reminders flushes them once, not before each card lookup)."""
        preloaded = self.session.info.get(_NEWEST, {}).get((case_id, kind))
        if preloaded is not None:
            return preloaded.get(chat_id)
        with self.session.no_autoflush:
            return await self.session.scalar(
                select(MessageLink.message_id)
                .where(
                    MessageLink.case_id == case_id,
                    MessageLink.chat_id == chat_id,
                    MessageLink.kind == kind,
                )
                .order_by(MessageLink.message_id.desc())
                .limit(1)
            )

    async def of_case(
        self, case_id: int, chat_id: int | None = None, kinds: Collection[str] = ()
    ) -> list[MessageLink]:
        """Every linked message of the case (optionally in one chat, of some kinds)."""
        query = select(MessageLink).where(MessageLink.case_id == case_id)
        if chat_id is not None:
            query = query.where(MessageLink.chat_id == chat_id)
        if kinds:
            query = query.where(MessageLink.kind.in_(list(kinds)))
        return list(await self.session.scalars(query.order_by(MessageLink.message_id)))

    async def add(self, chat_id: int, message_id: int, case_id: int, kind: str) -> None:
        """Link a delivered message to its case (idempotent)."""
        await self.session.merge(
            MessageLink(chat_id=chat_id, message_id=message_id, case_id=case_id, kind=kind)
        )


class AnswerDraftRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, draft_id: int) -> AnswerDraft | None:
        """One draft by id."""
        return await self.session.get(AnswerDraft, draft_id)

    async def add(self, draft: AnswerDraft) -> AnswerDraft:
        """Insert a draft (its id is assigned)."""
        self.session.add(draft)
        await self.session.flush()
        return draft

    async def open_album(
        self, case_id: int, author_id: int, media_group_id: str
    ) -> AnswerDraft | None:
        """The author's previewed draft that this album (media group) belongs to."""
        return await self.session.scalar(
            select(AnswerDraft)
            .where(
                AnswerDraft.case_id == case_id,
                AnswerDraft.author_id == author_id,
                AnswerDraft.media_group_id == media_group_id,
                AnswerDraft.status == "preview",
            )
            .order_by(AnswerDraft.id.desc())
            .limit(1)
        )

    async def awaiting_approval(self, case_ids: Collection[int]) -> dict[int, AnswerDraft]:
        """The draft waiting for approval, per case, for these cases."""
        if not case_ids:
            return {}
        rows = await self.session.scalars(
            select(AnswerDraft).where(
                AnswerDraft.case_id.in_(list(case_ids)),
                AnswerDraft.status == "awaiting_approval",
            )
        )
        return {row.case_id: row for row in rows}
