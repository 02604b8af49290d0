"""The command line: `citizen-bot` (also `python -m bot`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from bot.settings import Settings

app = typer.Typer(
    help="Citizen feedback & procedure bot for Vietnamese local government.",
    no_args_is_help=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.")
kb_app = typer.Typer(help="Procedure knowledge base.")
agencies_app = typer.Typer(help="Agency directory.")
calendar_app = typer.Typer(help="Reply clock and days off.")
rules_app = typer.Typer(help="Routing rules (field/keyword → agency).")
lexicon_app = typer.Typer(help="The admins' colloquial → official phrases for the search.")
cases_app = typer.Typer(help="Cases.")
app.add_typer(db_app, name="db")
app.add_typer(kb_app, name="kb")
app.add_typer(agencies_app, name="agencies")
app.add_typer(calendar_app, name="calendar")
app.add_typer(rules_app, name="rules")
app.add_typer(lexicon_app, name="lexicon")
app.add_typer(cases_app, name="cases")


def _setup_logging(settings: Settings | None = None) -> Any:
    """Logs on stderr, personal data masked; JSON lines when LOG_FORMAT=json."""
    from bot.logs import setup_logging

    server = (settings or Settings.load()).server
    return setup_logging(server.log_format, server.log_level)


async def _with_app(fn: Any, *, seed: bool = True, search: bool = False) -> Any:
    from bot.app import create_app

    # The search index is built only for the commands that search.
    application = await create_app(Settings.load(), seed=seed, load_knowledge=search)
    try:
        return await fn(application)
    finally:
        await application.close()


@app.callback(invoke_without_command=True)
def main_callback(ctx: typer.Context) -> None:
    """Without a command: run the bot (Telegram with BOT_TOKEN, else the offline shell)."""
    if ctx.invoked_subcommand is None:
        run()


@app.command()
def run() -> None:
    """Run the bot: Telegram's webhook when WEBHOOK_URL is set, else polling when BOT_TOKEN
    is set, otherwise the offline shell."""
    settings = Settings.load()
    if settings.telegram.bot_token is None:
        typer.echo(
            "BOT_TOKEN is not set: starting the offline terminal chat.\n"
            "To connect to Telegram, create a bot with @BotFather and run:\n"
            "  BOT_TOKEN=123456:ABC... citizen-bot run\n"
            "(TELEGRAM_API_BASE=http://127.0.0.1:8081 for a self-hosted Bot API server.)\n",
            err=True,
        )
        shell()
        return
    known = _setup_logging(settings)
    if settings.server.webhook_url:
        from bot.web import run_webhook

        asyncio.run(run_webhook(settings, known=known))
        return
    from bot.runner import run_polling

    asyncio.run(run_polling(settings, known=known))


@app.command()
def shell() -> None:
    """Offline terminal chat with the same dispatcher: every role, buttons as numbered
    choices, `/time` to move the clock."""
    from bot.app import create_app
    from bot.clock import ShiftedClock
    from bot.shell import ShellChat, shell_settings

    logging.basicConfig(level=logging.WARNING)

    async def go() -> None:
        application = await create_app(shell_settings(Settings.load()), ShiftedClock())
        try:
            await ShellChat(application).run()
        finally:
            await application.close()

    asyncio.run(go())


def _when(now: str, tz: Any) -> datetime:
    """An ISO time; without an offset it is local time."""
    when = datetime.fromisoformat(now)
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)


@app.command()
def tick(
    now: Annotated[
        str | None, typer.Option(help="ISO time to act as now (local time without an offset)")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print what would be sent; record and send nothing."),
    ] = False,
) -> None:
    """One pass of reminders, escalations and due reports, then deliver the outbox."""
    from bot.clock import FixedClock, SystemClock
    from bot.runner import tick_dry_run, tick_once

    settings = Settings.load()
    clock = FixedClock(_when(now, settings.bot.tz)) if now else SystemClock()
    if dry_run:
        from bot.shell import html_to_terminal
        from bot.telegram.rendering import Renderer

        counts, would = asyncio.run(tick_dry_run(settings, clock))
        r = Renderer(settings.bot.tz, settings.bot.locale)
        at = clock.now().astimezone(settings.bot.tz).strftime("%H:%M %d/%m/%Y")
        typer.echo(r.plain("shell.dry_run_header", settings.bot.locale, time=at))
        for w in would:
            body = html_to_terminal(w.text).replace("\n", "\n   ")
            typer.echo(f"\n→ {w.recipient} · {w.purpose}\n   {body}")
        if not would:
            typer.echo(r.plain("shell.dry_run_nothing", settings.bot.locale))
        typer.echo(json.dumps({**counts, "dry_run": True}, ensure_ascii=False))
        return
    _setup_logging(settings)
    typer.echo(json.dumps(asyncio.run(tick_once(settings, clock)), ensure_ascii=False))


# ---- db ------------------------------------------------------------------------------
@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (also done on every start); safe to run from every process at once:
    they take turns (an advisory lock on PostgreSQL, a file lock beside an SQLite file)."""
    from storage.db import create_engine, migrate

    _setup_logging()

    async def go() -> None:
        engine = create_engine(Settings.load().database.database_url)
        await migrate(engine, revision)
        await engine.dispose()

    asyncio.run(go())
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (use "base" for an empty schema)."""
    from storage.db import create_engine, migrate

    async def go() -> None:
        engine = create_engine(Settings.load().database.database_url)
        await migrate(engine, revision, down=True)
        await engine.dispose()

    asyncio.run(go())
    typer.echo(f"database at {revision}")


@db_app.command("prune")
def db_prune() -> None:
    """Housekeeping once: delete delivered outbox rows, handled update ids and abandoned
    conversations older than their RETENTION_* settings (the bot does it every hour)."""
    from bot.housekeeping import housekeep

    _setup_logging()
    deleted = asyncio.run(_with_app(housekeep, seed=False))
    typer.echo(json.dumps(deleted))


# ---- imports ---------------------------------------------------------------------------
def _import(
    path: Path,
    kind: str,
    dry_run: bool,
    as_json: bool,
    *,
    replace: bool = False,
    confirm: int | None = None,
    max_mb: int | None = None,
) -> None:
    from bot.domain.knowledge import import_file
    from bot.telegram.rendering import Renderer

    if not path.is_file():
        typer.echo(f"no such file: {path}", err=True)
        raise typer.Exit(2)
    settings = Settings.load()
    data = path.read_bytes()
    limit = (max_mb or settings.search.cli_import_max_mb) * 1024 * 1024

    async def run(dry: bool) -> Any:
        async def go(application: Any) -> Any:
            async with application.sessions.begin() as session:
                report = await import_file(
                    session,
                    data,
                    path.name,
                    kind=kind,
                    dry_run=dry,
                    now=application.clock.now(),
                    max_bytes=limit,
                    replace=replace,
                )
            if report.applied and application.knowledge.cache_dir is not None:
                # The KB changed: build its index now and keep it (SEARCH_CACHE_DIR), so the
                # running bots pick it up, and the next start answers, without building it.
                await application.knowledge.reload(force=True)
            return report

        return await _with_app(go)

    if replace and not dry_run:
        # Retiring procedures is confirmed with their number, as in the chat.
        check = asyncio.run(run(True))
        if check.ok and check.retire and confirm != len(check.retire):
            if confirm is not None or not sys.stdin.isatty():
                typer.echo(
                    f"{len(check.retire)} procedures would be retired; "
                    f"confirm with --confirm {len(check.retire)}",
                    err=True,
                )
                raise typer.Exit(3)
            answer = typer.prompt(
                f"{len(check.retire)} procedures are not in the file and will no longer be "
                f"answered. Type {len(check.retire)} to confirm"
            )
            if answer.strip() != str(len(check.retire)):
                typer.echo("nothing changed", err=True)
                raise typer.Exit(3)
    report = asyncio.run(run(dry_run))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        from bot.telegram.rendering import html_to_terminal

        renderer = Renderer(settings.bot.tz, settings.bot.locale)
        typer.echo(
            html_to_terminal(renderer.render("import_report.html", settings.bot.locale, r=report))
        )
    if not report.ok:
        raise typer.Exit(1)


@kb_app.command("import")
def kb_import(
    path: Path,
    dry_run: Annotated[bool, typer.Option("--dry-run")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="retire procedures missing from the file")
    ] = False,
    confirm: Annotated[
        int | None, typer.Option("--confirm", help="with --replace: how many will be retired")
    ] = None,
    max_mb: Annotated[int | None, typer.Option("--max-mb", help="largest file")] = None,
) -> None:
    """Import procedures from CSV, XLSX or JSON (all rows valid, or nothing changes)."""
    _import(path, "procedures", dry_run, as_json, replace=replace, confirm=confirm, max_mb=max_mb)


@agencies_app.command("import")
def agencies_import(
    path: Path,
    dry_run: Annotated[bool, typer.Option("--dry-run")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    max_mb: Annotated[int | None, typer.Option("--max-mb", help="largest file")] = None,
) -> None:
    """Import the agency directory from CSV, XLSX or JSON."""
    _import(path, "agencies", dry_run, as_json, max_mb=max_mb)


@agencies_app.command("list")
def agencies_list() -> None:
    """Print the agency directory: group, reply days, open and overdue cases."""
    from bot.domain.admin import agency_overview

    async def go(application: Any) -> Any:
        async with application.sessions() as session:
            return await agency_overview(
                session, application.clock.now(), application.settings.cases.reply_days
            )

    for a in asyncio.run(_with_app(go)):
        typer.echo(
            f"{a.code}\t{a.name}\tchat={a.chat_id or '-'}\tparent={a.parent or '-'}"
            f"\treply_days={a.reply_days}{'' if a.own_reply_days else ' (default)'}"
            f"\topen={a.open}\toverdue={a.overdue}"
            f"\tkind={a.kind or '-'}\tunit={a.unit_code or '-'}"
        )


@agencies_app.command("generate-communes")
def agencies_generate_communes(
    province_code: Annotated[str, typer.Argument(help="national statistics code, e.g. 68")],
    out: Annotated[
        Path | None, typer.Option(help="file to write (.csv, .xlsx or .json); default: stdout CSV")
    ] = None,
    police: Annotated[
        bool, typer.Option("--police", help="also one commune police agency per commune")
    ] = False,
    parent: Annotated[str | None, typer.Option(help="parent of the People's Committees")] = None,
    police_parent: Annotated[str | None, typer.Option(help="parent of the police")] = None,
) -> None:
    """Write a directory file with one People's Committee per commune of the province (its
    statistics code as unit_code), for the admin to add chat ids and import."""
    from knowledge.importers.directory import commune_agencies, directory_bytes
    from knowledge.places import UnknownProvince, load_gazetteer

    try:
        places = load_gazetteer(province_code)
    except UnknownProvince as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    records = commune_agencies(
        places, police=police, committee_parent=parent, police_parent=police_parent
    )
    fmt = out.suffix.lower().lstrip(".") if out is not None else "csv"
    if fmt not in ("csv", "xlsx", "json"):
        typer.echo("the file must end in .csv, .xlsx or .json", err=True)
        raise typer.Exit(2)
    data = directory_bytes(records, fmt)
    if out is None:
        sys.stdout.write(data.decode("utf-8-sig"))
        return
    out.write_bytes(data)
    typer.echo(
        f"{out}: {len(records)} agencies for {len(places.communes)} communes of "
        f"{places.province.name} ({places.province.code})",
        err=True,
    )


# ---- cases -----------------------------------------------------------------------------
@cases_app.command("unresolved")
def cases_unresolved(
    include_closed: Annotated[
        bool, typer.Option("--all", help="closed cases too (default: open ones)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Cases that needed a commune and did not get one (address not understood, another
    province, or no agency for the commune in the directory): transfer them by hand."""
    from bot.domain.statuses import OPEN_STATUSES
    from storage.repositories import CaseRepo

    async def go(application: Any) -> list[dict[str, Any]]:
        async with application.sessions() as session:
            rows = await CaseRepo(session).unresolved_places(
                None if include_closed else OPEN_STATUSES
            )
            tz = application.settings.bot.tz
            return [
                {
                    "code": c.code,
                    "status": c.status,
                    "unit_status": c.unit_status,
                    "agency": c.agency,
                    "received_at": c.received_at.astimezone(tz).strftime("%d/%m/%Y"),
                    "address": c.citizen_address,
                    "place": c.place,
                    "location": [c.latitude, c.longitude] if c.latitude is not None else None,
                    "unit_code": c.unit_code,
                    "rule": c.routing_rule,
                }
                for c in rows
            ]

    rows = asyncio.run(_with_app(go))
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        where = r["place"] or r["address"]
        if r["location"]:
            where += f" · 📍 {r['location'][0]:.5f},{r['location'][1]:.5f}"
        typer.echo(f"{r['code']}\t{r['received_at']}\t{r['unit_status']}\t→ {r['agency']}\t{where}")
    typer.echo(f"{len(rows)} case(s)", err=True)


