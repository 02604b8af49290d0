"""The procedure knowledge base as the bot sees it: records in the database, an in-memory
index rebuilt (in a thread) whenever the records, the admin lexicon or the admin life events
change."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from knowledge.importers import (
    ImportDiff,
    ImportFormatError,
    ParseResult,
    Problem,
    diff_records,
    parse_agencies,
    parse_procedures,
    read_table,
)
from knowledge.lexicon import Lexicon, default_lexicon, parse_lexicon_lines
from knowledge.lifeevents import (
    LifeEvent,
    LifeEventError,
    LifeEvents,
    default_life_events,
    make_event,
    parse_life_event_lines,
)
from knowledge.records import AgencyRecord, ProcedureRecord
from knowledge.search import SearchEngine, SearchResponse
from storage.repositories import AgencyRepo, LexiconRepo, LifeEventRepo, ProcedureRepo

log = logging.getLogger(__name__)

# How often a running bot asks the database whether the knowledge base changed.
CHECK_SECONDS = 30.0


def sample_file(name: str) -> bytes:
    """A file of the bundled sample knowledge base."""
    return resources.files("knowledge").joinpath("data", name).read_bytes()


@dataclass
class Snapshot:
    engine: SearchEngine
    procedures: dict[str, ProcedureRecord]
    agencies: dict[str, AgencyRecord]
    version: Any


def build_lexicon(extra_path: Path | None, admin_pairs: list[tuple[str, str]]) -> Lexicon:
    """The bundled lexicon, plus a file of the admins' and their table entries."""
    lexicon = default_lexicon()
    if extra_path is not None:
        lexicon = lexicon.merged(parse_lexicon_lines(extra_path.read_text("utf-8").splitlines()))
    if admin_pairs:
        lexicon = lexicon.merged(admin_pairs)
    return lexicon


def build_life_events(
    extra_path: Path | None, admin_rows: list[tuple[str, str, str, str]]
) -> LifeEvents:
    """The bundled life events, plus a file of the admins' and their table entries (a row
    that cannot be used is skipped: one bad row must not stop the index from rebuilding)."""
    events = default_life_events()
    if extra_path is not None:
        events = events.merged(parse_life_event_lines(extra_path.read_text("utf-8").splitlines()))
    usable: list[LifeEvent] = []
    for row in admin_rows:
        try:
            usable.append(make_event(*row))
        except LifeEventError:
            log.warning("admin life event %r skipped: unusable", row[0])
    return events.merged(usable)


