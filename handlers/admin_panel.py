"""The admins' panel in a private chat: knowledge-base uploads (a dry run first, then Áp dụng /
Hủy), versions and rollback, exports and reports, routing rules, the lexicon, holidays, the
agency directory, admins and today's figures. Every reply is in the admin's own language.

Admins are ADMIN_IDS plus the admins they add (`/admins add`); `UpdateContextMiddleware` puts
the current set into `admin_ids` for every update."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message, User
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.domain.admin import agency_overview, today_figures
from bot.domain.knowledge import (
    ImportReport,
    KnowledgeService,
    export_kb,
    import_file,
    rollback,
)
from bot.domain.reply_clock import HolidayOverride, WorkCalendar
from bot.domain.reports import parse_day, percent
from bot.settings import Settings
from bot.telegram.admin_keyboards import AdminKeyboards
from bot.telegram.callbacks import (
    AdminCB,
    HolidayCB,
    ImportCB,
    KbVersionCB,
    LexiconCB,
    ReportCB,
    RuleCB,
)
from bot.telegram.exports import MIME, Exporter, default_period
from bot.telegram.rendering import Renderer, split_html
from knowledge.importers import ImportFormatError, guess_kind, read_table
from storage.repositories import (
    AdminRepo,
    AgencyRepo,
    HolidayRepo,
    KbVersionRepo,
    LexiconRepo,
    ProcedureRepo,
    RoutingRuleRepo,
)

PENDING = "pending_import"  # FSM data key: the uploaded file waiting for Áp dụng / Hủy
PENDING_RULE = "pending_rule"  # FSM data key: a rule waiting for its agency


async def is_admin(event: Message | CallbackQuery, admin_ids: frozenset[int]) -> bool:
    """Router filter: the sender is an admin (settings or stored)."""
    user: User | None = event.from_user
    return user is not None and user.id in admin_ids


async def _say(message: Message, text: str, markup: Any = None) -> None:
    """Answer with text split under Telegram's limit, the buttons under the last part."""
    parts = split_html(text)
    for i, part in enumerate(parts):
        await message.answer(part, reply_markup=markup if i == len(parts) - 1 else None)


def _msg(callback: CallbackQuery) -> Message:
    assert isinstance(callback.message, Message)
    return callback.message


# ---- uploads ---------------------------------------------------------------------------
async def _download(bot: Bot, file_id: str) -> bytes:
    buffer = await bot.download(file_id)
    return buffer.read() if buffer else b""


def _kind_of(caption: str, data: bytes, filename: str, max_bytes: int) -> str:
    caption = caption.lower()
    if "agenc" in caption or "co quan" in caption or "cơ quan" in caption:
        return "agencies"
    if "thủ tục" in caption or "thu tuc" in caption or "procedure" in caption:
        return "procedures"
    try:
        return guess_kind(read_table(data, filename, max_bytes=max_bytes)) or "procedures"
    except ImportFormatError:
        return "procedures"  # import_file reports the format error


async def upload(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    clock: Clock,
    renderer: Renderer,
    settings: Settings,
    state: FSMContext,
    locale: str,
) -> None:
    """A file from an admin: checked as a dry run, nothing changes until Áp dụng."""
    assert message.document is not None
    limit = settings.search.import_max_mb * 1024 * 1024
    if (message.document.file_size or 0) > limit:
        await message.answer(
            renderer.t("import.too_large", locale, max=settings.search.import_max_mb)
        )
        return
    name = message.document.file_name or "upload"
    data = await _download(bot, message.document.file_id)
    kind = _kind_of(message.caption or "", data, name, limit)
    report = await import_file(
        session, data, name, kind=kind, dry_run=True, now=clock.now(), max_bytes=limit
    )
    await state.update_data(
        {PENDING: {"file_id": message.document.file_id, "name": name, "kind": kind}}
    )
    retire = len(report.diff.removed) if report.ok and report.diff and kind == "procedures" else 0
    markup = AdminKeyboards(renderer).dry_run(locale, can_apply=report.ok, retire=retire)
    await _say(message, renderer.render("import_report.html", locale, r=report), markup)


async def _pending(state: FSMContext) -> dict[str, Any] | None:
    data = await state.get_data()
    pending = data.get(PENDING)
    return pending if isinstance(pending, dict) else None


