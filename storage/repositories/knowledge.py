"""Knowledge-base repositories: procedures, agencies, lexicon, life events, routing rules,
holidays."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.records import PROCEDURE_FIELDS, AgencyRecord, ProcedureRecord
from storage.models import (
    Admin,
    Agency,
    AgencyApprover,
    HolidayOverride,
    KbVersion,
    LexiconEntry,
    LifeEventEntry,
    Procedure,
    RoutingRule,
)

# Every text column of a procedure: the record's fields but the key and the keyword list.
_PROCEDURE_TEXT_FIELDS = tuple(f for f in PROCEDURE_FIELDS if f not in ("code", "keywords"))


def procedure_to_record(row: Procedure) -> ProcedureRecord:
    """Convert a stored procedure to the pure record the index uses."""
    keywords = tuple(k for k in (row.keywords or "").split(";") if k)
    return ProcedureRecord(
        code=row.code,
        keywords=keywords,
        **{f: getattr(row, f) or "" for f in _PROCEDURE_TEXT_FIELDS},
    )


def agency_to_record(row: Agency) -> AgencyRecord:
    """Convert a stored agency to its pure record."""
    return AgencyRecord(
        code=row.code,
        name=row.name,
        chat_id=row.chat_id,
        parent=row.parent,
        reply_days=row.reply_days,
        unit_code=row.unit_code,
        kind=row.kind,
    )


class ProcedureRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all_records(
        self, *, retired: bool = False, sample: bool = True
    ) -> list[ProcedureRecord]:
        """Every procedure the bot answers with (with `retired`, also retired ones), by code."""
        query = select(Procedure).order_by(Procedure.code)
        if not retired:
            query = query.where(Procedure.retired_at.is_(None))
        if not sample:
            query = query.where(Procedure.sample.is_(False))
        return [procedure_to_record(r) for r in await self.session.scalars(query)]

    async def retire(self, codes: Iterable[str], now: datetime) -> int:
        """Stop answering with these procedures; the rows stay for the cases that name them."""
        codes = list(codes)
        if not codes:
            return 0
        result = await self.session.execute(
            update(Procedure)
            .where(Procedure.code.in_(codes), Procedure.retired_at.is_(None))
            .values(retired_at=now, updated_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def sample_count(self) -> int:
        """How many procedures of the bundled demo are stored."""
        return int(
            await self.session.scalar(
                select(func.count()).select_from(Procedure).where(Procedure.sample.is_(True))
            )
            or 0
        )

    async def delete_sample(self) -> int:
        """Remove the bundled demo's procedures entirely."""
        result = await self.session.execute(delete(Procedure).where(Procedure.sample.is_(True)))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def get(self, code: str) -> ProcedureRecord | None:
        """One procedure by code."""
        row = await self.session.get(Procedure, code)
        return procedure_to_record(row) if row else None

    async def count(self) -> int:
        """How many procedures are stored."""
        return int(await self.session.scalar(select(func.count()).select_from(Procedure)) or 0)

    async def version(self) -> tuple[int, datetime | None, int]:
        """A cheap fingerprint (count, last update, retired) that changes when the KB
        changes."""
        row = (
            await self.session.execute(
                select(
                    func.count(), func.max(Procedure.updated_at), func.count(Procedure.retired_at)
                ).select_from(Procedure)
            )
        ).one()
        last = row[1]
        if isinstance(last, str):  # SQLite aggregate bypasses the column type
            last = datetime.fromisoformat(last)
        return int(row[0]), last, int(row[2])

    async def upsert(
        self, records: Iterable[ProcedureRecord], now: datetime, *, sample: bool = False
    ) -> None:
        """Insert new procedures and overwrite existing ones with the same code (a retired
        procedure in the file is answered with again)."""
        for rec in records:
            row = await self.session.get(Procedure, rec.code)
            if row is None:
                row = Procedure(code=rec.code)
                self.session.add(row)
            for f in _PROCEDURE_TEXT_FIELDS:
                setattr(row, f, getattr(rec, f))
            row.keywords = ";".join(rec.keywords)
            row.updated_at, row.retired_at, row.sample = now, None, sample
        await self.session.flush()


class AgencyRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all_records(self, *, sample: bool = True) -> list[AgencyRecord]:
        """Every agency (without the bundled demo's when `sample` is false), by code."""
        query = select(Agency).order_by(Agency.code)
        if not sample:
            query = query.where(Agency.sample.is_(False))
        return [agency_to_record(r) for r in await self.session.scalars(query)]

    async def sample_count(self) -> int:
        """How many agencies of the bundled demo are stored."""
        return int(
            await self.session.scalar(
                select(func.count()).select_from(Agency).where(Agency.sample.is_(True))
            )
            or 0
        )

    async def delete_sample(self) -> int:
        """Remove the bundled demo's agencies entirely."""
        result = await self.session.execute(delete(Agency).where(Agency.sample.is_(True)))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def all(self) -> Sequence[Agency]:
        """Every agency row, by code."""
        return (await self.session.scalars(select(Agency).order_by(Agency.code))).all()

    async def get(self, code: str) -> Agency | None:
        """One agency by code."""
        return await self.session.get(Agency, code)

    async def of_unit(self, unit_code: str, kind: str) -> Agency | None:
        """The agency of this kind serving this commune (or province), if the directory has it."""
        return await self.session.scalar(
            select(Agency)
            .where(Agency.unit_code == unit_code, Agency.kind == kind)
            .order_by(Agency.code)
            .limit(1)
        )

    async def by_chat(self, chat_id: int) -> Agency | None:
        """The agency whose officials' group is this chat."""
        return await self.session.scalar(select(Agency).where(Agency.chat_id == chat_id))

    async def upsert(
        self, records: Iterable[AgencyRecord], now: datetime, *, sample: bool = False
    ) -> None:
        """Insert new agencies and overwrite existing ones with the same code."""
        records = list(records)
        # A chat id moving from one agency to another within the file must not trip the
        # unique constraint halfway: clear the old holders first.
        moving = [r.chat_id for r in records if r.chat_id is not None]
        if moving:
            codes = [r.code for r in records]
            await self.session.execute(
                update(Agency)
                .where(Agency.chat_id.in_(moving), Agency.code.not_in(codes))
                .values(chat_id=None)
            )
            await self.session.execute(
                update(Agency).where(Agency.code.in_(codes)).values(chat_id=None)
            )
            await self.session.flush()
        for rec in records:
            row = await self.session.get(Agency, rec.code)
            if row is None:
                row = Agency(code=rec.code)
                self.session.add(row)
            row.name, row.chat_id, row.parent = rec.name, rec.chat_id, rec.parent
            row.reply_days, row.updated_at, row.sample = rec.reply_days, now, sample
            row.unit_code, row.kind = rec.unit_code, rec.kind
        await self.session.flush()

    async def bind_chat(self, code: str, chat_id: int, now: datetime) -> Agency | None:
        """Bind a group to an agency (a group serves one agency at a time)."""
        agency = await self.get(code)
        if agency is None:
            return None
        await self.session.execute(
            update(Agency).where(Agency.chat_id == chat_id).values(chat_id=None)
        )
        agency.chat_id, agency.updated_at = chat_id, now
        await self.session.flush()
        return agency

    async def unbind_chat(self, chat_id: int) -> Agency | None:
        """Remove the group's binding; returns the agency it served."""
        agency = await self.by_chat(chat_id)
        if agency is not None:
            agency.chat_id = None
            await self.session.flush()
        return agency

    async def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> Agency | None:
        """A group became a supergroup: its binding follows the new chat id."""
        agency = await self.by_chat(old_chat_id)
        if agency is not None:
            agency.chat_id = new_chat_id
            await self.session.flush()
        return agency


class LifeEventRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all_rows(self) -> list[tuple[str, str, str, str]]:
        """Admin life events as (key, name, triggers, procedures), oldest first."""
        rows = await self.session.execute(
            select(
                LifeEventEntry.key,
                LifeEventEntry.name,
                LifeEventEntry.triggers,
                LifeEventEntry.procedures,
            ).order_by(LifeEventEntry.id)
        )
        return [(k, n, t, p) for k, n, t, p in rows]

    async def add(self, key: str, name: str, triggers: str, procedures: str) -> None:
        """Add or replace one admin life event."""
        row = await self.session.scalar(select(LifeEventEntry).where(LifeEventEntry.key == key))
        if row is None:
            self.session.add(
                LifeEventEntry(key=key, name=name, triggers=triggers, procedures=procedures)
            )
        else:
            row.name, row.triggers, row.procedures = name, triggers, procedures
        await self.session.flush()

    async def remove(self, key: str) -> bool:
        """Delete one admin life event; False when there was none."""
        result = await self.session.execute(delete(LifeEventEntry).where(LifeEventEntry.key == key))
        return bool(result.rowcount)  # type: ignore[attr-defined]


class LexiconRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all_pairs(self) -> list[tuple[str, str]]:
        """Admin lexicon additions as (phrase, expansion)."""
        rows = await self.session.execute(
            select(LexiconEntry.phrase, LexiconEntry.expansion).order_by(LexiconEntry.id)
        )
        return [(p, e) for p, e in rows]

    async def add(self, phrase: str, expansion: str) -> None:
        """Add or replace one admin entry."""
        row = await self.session.scalar(select(LexiconEntry).where(LexiconEntry.phrase == phrase))
        if row is None:
            self.session.add(LexiconEntry(phrase=phrase, expansion=expansion))
        else:
            row.expansion = expansion
        await self.session.flush()

    async def entries(self) -> Sequence[LexiconEntry]:
        """Admin entries in the order they were added."""
        return (await self.session.scalars(select(LexiconEntry).order_by(LexiconEntry.id))).all()

    async def remove(self, entry_id: int) -> LexiconEntry | None:
        """Delete one admin entry; the removed entry, or None."""
        row = await self.session.get(LexiconEntry, entry_id)
        if row is not None:
            await self.session.delete(row)
            await self.session.flush()
        return row


class RoutingRuleRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> Sequence[RoutingRule]:
        """Rules in priority order."""
        return (
            await self.session.scalars(
                select(RoutingRule).order_by(RoutingRule.priority, RoutingRule.id)
            )
        ).all()

    async def add(
        self, agency: str, *, field: str | None, keyword: str | None, priority: int = 100
    ) -> RoutingRule:
        """Add a rule field/keyword → agency."""
        rule = RoutingRule(agency=agency, field=field, keyword=keyword, priority=priority)
        self.session.add(rule)
        await self.session.flush()
        return rule

    async def remove(self, rule_id: int) -> RoutingRule | None:
        """Delete one rule; the removed rule, or None."""
        rule = await self.session.get(RoutingRule, rule_id)
        if rule is not None:
            await self.session.delete(rule)
            await self.session.flush()
        return rule


class HolidayRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> Sequence[HolidayOverride]:
        """Every admin override, by day."""
        return (
            await self.session.scalars(select(HolidayOverride).order_by(HolidayOverride.day))
        ).all()

    async def set(self, day: date, kind: str, name: str) -> None:
        """Mark a day as an extra day off or a make-up working day."""
        row = await self.session.get(HolidayOverride, day)
        if row is None:
            self.session.add(HolidayOverride(day=day, kind=kind, name=name))
        else:
            row.kind, row.name = kind, name
        await self.session.flush()

    async def remove(self, day: date) -> bool:
        """Drop an override; True if there was one."""
        result = await self.session.execute(
            delete(HolidayOverride).where(HolidayOverride.day == day)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class KbVersionRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, version: KbVersion) -> KbVersion:
        """Record an applied import; its id is the version number."""
        self.session.add(version)
        await self.session.flush()
        return version

    async def get(self, number: int) -> KbVersion | None:
        """One version by number."""
        return await self.session.get(KbVersion, number)

    async def recent(self, limit: int = 20) -> Sequence[KbVersion]:
        """The newest versions first."""
        return (
            await self.session.scalars(select(KbVersion).order_by(KbVersion.id.desc()).limit(limit))
        ).all()

    async def latest(self, kind: str | None = None) -> KbVersion | None:
        """The newest version (of one kind)."""
        query = select(KbVersion).order_by(KbVersion.id.desc()).limit(1)
        if kind is not None:
            query = query.where(KbVersion.kind == kind)
        return await self.session.scalar(query)

    async def any(self) -> bool:
        """Whether a knowledge base was ever imported here."""
        return await self.session.scalar(select(KbVersion.id).limit(1)) is not None


class AdminRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> Sequence[Admin]:
        """Admins added from Telegram, by id."""
        return (await self.session.scalars(select(Admin).order_by(Admin.telegram_id))).all()

    async def ids(self) -> set[int]:
        """Their Telegram ids."""
        table = Admin.__table__  # read on every update: the column, not the mapped objects
        return set((await self.session.scalars(select(table.c.telegram_id))).all())

    async def add(self, telegram_id: int, name: str, added_by: int | None, now: datetime) -> bool:
        """Store an admin; False when already stored."""
        if await self.session.get(Admin, telegram_id) is not None:
            return False
        self.session.add(Admin(telegram_id=telegram_id, name=name, added_by=added_by, added_at=now))
        await self.session.flush()
        return True

    async def remove(self, telegram_id: int) -> bool:
        """Drop a stored admin; True if there was one."""
        result = await self.session.execute(delete(Admin).where(Admin.telegram_id == telegram_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]


class ApproverRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_agency(self, agency: str) -> Sequence[AgencyApprover]:
        """The agency's approvers, by name."""
        return (
            await self.session.scalars(
                select(AgencyApprover)
                .where(AgencyApprover.agency == agency)
                .order_by(AgencyApprover.name, AgencyApprover.user_id)
            )
        ).all()

    async def is_approver(self, agency: str, user_id: int) -> bool:
        """Whether this person may approve the agency's answers."""
        return await self.session.get(AgencyApprover, (agency, user_id)) is not None

    async def add(self, agency: str, user_id: int, name: str, now: datetime) -> None:
        """Add (or rename) an approver."""
        row = await self.session.get(AgencyApprover, (agency, user_id))
        if row is None:
            self.session.add(
                AgencyApprover(agency=agency, user_id=user_id, name=name, added_at=now)
            )
        else:
            row.name = name
        await self.session.flush()

    async def remove(self, agency: str, user_id: int) -> bool:
        """Remove an approver; True if there was one."""
        result = await self.session.execute(
            delete(AgencyApprover).where(
                AgencyApprover.agency == agency, AgencyApprover.user_id == user_id
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