class KnowledgeService:
    """Holds the current index; readers always see a complete snapshot."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        lexicon_path: Path | None = None,
        life_events_path: Path | None = None,
    ) -> None:
        self.sessions = sessions
        self.lexicon_path = lexicon_path
        self.life_events_path = life_events_path
        self._snapshot: Snapshot | None = None
        self._lock = asyncio.Lock()
        self._next_check = 0.0

    @property
    def snapshot(self) -> Snapshot:
        if self._snapshot is None:
            raise RuntimeError("knowledge base not loaded yet")
        return self._snapshot

    def invalidate(self) -> None:
        """Check the stored KB again at the next `refresh` (after this process imported)."""
        self._next_check = 0.0

    async def refresh(self) -> None:
        """Pick up imports made by any process; the database is asked at most every
        CHECK_SECONDS, so a question costs no query in the common case."""
        if self._snapshot is not None and time.monotonic() < self._next_check:
            return
        await self.reload()

    async def reload(self, *, force: bool = False) -> Snapshot:
        """Rebuild the index if the stored KB changed (cheap check first)."""
        self._next_check = time.monotonic() + CHECK_SECONDS
        async with self._lock:
            async with self.sessions() as session:
                version_now = await ProcedureRepo(session).version()
                pairs = await LexiconRepo(session).all_pairs()
                event_rows = await LifeEventRepo(session).all_rows()
                version = (version_now, tuple(pairs), tuple(event_rows))
                if not force and self._snapshot is not None and self._snapshot.version == version:
                    return self._snapshot
                procedures = await ProcedureRepo(session).all_records()
                agencies = await AgencyRepo(session).all_records()
            # Building the index is CPU work: keep it off the event loop.
            engine = await asyncio.to_thread(
                lambda: SearchEngine(
                    procedures,
                    lexicon=build_lexicon(self.lexicon_path, pairs),
                    events=build_life_events(self.life_events_path, event_rows),
                )
            )
            self._snapshot = Snapshot(
                engine=engine,
                procedures={p.code: p for p in procedures},
                agencies={a.code: a for a in agencies},
                version=version,
            )
            log.info("knowledge base loaded: %d procedures", len(procedures))
            return self._snapshot

    def search(self, query: str, limit: int = 5) -> SearchResponse:
        """Search the current snapshot."""
        return self.snapshot.engine.search(query, limit=limit)


@dataclass
class ImportReport:
    kind: str  # "procedures" | "agencies"
    dry_run: bool
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unknown_agencies: list[str] = field(default_factory=list)
    diff: ImportDiff | None = None
    format_error: ImportFormatError | None = None

    @property
    def ok(self) -> bool:
        return self.format_error is None and not self.problems

    @property
    def applied(self) -> bool:
        return self.ok and not self.dry_run

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "applied": self.applied,
            "rows": self.rows,
            "format_error": (
                {"code": self.format_error.code, "message": str(self.format_error)}
                if self.format_error
                else None
            ),
            "problems": [
                {
                    "row": p.row,
                    "column": p.column,
                    "code": p.code,
                    "message": p.message,
                    "value": p.value,
                }
                for p in self.problems
            ],
            "warnings": self.warnings,
            "unknown_agencies": self.unknown_agencies,
            "added": self.diff.added if self.diff else [],
            "updated": self.diff.updated if self.diff else [],
            "unchanged": self.diff.unchanged if self.diff else [],
            "removed_from_file": self.diff.removed if self.diff else [],
        }


async def import_file(
    session: AsyncSession,
    data: bytes,
    filename: str,
    *,
    kind: str,
    dry_run: bool,
    now: datetime,
    max_bytes: int,
) -> ImportReport:
    """Validate a whole file and, if every row is valid, upsert it (atomic: all or nothing)."""
    report = ImportReport(kind=kind, dry_run=dry_run)
    try:
        table = await asyncio.to_thread(read_table, data, filename, max_bytes=max_bytes)
    except ImportFormatError as exc:
        report.format_error = exc
        return report
    report.rows = len(table.rows)
    agency_repo = AgencyRepo(session)
    existing_agencies = {a.code: a for a in await agency_repo.all_records()}
    parsed: ParseResult[Any]
    if kind == "procedures":
        parsed = parse_procedures(table, {c: a.name for c, a in existing_agencies.items()})
        existing: dict[str, Any] = {p.code: p for p in await ProcedureRepo(session).all_records()}
    else:
        parsed = parse_agencies(table, existing_codes=set(existing_agencies))
        existing = existing_agencies
    report.problems, report.unknown_agencies = parsed.problems, parsed.unknown_agencies
    report.warnings = list(table.warnings) + list(parsed.warnings)
    report.diff = diff_records(parsed.records, existing)
    if not report.ok or dry_run:
        return report
    changed = set(report.diff.added) | set(report.diff.updated)
    records: list[Any] = [r for r in parsed.records if r.code in changed]
    if kind == "procedures":
        await ProcedureRepo(session).upsert(records, now)
    else:
        await agency_repo.upsert(records, now)
    return report


async def seed_sample(session: AsyncSession, now: datetime) -> bool:
    """Load the bundled sample directory and procedures into an empty database."""
    if await ProcedureRepo(session).count():
        return False
    # The directory first: procedures name their agencies.
    for kind, name in (("agencies", "agencies.json"), ("procedures", "procedures.json")):
        report = await import_file(
            session,
            sample_file(name),
            name,
            kind=kind,
            dry_run=False,
            now=now,
            max_bytes=50_000_000,
        )
        if not report.ok:
            raise RuntimeError(f"bundled {kind} are invalid: {report.as_dict()}")
    return True
