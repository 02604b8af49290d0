"""The procedure knowledge base as the bot sees it: records in the database, an in-memory
index rebuilt (in a thread) whenever the records, the admin lexicon or the admin life events
change."""

from __future__ import annotations

import asyncio
import gc
import gzip
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from knowledge.examples import Examples, default_examples, load_examples
from knowledge.exporters import Sheet, procedures_sheet, to_xlsx
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
from knowledge.search.cache import cached_engine, input_digest
from storage.models import KbVersion
from storage.repositories import (
    AgencyRepo,
    KbVersionRepo,
    LexiconRepo,
    LifeEventRepo,
    ProcedureRepo,
)

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


def build_examples(extra_path: Path | None) -> Examples:
    """The bundled example phrases, plus a file of the admins' (bad lines are logged and
    skipped; a file not written yet adds nothing)."""
    examples = default_examples()
    if extra_path is not None and extra_path.is_file():
        examples = examples.merged(load_examples(extra_path))
    return examples


class KnowledgeService:
    """Holds the current index; readers always see a complete snapshot."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        lexicon_path: Path | None = None,
        life_events_path: Path | None = None,
        examples_path: Path | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.sessions = sessions
        self.lexicon_path = lexicon_path
        self.life_events_path = life_events_path
        self.examples_path = examples_path
        self.cache_dir = cache_dir
        self._snapshot: Snapshot | None = None
        self._lock = asyncio.Lock()
        self._next_check = 0.0
        # Told whether each search abstained (the process's metrics); None: nobody listens.
        self.on_search: Callable[[bool], None] | None = None
        # A long-running bot keeps each loaded index out of the garbage collector's reach
        # (`keep_out_of_collections`); a command or a test, which ends soon, does not.
        self.freeze_heap = False

    def _examples_stamp(self) -> tuple[int, int]:
        """When the admins' examples file last changed, and its size (0, 0: none)."""
        try:
            st = self.examples_path.stat() if self.examples_path is not None else None
        except OSError:
            return (0, 0)
        return (st.st_mtime_ns, st.st_size) if st is not None else (0, 0)

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
                # the admins' example phrases are a file: a new one rebuilds the index
                version = (version_now, tuple(pairs), tuple(event_rows), self._examples_stamp())
                if not force and self._snapshot is not None and self._snapshot.version == version:
                    return self._snapshot
                procedures = await ProcedureRepo(session).all_records()
                agencies = await AgencyRepo(session).all_records()

            def build() -> SearchEngine:
                return SearchEngine(
                    procedures,
                    lexicon=build_lexicon(self.lexicon_path, pairs),
                    events=build_life_events(self.life_events_path, event_rows),
                    examples=build_examples(self.examples_path),
                )

            def load_or_build() -> SearchEngine:
                files = (self.lexicon_path, self.life_events_path, self.examples_path)
                key = input_digest((procedures, pairs, event_rows), files)
                return cached_engine(self.cache_dir, key, build)

            # Building (or loading) the index is CPU work: keep it off the event loop.
            engine = await asyncio.to_thread(load_or_build)
            replaced = self._snapshot is not None
            self._snapshot = Snapshot(
                engine=engine,
                procedures={p.code: p for p in procedures},
                agencies={a.code: a for a in agencies},
                version=version,
            )
            log.info("knowledge base loaded: %d procedures", len(procedures))
            if self.freeze_heap:
                keep_out_of_collections(replaced)
            return self._snapshot

    def search(self, query: str, limit: int = 5) -> SearchResponse:
        """Search the current snapshot."""
        response = self.snapshot.engine.search(query, limit=limit)
        if self.on_search is not None:
            self.on_search(response.abstained or not response.hits)
        return response


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
    replace: bool = False
    # Procedures a replacing import retires (stored and answered now, missing from the file).
    retire: list[str] = field(default_factory=list)
    # (procedures, agencies) of the bundled demo that this first real import removes.
    sample_removed: tuple[int, int] = (0, 0)
    columns: dict[str, str] = field(default_factory=dict)
    version: int | None = None  # the KB version an applied import became

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
            "replace": self.replace,
            "retired": self.retire,
            "sample_removed": {
                "procedures": self.sample_removed[0],
                "agencies": self.sample_removed[1],
            },
            "version": self.version,
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
    replace: bool = False,
    admin_id: int | None = None,
    sample: bool = False,
) -> ImportReport:
    """Validate a whole file and, if every row is valid, upsert it (atomic: all or nothing).

    `replace` (procedures): those stored but missing from the file are retired. The first
    real import removes the bundled demo (sample procedures and agencies) entirely, so a
    province's own data never mixes with it. Every applied import becomes a KB version."""
    report = ImportReport(kind=kind, dry_run=dry_run, replace=replace and kind == "procedures")
    try:
        table = await asyncio.to_thread(read_table, data, filename, max_bytes=max_bytes)
    except ImportFormatError as exc:
        report.format_error = exc
        return report
    report.rows = len(table.rows)
    agency_repo, procedure_repo = AgencyRepo(session), ProcedureRepo(session)
    demo = (await procedure_repo.sample_count(), await agency_repo.sample_count())
    purge = not sample and any(demo)
    if purge:
        report.sample_removed = demo
    existing_agencies = {a.code: a for a in await agency_repo.all_records(sample=not purge)}
    parsed: ParseResult[Any]
    if kind == "procedures":
        parsed = parse_procedures(table, {c: a.name for c, a in existing_agencies.items()})
        existing: dict[str, Any] = {
            p.code: p for p in await procedure_repo.all_records(sample=not purge)
        }
    else:
        parsed = parse_agencies(table, existing_codes=set(existing_agencies))
        existing = existing_agencies
    report.problems, report.unknown_agencies = parsed.problems, parsed.unknown_agencies
    report.warnings = list(table.warnings) + list(parsed.warnings)
    report.columns = dict(parsed.columns)
    report.diff = diff_records(parsed.records, existing)
    if report.replace:
        report.retire = list(report.diff.removed)
    if not report.ok or dry_run:
        return report
    if purge:
        await procedure_repo.delete_sample()
        await agency_repo.delete_sample()
    changed = set(report.diff.added) | set(report.diff.updated)
    records: list[Any] = [r for r in parsed.records if r.code in changed]
    if kind == "procedures":
        await procedure_repo.upsert(records, now, sample=sample)
        await procedure_repo.retire(report.retire, now)
    else:
        await agency_repo.upsert(records, now, sample=sample)
    if not sample:
        version = await record_version(
            session,
            kind=kind,
            now=now,
            admin_id=admin_id,
            filename=filename,
            replace=report.replace,
            columns={kind: [[k, h] for k, h in report.columns.items()]},
            counts={
                "added": len(report.diff.added),
                "updated": len(report.diff.updated),
                "retired": len(report.retire),
            },
        )
        report.version = version.id
    return report