async def _apply(
    bot: Bot,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    pending: dict[str, Any],
    *,
    dry_run: bool,
    replace: bool,
    admin_id: int | None,
) -> ImportReport:
    data = await _download(bot, pending["file_id"])
    return await import_file(
        session,
        data,
        pending["name"],
        kind=pending["kind"],
        dry_run=dry_run,
        now=clock.now(),
        max_bytes=settings.search.import_max_mb * 1024 * 1024,
        replace=replace,
        admin_id=admin_id,
    )


async def import_button(
    callback: CallbackQuery,
    callback_data: ImportCB,
    bot: Bot,
    session: AsyncSession,
    clock: Clock,
    renderer: Renderer,
    settings: Settings,
    state: FSMContext,
    knowledge: KnowledgeService,
    locale: str,
) -> None:
    message = _msg(callback)
    pending = await _pending(state)
    await callback.answer()
    await message.edit_reply_markup(reply_markup=None)
    if callback_data.action == "cancel" or pending is None:
        await state.update_data({PENDING: None})
        key = "adm.import_cancelled" if pending else "adm.import_expired"
        await message.answer(renderer.t(key, locale))
        return
    admin = callback.from_user.id
    if callback_data.action == "replace":
        check = await _apply(
            bot, session, clock, settings, pending, dry_run=True, replace=True, admin_id=admin
        )
        n = len(check.retire)
        text = renderer.render("import_replace.html", locale, r=check, n=n)
        await _say(message, text, AdminKeyboards(renderer).confirm_replace(locale, n))
        return
    replace = callback_data.action == "confirm"
    if replace:
        # The confirmation named a number: if the KB changed since, ask again with the new one.
        check = await _apply(
            bot, session, clock, settings, pending, dry_run=True, replace=True, admin_id=admin
        )
        if len(check.retire) != callback_data.n:
            n = len(check.retire)
            text = renderer.render("import_replace.html", locale, r=check, n=n)
            await _say(message, text, AdminKeyboards(renderer).confirm_replace(locale, n))
            return
    report = await _apply(
        bot, session, clock, settings, pending, dry_run=False, replace=replace, admin_id=admin
    )
    await state.update_data({PENDING: None})
    await _say(message, renderer.render("import_report.html", locale, r=report))
    if report.applied:
        knowledge.invalidate()  # the next question rebuilds the index from the committed rows


# ---- /kb versions | rollback N | export -------------------------------------------------
async def kb(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    renderer: Renderer,
    settings: Settings,
    locale: str,
) -> None:
    args = (command.args or "versions").split()
    keyboards = AdminKeyboards(renderer)
    if args[0] == "export":
        data = await export_kb(session)
        await message.answer_document(
            BufferedInputFile(data, filename="kb.xlsx"), caption=renderer.t("adm.kb_export", locale)
        )
        return
    if args[0] == "rollback" and len(args) == 2 and args[1].isdigit():
        number = int(args[1])
        if await KbVersionRepo(session).get(number) is None:
            await message.answer(renderer.t("adm.no_version", locale, n=number))
            return
        await message.answer(
            renderer.t("adm.rollback_ask", locale, n=number),
            reply_markup=keyboards.confirm_rollback(locale, number),
        )
        return
    if args[0] != "versions":
        await message.answer(renderer.t("adm.kb_usage", locale))
        return
    versions = list(await KbVersionRepo(session).recent(10))
    text = renderer.render("kb_versions.html", locale, versions=versions, tz=settings.bot.tz)
    older = [v.id for v in versions[1:]]
    await _say(message, text, keyboards.versions(locale, older) if older else None)


async def kb_version_button(
    callback: CallbackQuery,
    callback_data: KbVersionCB,
    session: AsyncSession,
    clock: Clock,
    renderer: Renderer,
    knowledge: KnowledgeService,
    locale: str,
) -> None:
    message = _msg(callback)
    await callback.answer()
    number = callback_data.number
    if callback_data.action == "ask":
        await message.answer(
            renderer.t("adm.rollback_ask", locale, n=number),
            reply_markup=AdminKeyboards(renderer).confirm_rollback(locale, number),
        )
        return
    await message.edit_reply_markup(reply_markup=None)
    result = await rollback(session, number, now=clock.now(), admin_id=callback.from_user.id)
    if not result.found:
        await message.answer(renderer.t("adm.no_version", locale, n=number))
        return
    knowledge.invalidate()
    await message.answer(
        renderer.t(
            "adm.rolled_back",
            locale,
            n=number,
            version=result.version,
            restored=result.restored,
            retired=len(result.retired),
        )
    )


# ---- reports and exports ----------------------------------------------------------------
async def reports_menu(message: Message, renderer: Renderer, locale: str) -> None:
    await message.answer(
        renderer.t("adm.reports_menu", locale),
        reply_markup=AdminKeyboards(renderer).reports(locale),
    )