# ---- search ----------------------------------------------------------------------------
def _response_json(response: Any) -> dict[str, Any]:
    return {
        "query": response.query,
        "abstained": response.abstained,
        "results": [
            {"code": h.code, "name": h.name, "score": round(h.score, 4)} for h in response.hits
        ],
        "related": [{"code": h.code, "name": h.name} for h in response.related],
        "intent": response.intent,
        "facet": response.facet,
        "events": list(response.events),
        "language": response.language,
        "variant": response.variant,
        "scope": response.scope,
    }


@kb_app.command("search")
def kb_search(
    query: Annotated[str | None, typer.Argument()] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    limit: int = 5,
    stdin: Annotated[bool, typer.Option("--stdin")] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="features, nearest example phrase, scope")
    ] = False,
    kb: Annotated[Path | None, typer.Option("--kb", help="a KB file, not the stored KB")] = None,
) -> None:
    """Search the knowledge base; --stdin reads one query per line and writes JSON lines;
    --explain shows why (each candidate's features and closest example phrase, and the
    out-of-scope category the question leans to)."""
    if query is None and not stdin:
        typer.echo("give a QUERY or --stdin", err=True)
        raise typer.Exit(2)

    async def go(application: Any) -> None:
        engine = application.knowledge.snapshot.engine if application is not None else _file_engine
        if explain and query is not None:
            typer.echo(json.dumps(engine.explain(query, limit), ensure_ascii=False, indent=2))
            return
        if stdin:
            for line in sys.stdin:
                q = line.rstrip("\n")
                sys.stdout.write(
                    json.dumps(_response_json(engine.search(q, limit=limit)), ensure_ascii=False)
                    + "\n"
                )
            sys.stdout.flush()
            return
        response = engine.search(query, limit=limit)
        if as_json:
            typer.echo(json.dumps(_response_json(response), ensure_ascii=False, indent=2))
            return
        typer.echo("(abstained — below the confidence threshold)\n" if response.abstained else "")
        for h in response.hits:
            typer.echo(f"{h.score:.3f}  {h.code}  {h.name}")

    _file_engine: Any = None
    if kb is not None:
        _file_engine = _engine_for_file(kb)
        asyncio.run(go(None))
        return
    asyncio.run(_with_app(go, search=True))