# ---- versions ------------------------------------------------------------------------
async def _snapshot(session: AsyncSession) -> bytes:
    """The whole KB as it stands (procedures answered now, every agency), gzip'd JSON."""
    procedures = await ProcedureRepo(session).all_records()
    agencies = await AgencyRepo(session).all_records()
    body = {
        "procedures": [asdict(p) for p in procedures],
        "agencies": [asdict(a) for a in agencies],
    }
    return gzip.compress(json.dumps(body, ensure_ascii=False).encode("utf-8"))


def read_snapshot(version: KbVersion) -> tuple[list[ProcedureRecord], list[AgencyRecord]]:
    """The procedures and agencies a version holds."""
    body = json.loads(gzip.decompress(version.snapshot))
    procedures = [
        ProcedureRecord(**{**p, "keywords": tuple(p.get("keywords") or ())})
        for p in body["procedures"]
    ]
    return procedures, [AgencyRecord(**a) for a in body["agencies"]]


async def record_version(
    session: AsyncSession,
    *,
    kind: str,
    now: datetime,
    admin_id: int | None,
    filename: str,
    replace: bool,
    columns: dict[str, Any],
    counts: dict[str, Any],
) -> KbVersion:
    """Record the KB as it stands now as a new version."""
    return await KbVersionRepo(session).add(
        KbVersion(
            kind=kind,
            at=now,
            admin_id=admin_id,
            filename=filename,
            replace=replace,
            columns=columns,
            counts=counts,
            snapshot=await _snapshot(session),
        )
    )