async def report_button(
    callback: CallbackQuery,
    callback_data: ReportCB,
    session: AsyncSession,
    clock: Clock,
    renderer: Renderer,
    settings: Settings,
    locale: str,
) -> None:
    await callback.answer()
    tz = settings.bot.tz
    if (
        callback_data.kind not in ("weekly", "monthly", "quarterly")
        or callback_data.fmt not in MIME
    ):
        return
    period = default_period(callback_data.kind, clock.now().astimezone(tz).date(), tz)
    name, data = await Exporter(renderer, tz).report(session, period, callback_data.fmt, locale)
    caption = renderer.t("adm.report_caption", locale, start=period.start, end=period.last_moment)
    await _msg(callback).answer_document(BufferedInputFile(data, filename=name), caption=caption)


async def export_cases(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    renderer: Renderer,
    settings: Settings,
    locale: str,
) -> None:
    """/export cases FROM TO (dd/mm/yyyy), optionally csv."""
    args = (command.args or "").split()
    fmt = "csv" if args and args[-1].lower() == "csv" else "xlsx"
    args = [a for a in args if a.lower() not in ("csv", "xlsx")]
    try:
        if len(args) != 3 or args[0].lower() != "cases":
            raise ValueError
        first, last = parse_day(args[1]), parse_day(args[2])
        if last < first:
            raise ValueError
    except ValueError:
        await message.answer(renderer.t("adm.export_usage", locale))
        return
    name, data = await Exporter(renderer, settings.bot.tz).cases(session, first, last, fmt, locale)
    await message.answer_document(
        BufferedInputFile(data, filename=name),
        caption=renderer.t("adm.export_caption", locale, start=first, end=last),
    )


# ---- /rules ------------------------------------------------------------------------------
async def _rules_text(session: AsyncSession, renderer: Renderer, locale: str) -> tuple[str, Any]:
    rules = list(await RoutingRuleRepo(session).all())
    names = {a.code: a.name for a in await AgencyRepo(session).all()}
    text = renderer.render("admin_rules.html", locale, rules=rules, names=names)
    markup = AdminKeyboards(renderer).rules(locale, [r.id for r in rules]) if rules else None
    return text, markup


async def rules(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    renderer: Renderer,
    state: FSMContext,
    locale: str,
) -> None:
    """/rules — the list with remove buttons; /rules add KEYWORD or /rules field FIELD — then
    the agency is chosen with a button."""
    args = (command.args or "").strip()
    verb, _, rest = args.partition(" ")
    rest = rest.strip()
    if verb in ("add", "field") and rest:
        await state.update_data({PENDING_RULE: {"field" if verb == "field" else "keyword": rest}})
        agencies = [(a.code, a.name) for a in await AgencyRepo(session).all()]
        agencies.sort(key=lambda a: a[1])
        await message.answer(
            renderer.t("adm.rule_pick_agency", locale, what=rest),
            reply_markup=AdminKeyboards(renderer).agencies(agencies),
        )
        return
    if args:
        await message.answer(renderer.t("adm.rules_usage", locale))
        return
    text, markup = await _rules_text(session, renderer, locale)
    await _say(message, text, markup)


async def rule_button(
    callback: CallbackQuery,
    callback_data: RuleCB,
    session: AsyncSession,
    renderer: Renderer,
    state: FSMContext,
    locale: str,
) -> None:
    await callback.answer()
    message = _msg(callback)
    repo = RoutingRuleRepo(session)
    if callback_data.action == "remove":
        removed = await repo.remove(callback_data.rule_id)
        key = "adm.rule_removed" if removed else "adm.rule_gone"
        await message.answer(renderer.t(key, locale, id=callback_data.rule_id))
        return
    pending = (await state.get_data()).get(PENDING_RULE)
    agency = await AgencyRepo(session).get(callback_data.agency)
    if not isinstance(pending, dict) or agency is None:
        await message.answer(renderer.t("adm.import_expired", locale))
        return
    await message.edit_reply_markup(reply_markup=None)
    rule = await repo.add(agency.code, field=pending.get("field"), keyword=pending.get("keyword"))
    await state.update_data({PENDING_RULE: None})
    what = pending.get("keyword") or pending.get("field") or ""
    await message.answer(
        renderer.t("adm.rule_added", locale, id=rule.id, what=what, agency=agency.name)
    )