def _engine_for_file(kb: Path, *, admin_examples: bool = True) -> Any:
    """A search engine over a KB file with the bundled lexicon, life events and examples (and
    the admins' examples file, SEARCH_EXAMPLES_PATH, unless `admin_examples` is False: a
    reproducible evaluation), without a database."""
    from bot.domain.knowledge import build_examples
    from knowledge.lexicon import default_lexicon
    from knowledge.lifeevents import default_life_events
    from knowledge.sample import load_procedures_json
    from knowledge.search import SearchEngine

    extra = Settings.load().search.examples_path if admin_examples else None
    return SearchEngine(
        load_procedures_json(kb),
        default_lexicon(),
        events=default_life_events(),
        examples=build_examples(extra),
    )


@kb_app.command("eval")
def kb_eval(
    path: Path,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    kb: Annotated[Path | None, typer.Option("--kb")] = None,
    unseen: Annotated[
        bool,
        typer.Option("--unseen", help="leave out questions identical to an example phrase"),
    ] = False,
    figures_only: Annotated[
        bool,
        typer.Option("--figures-only", help="no list of misses (a never-tuned set stays unseen)"),
    ] = False,
) -> None:
    """Evaluate search on labelled questions (JSON lines {"q": ..., "expect": code|null}).

    With --kb FILE.json the questions run on that knowledge base with the bundled lexicon and
    life events (reproducible, no database); without it, on the bot's stored knowledge base.
    With --unseen, questions that are word for word one of the engine's example phrases are
    left out (how many is printed)."""
    from knowledge.evaluation import evaluate, load_rows, without_example_twins

    rows = load_rows(path)

    def measured(engine: Any) -> Any:
        asked = rows
        if unseen:
            asked = without_example_twins(rows, (e.phrase for e in engine.examples))
            typer.echo(
                f"left out {len(rows) - len(asked)} questions identical to an example", err=True
            )
        return evaluate(engine, asked)

    if kb is not None:
        report = measured(_engine_for_file(kb, admin_examples=False))
    else:

        async def go(application: Any) -> Any:
            return measured(application.knowledge.snapshot.engine)

        report = asyncio.run(_with_app(go, search=True))
    if as_json:
        data = report.as_dict()
        if figures_only:
            data.pop("misses", None)
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    typer.echo(report.format(misses=not figures_only))