@dataclass
class RollbackReport:
    number: int
    found: bool = False
    version: int | None = None
    restored: int = 0  # procedures added back or changed back
    retired: list[str] = field(default_factory=list)
    agencies: int = 0


async def rollback(
    session: AsyncSession, number: int, *, now: datetime, admin_id: int | None
) -> RollbackReport:
    """Bring the KB back to version `number`: its procedures are answered again as they were,
    procedures added since are retired, its agencies restored (keeping today's group bindings:
    a rollback of the list must not unbind a group). The rollback is itself a new version."""
    report = RollbackReport(number)
    target = await KbVersionRepo(session).get(number)
    if target is None:
        return report
    report.found = True
    procedures, agencies = read_snapshot(target)
    procedure_repo, agency_repo = ProcedureRepo(session), AgencyRepo(session)
    current = {p.code: p for p in await procedure_repo.all_records()}
    restore = [p for p in procedures if current.get(p.code) != p]
    wanted = {p.code for p in procedures}
    report.retired = sorted(code for code in current if code not in wanted)
    await procedure_repo.upsert(restore, now)
    await procedure_repo.retire(report.retired, now)
    bindings = {a.code: a.chat_id for a in await agency_repo.all_records()}
    restored_agencies = [
        AgencyRecord(
            code=a.code,
            name=a.name,
            chat_id=bindings.get(a.code, a.chat_id),
            parent=a.parent,
            reply_days=a.reply_days,
        )
        for a in agencies
    ]
    await agency_repo.upsert(restored_agencies, now)
    report.restored, report.agencies = len(restore), len(restored_agencies)
    version = await record_version(
        session,
        kind="rollback",
        now=now,
        admin_id=admin_id,
        filename=f"v{number}",
        replace=True,
        columns=dict(target.columns or {}),
        counts={"restored": report.restored, "retired": len(report.retired)},
    )
    report.version = version.id
    return report


async def export_kb(session: AsyncSession) -> bytes:
    """The current KB as XLSX: procedures with the columns of the last procedures import
    (so it imports back as it is), and the agency directory on a second sheet."""
    columns: dict[str, str] = {}
    for version in await KbVersionRepo(session).recent(limit=1000):
        pairs = (version.columns or {}).get("procedures")
        if pairs:
            columns = {k: h for k, h in pairs}
            break
    procedures = await ProcedureRepo(session).all_records()
    agencies = await AgencyRepo(session).all_records()
    agency_sheet = Sheet(
        title="Cơ quan",
        headers=["code", "name", "chat_id", "parent", "reply_days"],
        rows=[[a.code, a.name, a.chat_id, a.parent, a.reply_days] for a in agencies],
    )
    sheets = [procedures_sheet(procedures, columns), agency_sheet]
    return await asyncio.to_thread(to_xlsx, sheets)


async def seed_sample(session: AsyncSession, now: datetime) -> bool:
    """Load the bundled demo (directory and procedures) where no knowledge base was ever
    imported; its rows are marked as the sample, and the first real import removes them."""
    if await KbVersionRepo(session).any() or await ProcedureRepo(session).count():
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
            sample=True,
        )
        if not report.ok:
            raise RuntimeError(f"bundled {kind} are invalid: {report.as_dict()}")
    return True


def keep_out_of_collections(replaced: bool) -> None:
    """Move what lives now (the search index above all: ~380,000 objects) out of the cyclic
    garbage collector's reach (`gc.freeze`). A full collection walks every tracked object: with
    the index in the heap it stopped the event loop for 0.3-0.5 s every few thousand updates,
    the tail of every reply time under load. Reference counting still frees what is dropped;
    after a reload the previous freeze is undone first and one full collection clears the old
    index's cycles (a pause of that size, once per KB import)."""
    if replaced:
        gc.unfreeze()
        gc.collect()
    gc.freeze()