# ---- /lexicon ---------------------------------------------------------------------------
async def lexicon(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    renderer: Renderer,
    knowledge: KnowledgeService,
    locale: str,
) -> None:
    """/lexicon — the admins' phrases with remove buttons; /lexicon add PHRASE = MEANING."""
    args = (command.args or "").strip()
    repo = LexiconRepo(session)
    if args.startswith("add "):
        body = args[4:]
        sep = "=" if "=" in body else "→" if "→" in body else None
        phrase, _, expansion = body.partition(sep) if sep else (body, "", "")
        if not (phrase.strip() and expansion.strip()):
            await message.answer(renderer.t("adm.lexicon_usage", locale))
            return
        await repo.add(phrase.strip(), expansion.strip())
        knowledge.invalidate()
        await message.answer(
            renderer.t(
                "adm.lexicon_added", locale, phrase=phrase.strip(), expansion=expansion.strip()
            )
        )
        return
    if args:
        await message.answer(renderer.t("adm.lexicon_usage", locale))
        return
    entries = list(await repo.entries())
    text = renderer.render("admin_lexicon.html", locale, entries=entries)
    markup = (
        AdminKeyboards(renderer).lexicon([(e.id, e.phrase) for e in entries]) if entries else None
    )
    await _say(message, text, markup)


async def lexicon_button(
    callback: CallbackQuery,
    callback_data: LexiconCB,
    session: AsyncSession,
    renderer: Renderer,
    knowledge: KnowledgeService,
    locale: str,
) -> None:
    await callback.answer()
    removed = await LexiconRepo(session).remove(callback_data.entry_id)
    if removed is not None:
        knowledge.invalidate()
        await _msg(callback).answer(
            renderer.t("adm.lexicon_removed", locale, phrase=removed.phrase)
        )
    else:
        await _msg(callback).answer(renderer.t("adm.rule_gone", locale, id=callback_data.entry_id))


# ---- /holidays --------------------------------------------------------------------------
async def holidays(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    renderer: Renderer,
    settings: Settings,
    locale: str,
) -> None:
    """/holidays [YEAR] — days off and make-up working days, overrides with remove buttons;
    /holidays off DD/MM/YYYY NAME (an extra day off), /holidays work DD/MM/YYYY NAME (a
    make-up working day)."""
    args = (command.args or "").split(maxsplit=2)
    repo = HolidayRepo(session)
    year = clock.now().astimezone(settings.bot.tz).year
    if args and args[0] in ("off", "work"):
        try:
            day = parse_day(args[1]) if len(args) > 1 else None
        except ValueError:
            day = None
        if day is None:
            await message.answer(renderer.t("adm.holidays_usage", locale))
            return
        await repo.set(day, args[0], args[2] if len(args) > 2 else "")
        await message.answer(renderer.t(f"adm.holiday_{args[0]}", locale, day=day))
        return
    if args and args[0].isdigit() and len(args[0]) == 4:
        year = int(args[0])
    elif args:
        await message.answer(renderer.t("adm.holidays_usage", locale))
        return
    rows = list(await repo.all())
    overrides = [HolidayOverride(o.day, o.kind, o.name) for o in rows]  # type: ignore[arg-type]
    calendar = WorkCalendar(overrides)
    mine = [o.day for o in rows if o.day.year == year]
    text = renderer.render(
        "admin_holidays.html",
        locale,
        year=year,
        off=calendar.days_off(year),
        work=calendar.make_up_days(year),
        mine=set(mine),
    )
    await _say(message, text, AdminKeyboards(renderer).holidays(mine) if mine else None)


async def holiday_button(
    callback: CallbackQuery,
    callback_data: HolidayCB,
    session: AsyncSession,
    renderer: Renderer,
    locale: str,
) -> None:
    await callback.answer()
    day = date.fromisoformat(callback_data.day)
    removed = await HolidayRepo(session).remove(day)
    key = "adm.holiday_removed" if removed else "adm.holiday_gone"
    await _msg(callback).answer(renderer.t(key, locale, day=day))


# ---- /agencies, /stats -------------------------------------------------------------------
async def agencies(
    message: Message,
    session: AsyncSession,
    clock: Clock,
    renderer: Renderer,
    settings: Settings,
    locale: str,
) -> None:
    lines = await agency_overview(session, clock.now(), settings.cases.reply_days)
    await _say(message, renderer.render("admin_agencies.html", locale, lines=lines))