@kb_app.command("event-add")
def kb_event_add(
    key: str,
    name: str,
    triggers: Annotated[str, typer.Option("--triggers", help="phrases separated by |")],
    procedures: Annotated[
        str, typer.Option("--procedures", help="official wordings or codes, | separated")
    ],
) -> None:
    """Teach the search a life event (or replace one with the same KEY): phrases that reveal
    it and the procedures it leads to ("Đăng ký khai tử=1|Xóa đăng ký thường trú")."""
    from knowledge.lifeevents import LifeEventError, make_event
    from storage.repositories import LifeEventRepo

    try:
        event = make_event(key, name, triggers, procedures)
    except LifeEventError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None

    async def go(application: Any) -> None:
        async with application.sessions.begin() as session:
            await LifeEventRepo(session).add(key.strip(), name.strip(), triggers, procedures)

    asyncio.run(_with_app(go))
    typer.echo(
        f"added: {event.key} ({event.name}): {len(event.triggers)} phrases, "
        f"{len(event.procedures)} procedures"
    )


@kb_app.command("event-remove")
def kb_event_remove(key: str) -> None:
    """Remove an admin life event (a built-in one comes back)."""
    from storage.repositories import LifeEventRepo

    async def go(application: Any) -> bool:
        async with application.sessions.begin() as session:
            return await LifeEventRepo(session).remove(key.strip())

    if not asyncio.run(_with_app(go)):
        typer.echo(f"no admin life event {key!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"removed: {key}")


@kb_app.command("events")
def kb_events() -> None:
    """List the life events in use and the procedures of the stored KB each one leads to."""

    async def go(application: Any) -> list[tuple[str, str, list[str]]]:
        engine = application.knowledge.snapshot.engine
        return [(e.key, e.name, engine.event_procedures(e.key)) for e in engine.events]

    for key, name, codes in asyncio.run(_with_app(go, search=True)):
        typer.echo(f"{key}\t{name}\t{' '.join(codes) or '(no procedure of this KB)'}")


@kb_app.command("examples")
def kb_examples(
    code: Annotated[str | None, typer.Argument(help="one procedure code or OOS:category")] = None,
    kb: Annotated[
        Path | None, typer.Option("--kb", help="a KB file instead of the stored KB")
    ] = None,
    extra: Annotated[
        Path | None, typer.Option("--file", help="extra phrases (default SEARCH_EXAMPLES_PATH)")
    ] = None,
) -> None:
    """List the example phrases in use (bundled knowledge/data/examples.tsv plus the admins'
    file), per procedure of the KB; report lines skipped and codes the KB lacks, and the
    procedures without any phrase."""
    from bot.domain.knowledge import build_examples
    from knowledge.examples import DEFAULT_EXAMPLES_PATH, parse_example_lines

    path = extra if extra is not None else Settings.load().search.examples_path
    problems: list[str] = []
    for source in (DEFAULT_EXAMPLES_PATH, path):
        if source is not None and Path(source).exists():
            lines = Path(source).read_text("utf-8").splitlines()
            problems += parse_example_lines(lines, Path(source).name)[1]
    examples = build_examples(path)
    if kb is not None:
        from knowledge.sample import load_procedures_json

        codes = {r.code: r.name for r in load_procedures_json(kb)}
    else:

        async def go(application: Any) -> dict[str, str]:
            return {r.code: r.name for r in application.knowledge.snapshot.engine.records}

        codes = asyncio.run(_with_app(go, search=True))
    by_code = examples.by_code()
    oos = {f"OOS:{k}": v for k, v in examples.out_of_scope().items()}
    if code is not None:
        phrases = by_code.get(code) or oos.get(code) or []
        typer.echo(f"{code}\t{codes.get(code, '(not in this KB)')}")
        for phrase in phrases:
            typer.echo(f"  {phrase}")
        return
    for c, name in codes.items():
        typer.echo(f"{c}\t{len(by_code.get(c, []))}\t{name}")
    for c, phrases in oos.items():
        typer.echo(f"{c}\t{len(phrases)}")
    unknown = sorted(c for c in by_code if c not in codes)
    bare = [c for c in codes if c not in by_code]
    typer.echo(
        f"{len(examples)} phrases; {len(bare)} procedure(s) without any; "
        f"{len(unknown)} code(s) not in this KB{': ' + ' '.join(unknown[:20]) if unknown else ''}",
        err=True,
    )
    for problem in problems:
        typer.echo(f"skipped {problem}", err=True)


@kb_app.command("examples-add")
def kb_examples_add(
    code: str,
    phrases: Annotated[list[str], typer.Argument(help="one or more phrases")],
    extra: Annotated[
        Path | None, typer.Option("--file", help="the admins' file (default SEARCH_EXAMPLES_PATH)")
    ] = None,
) -> None:
    """Append example phrases for CODE (a procedure code or OOS:status|complaint|legal|other)
    to the admins' file; the bot reads it when it rebuilds its index (within a minute)."""
    from knowledge.examples import parse_example_lines

    path = extra if extra is not None else Settings.load().search.examples_path
    if path is None:
        typer.echo("set SEARCH_EXAMPLES_PATH (or give --file) for the admins' phrases", err=True)
        raise typer.Exit(2)
    lines = [f"{code.strip()}\t{' '.join(p.split())}" for p in phrases]
    good, problems = parse_example_lines(lines, "arguments")
    if problems:
        for problem in problems:
            typer.echo(problem, err=True)
        raise typer.Exit(2)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.writelines(f"{e.code}\t{e.phrase}\n" for e in good)
    typer.echo(f"added {len(good)} phrase(s) for {code} to {path}")


@kb_app.command("lexicon-add")
def kb_lexicon_add(phrase: str, expansion: str) -> None:
    """Teach the search a colloquial phrase: PHRASE means EXPANSION (official words)."""
    from storage.repositories import LexiconRepo

    async def go(application: Any) -> None:
        async with application.sessions.begin() as session:
            await LexiconRepo(session).add(phrase.strip(), expansion.strip())

    asyncio.run(_with_app(go))
    typer.echo(f"added: {phrase} → {expansion}")


@kb_app.command("versions")
def kb_versions() -> None:
    """List the applied imports (newest first): number, date, kind, file."""
    from storage.repositories import KbVersionRepo

    async def go(application: Any) -> Any:
        async with application.sessions() as session:
            return [
                (v.id, v.at, v.kind, v.filename, v.replace, dict(v.counts or {}))
                for v in await KbVersionRepo(session).recent(100)
            ]

    tz = Settings.load().bot.tz
    for number, at, kind, filename, replace, counts in asyncio.run(_with_app(go)):
        flag = " (replace)" if replace else ""
        typer.echo(f"{number}\t{at.astimezone(tz):%d/%m/%Y %H:%M}\t{kind}{flag}\t{filename}\t"
                   + " ".join(f"{k}={v}" for k, v in counts.items()))  # fmt: skip


@kb_app.command("rollback")
def kb_rollback(number: int) -> None:
    """Bring the knowledge base back to version NUMBER (itself recorded as a new version)."""
    from bot.domain.knowledge import rollback

    async def go(application: Any) -> Any:
        async with application.sessions.begin() as session:
            return await rollback(session, number, now=application.clock.now(), admin_id=None)

    result = asyncio.run(_with_app(go))
    if not result.found:
        typer.echo(f"no version {number}", err=True)
        raise typer.Exit(1)
    typer.echo(f"version {result.version}: back to {number}; restored {result.restored}, "
               f"retired {len(result.retired)}")  # fmt: skip


@kb_app.command("export")
def kb_export(out: Annotated[Path, typer.Argument()] = Path("kb.xlsx")) -> None:
    """Write the current knowledge base as XLSX with the columns of the last import."""
    from bot.domain.knowledge import export_kb

    async def go(application: Any) -> bytes:
        async with application.sessions() as session:
            return await export_kb(session)

    out.write_bytes(asyncio.run(_with_app(go)))
    typer.echo(str(out))


@lexicon_app.command("add")
def lexicon_add(phrase: str, expansion: str) -> None:
    """Teach the search a colloquial phrase: PHRASE means EXPANSION (official words)."""
    kb_lexicon_add(phrase, expansion)


@lexicon_app.command("list")
def lexicon_list() -> None:
    """The admins' lexicon entries: id, phrase, meaning."""
    from storage.repositories import LexiconRepo

    async def go(application: Any) -> Any:
        async with application.sessions() as session:
            return [(e.id, e.phrase, e.expansion) for e in await LexiconRepo(session).entries()]

    for entry_id, phrase, expansion in asyncio.run(_with_app(go)):
        typer.echo(f"{entry_id}\t{phrase}\t{expansion}")


@lexicon_app.command("remove")
def lexicon_remove(entry_id: int) -> None:
    """Remove one admin lexicon entry by id (see lexicon-list)."""
    from storage.repositories import LexiconRepo

    async def go(application: Any) -> Any:
        async with application.sessions.begin() as session:
            return await LexiconRepo(session).remove(entry_id)

    if asyncio.run(_with_app(go)) is None:
        typer.echo(f"no lexicon entry {entry_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"removed {entry_id}")


# ---- calendar ----------------------------------------------------------------------------
@calendar_app.command("due")
def calendar_due(
    received_at: str,
    days: Annotated[int | None, typer.Option()] = None,
    unit: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Print the due moment (ISO 8601 with offset) for a case received at RECEIVED_AT."""
    from bot.domain.reply_clock import DayUnit, HolidayOverride, WorkCalendar, compute_due

    settings = Settings.load()
    tz = settings.bot.tz
    received = datetime.fromisoformat(received_at)
    if received.tzinfo is None:
        received = received.replace(tzinfo=tz)  # a bare time is local time

    async def go(application: Any) -> list[HolidayOverride]:
        from storage.repositories import HolidayRepo

        async with application.sessions() as session:
            rows = await HolidayRepo(session).all()
            return [HolidayOverride(o.day, o.kind, o.name) for o in rows]  # type: ignore[arg-type]

    overrides = asyncio.run(_with_app(go, seed=False))
    due = compute_due(
        received,
        days or settings.cases.reply_days,
        DayUnit(unit or settings.cases.reply_unit),
        WorkCalendar(overrides),
        tz,
    )
    typer.echo(due.isoformat())


@calendar_app.command("days-off")
def calendar_days_off(year: int) -> None:
    """List the year's days off (public holidays and admin overrides) with names."""
    from bot.domain.reply_clock import HolidayOverride, WorkCalendar

    async def go(application: Any) -> list[HolidayOverride]:
        from storage.repositories import HolidayRepo

        async with application.sessions() as session:
            rows = await HolidayRepo(session).all()
            return [HolidayOverride(o.day, o.kind, o.name) for o in rows]  # type: ignore[arg-type]

    calendar = WorkCalendar(asyncio.run(_with_app(go, seed=False)))
    for day, name in calendar.days_off(year):
        typer.echo(f"{day.isoformat()}\t{day.strftime('%a')}\t{name}")
    for day, name in calendar.make_up_days(year):
        typer.echo(f"{day.isoformat()}\t{day.strftime('%a')}\t(làm bù / working) {name}")


@calendar_app.command("set")
def calendar_set(day: str, kind: str, name: Annotated[str, typer.Argument()] = "") -> None:
    """Override one day: KIND is "off" (extra day off) or "work" (make-up working day)."""
    from storage.repositories import HolidayRepo

    if kind not in ("off", "work"):
        typer.echo('KIND must be "off" or "work"', err=True)
        raise typer.Exit(2)

    async def go(application: Any) -> None:
        async with application.sessions.begin() as session:
            await HolidayRepo(session).set(date.fromisoformat(day), kind, name)

    asyncio.run(_with_app(go, seed=False))
    typer.echo(f"{day}: {kind} {name}")


@calendar_app.command("unset")
def calendar_unset(day: str) -> None:
    """Remove the override of one day."""
    from storage.repositories import HolidayRepo

    async def go(application: Any) -> bool:
        async with application.sessions.begin() as session:
            return await HolidayRepo(session).remove(date.fromisoformat(day))

    typer.echo("removed" if asyncio.run(_with_app(go, seed=False)) else "no override on that day")


# ---- routing rules -----------------------------------------------------------------------
@rules_app.command("add")
def rules_add(
    agency: str,
    field: Annotated[str | None, typer.Option()] = None,
    keyword: Annotated[str | None, typer.Option()] = None,
    priority: int = 100,
) -> None:
    """Route cases whose procedure field or text matches to AGENCY."""
    from storage.repositories import AgencyRepo, RoutingRuleRepo

    if not (field or keyword):
        typer.echo("give --field or --keyword", err=True)
        raise typer.Exit(2)

    async def go(application: Any) -> int:
        async with application.sessions.begin() as session:
            if await AgencyRepo(session).get(agency) is None:
                return -1
            rule = await RoutingRuleRepo(session).add(
                agency, field=field, keyword=keyword, priority=priority
            )
            return rule.id

    rule_id = asyncio.run(_with_app(go))
    if rule_id < 0:
        typer.echo(f"unknown agency {agency}", err=True)
        raise typer.Exit(1)
    typer.echo(f"rule {rule_id}: field={field} keyword={keyword} → {agency}")


# ---- reports ---------------------------------------------------------------------------
@app.command("report")
def report(
    kind: Annotated[str, typer.Argument(help="weekly | monthly | quarterly | cases")],
    first: Annotated[str | None, typer.Option("--from", help="first day, dd/mm/yyyy")] = None,
    last: Annotated[str | None, typer.Option("--to", help="last day, dd/mm/yyyy")] = None,
    fmt: Annotated[str, typer.Option("--format", help="xlsx | csv")] = "xlsx",
    out: Annotated[Path | None, typer.Option(help="file to write (default: its own name)")] = None,
) -> None:
    """Export a report: figures per agency (weekly, quarterly), the late list by agency and
    official (monthly), or the case list (cases, needs --from and --to)."""
    from bot.domain.reports import parse_day
    from bot.telegram.exports import FORMATS, KINDS, Exporter, resolve_period

    if kind not in (*KINDS, "cases") or fmt not in FORMATS:
        typer.echo("KIND: weekly | monthly | quarterly | cases; --format: xlsx | csv", err=True)
        raise typer.Exit(2)
    try:
        start = parse_day(first) if first else None
        end = parse_day(last) if last else None
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    if (start is None) != (end is None) or (kind == "cases" and start is None):
        typer.echo("give both --from and --to", err=True)
        raise typer.Exit(2)
    settings = Settings.load()
    tz, loc = settings.bot.tz, settings.bot.locale

    async def go(application: Any) -> tuple[str, bytes]:
        exporter = Exporter(application.renderer, tz)
        async with application.sessions() as session:
            if kind == "cases":
                assert start is not None and end is not None
                return await exporter.cases(session, start, end, fmt, loc)
            today = application.clock.now().astimezone(tz).date()
            period = resolve_period(kind, today, tz, start, end)
            return await exporter.report(session, period, fmt, loc)

    try:
        name, data = asyncio.run(_with_app(go))
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    target = out or Path(name)
    target.write_bytes(data)
    typer.echo(str(target))


@rules_app.command("list")
def rules_list() -> None:
    """Routing rules in the order they are tried: id, priority, field, keyword, agency."""
    from storage.repositories import RoutingRuleRepo

    async def go(application: Any) -> Any:
        async with application.sessions() as session:
            return [
                (r.id, r.priority, r.field, r.keyword, r.agency)
                for r in await RoutingRuleRepo(session).all()
            ]

    for rule_id, priority, field, keyword, agency in asyncio.run(_with_app(go)):
        typer.echo(f"{rule_id}\t{priority}\tfield={field or '-'}\tkeyword={keyword or '-'}"
                   f"\t→ {agency}")  # fmt: skip


@rules_app.command("remove")
def rules_remove(rule_id: int) -> None:
    """Remove one routing rule by id (see rules list)."""
    from storage.repositories import RoutingRuleRepo

    async def go(application: Any) -> Any:
        async with application.sessions.begin() as session:
            return await RoutingRuleRepo(session).remove(rule_id)

    if asyncio.run(_with_app(go)) is None:
        typer.echo(f"no rule {rule_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"removed rule {rule_id}")


def main() -> None:
    """The process's entry point (`citizen-bot`, `python -m bot`): the command, then `_exit`."""
    try:
        app()
    except SystemExit as done:  # how typer ends every command, failed ones too
        _exit(done.code)
    # anything else (a crash) propagates, and the interpreter exits as usual


def _exit(code: object) -> NoReturn:
    """End the process with the command's status, without Python's own teardown.

    After the exit handlers, Python's finalization frees every object the command left, one by
    one (the modules of SQLAlchemy, pydantic and numpy, the search index...): ~150 ms of a
    `kb search` or a cron `tick` that starts in under a second. Nothing of it can be observed
    once the output is out, so the process ends here instead: the exit handlers still run
    (logging's flush among them), then the standard streams are flushed. A thread that is not
    a daemon and still runs would be waited for by a normal exit: then the normal exit it is.
    """
    import atexit
    import os
    import threading

    # As Python reads a SystemExit: None is 0, an int the status, anything else ("message")
    # goes to stderr with status 1.
    if code is None or isinstance(code, int):
        status = int(code or 0)
    else:
        print(code, file=sys.stderr)
        status = 1
    main_thread = threading.main_thread()
    if any(t is not main_thread and not t.daemon and t.is_alive() for t in threading.enumerate()):
        raise SystemExit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe (`| head`) has nothing to flush
            stream.flush()
    os._exit(status)