async def stats(
    message: Message,
    session: AsyncSession,
    clock: Clock,
    renderer: Renderer,
    settings: Settings,
    locale: str,
) -> None:
    now = clock.now()
    figures = await today_figures(session, now, settings.bot.tz)
    version = await KbVersionRepo(session).latest()
    text = renderer.render(
        "admin_stats.html",
        locale,
        f=figures,
        now=now,
        pct=lambda r: percent(r, locale),
        procedures=len(await ProcedureRepo(session).all_records()),
        version=version.id if version else None,
    )
    await message.answer(text)


# ---- /admins -----------------------------------------------------------------------------
async def admins(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    renderer: Renderer,
    settings: Settings,
    locale: str,
) -> None:
    """/admins — the list (stored admins with remove buttons); /admins add ID [name]."""
    args = (command.args or "").split(maxsplit=2)
    repo = AdminRepo(session)
    if args and args[0] == "add":
        if len(args) < 2 or not args[1].lstrip("-").isdigit() or int(args[1]) <= 0:
            await message.answer(renderer.t("adm.admins_usage", locale))
            return
        user_id, name = int(args[1]), args[2] if len(args) > 2 else ""
        assert message.from_user is not None
        added = await repo.add(user_id, name, message.from_user.id, clock.now())
        configured = user_id in settings.bot.admin_ids
        key = "adm.admin_added" if added and not configured else "adm.admin_exists"
        await message.answer(renderer.t(key, locale, id=user_id, name=name or user_id))
        return
    if args:
        await message.answer(renderer.t("adm.admins_usage", locale))
        return
    stored = list(await repo.all())
    text = renderer.render(
        "admin_admins.html", locale, configured=settings.bot.admin_ids, stored=stored
    )
    people = [
        (a.telegram_id, a.name) for a in stored if a.telegram_id not in settings.bot.admin_ids
    ]
    await _say(message, text, AdminKeyboards(renderer).admins(people) if people else None)


async def admin_button(
    callback: CallbackQuery,
    callback_data: AdminCB,
    session: AsyncSession,
    renderer: Renderer,
    settings: Settings,
    locale: str,
) -> None:
    await callback.answer()
    user_id = callback_data.user_id
    if user_id in settings.bot.admin_ids:
        # ADMIN_IDS come from the server's settings: only whoever runs the server changes them.
        await _msg(callback).answer(renderer.t("adm.admin_configured", locale, id=user_id))
        return
    removed = await AdminRepo(session).remove(user_id)
    key = "adm.admin_removed" if removed else "adm.rule_gone"
    await _msg(callback).answer(renderer.t(key, locale, id=user_id))


# ---- everyone else -----------------------------------------------------------------------
async def not_admin(message: Message, renderer: Renderer, locale: str) -> None:
    await message.answer(renderer.t("admin.only_admins", locale))


async def not_admin_document(message: Message, renderer: Renderer, locale: str) -> None:
    # A citizen's stray file is not an import: ask for a typed question, as before.
    await message.answer(renderer.t("common.type_question", locale))


COMMANDS = ("kb", "baocao", "export", "rules", "lexicon", "holidays", "agencies", "admins", "stats")


def create_router() -> Router:
    """A fresh router with the panel's handlers; admins only (others are told so)."""
    router = Router(name=__name__)
    admin = Router(name=__name__ + ".admins")
    admin.message.filter(is_admin)
    admin.callback_query.filter(is_admin)
    admin.message.register(upload, StateFilter(None), F.document)
    admin.message.register(kb, Command("kb"))
    admin.message.register(reports_menu, Command("baocao", "reports"))
    admin.message.register(export_cases, Command("export"))
    admin.message.register(rules, Command("rules"))
    admin.message.register(lexicon, Command("lexicon"))
    admin.message.register(holidays, Command("holidays"))
    admin.message.register(agencies, Command("agencies"))
    admin.message.register(admins, Command("admins"))
    admin.message.register(stats, Command("stats"))
    admin.callback_query.register(import_button, ImportCB.filter())
    admin.callback_query.register(kb_version_button, KbVersionCB.filter())
    admin.callback_query.register(report_button, ReportCB.filter())
    admin.callback_query.register(rule_button, RuleCB.filter())
    admin.callback_query.register(lexicon_button, LexiconCB.filter())
    admin.callback_query.register(holiday_button, HolidayCB.filter())
    admin.callback_query.register(admin_button, AdminCB.filter())
    # A router tries its own handlers before its children's: everyone else's go in a sibling
    # included after the admins' one.
    others = Router(name=__name__ + ".others")
    others.message.register(not_admin, Command(*COMMANDS))
    others.message.register(not_admin_document, StateFilter(None), F.document)
    router.include_routers(admin, others)
    return router
