"""Admins: bind groups to agencies, set answer approval and approvers, follow group
migrations (uploads and the rest of the panel: handlers/admin_panel.py)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import ChatMemberUpdated, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.settings import Settings
from bot.telegram.notifier import Notifier
from bot.telegram.rendering import Renderer
from storage.models import Agency
from storage.repositories import AgencyRepo, ApproverRepo


async def _is_admin(
    message: Message, admin_ids: frozenset[int], renderer: Renderer, loc: str
) -> bool:
    """Binding is an admin's act (ADMIN_IDS); anyone else is told so."""
    if message.from_user is not None and message.from_user.id in admin_ids:
        return True
    await message.reply(renderer.t("admin.only_admins", loc))
    return False


async def _admins_agency(
    message: Message,
    session: AsyncSession,
    admin_ids: frozenset[int],
    renderer: Renderer,
    loc: str,
) -> Agency | None:
    """The agency this group serves, when an admin asks (anyone else, or an unbound group,
    is told so)."""
    if not await _is_admin(message, admin_ids, renderer, loc):
        return None
    agency = await AgencyRepo(session).by_chat(message.chat.id)
    if agency is None:
        await message.reply(renderer.t("admin.not_bound", loc))
    return agency


async def bind(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    renderer: Renderer,
    settings: Settings,
    admin_ids: frozenset[int],
) -> None:
    loc = settings.bot.locale
    if not await _is_admin(message, admin_ids, renderer, loc):
        return
    code = (command.args or "").strip().upper()
    agency = (
        await AgencyRepo(session).bind_chat(code, message.chat.id, clock.now()) if code else None
    )
    if agency is None:
        await message.reply(renderer.t("admin.bind_unknown", loc, code=code or "…"))
        return
    await message.reply(renderer.t("admin.bound", loc, agency=agency.name, code=agency.code))


async def unbind(
    message: Message,
    session: AsyncSession,
    renderer: Renderer,
    settings: Settings,
    admin_ids: frozenset[int],
) -> None:
    loc = settings.bot.locale
    if not await _is_admin(message, admin_ids, renderer, loc):
        return
    agency = await AgencyRepo(session).unbind_chat(message.chat.id)
    key = "admin.unbound" if agency else "admin.not_bound"
    await message.reply(renderer.t(key, loc, agency=agency.name if agency else ""))


async def approval(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    renderer: Renderer,
    settings: Settings,
    admin_ids: frozenset[int],
) -> None:
    """/pheduyet on|off: whether the agency's answers wait for its lead (NĐ 20/2008/NĐ-CP)."""
    loc = settings.bot.locale
    agency = await _admins_agency(message, session, admin_ids, renderer, loc)
    if agency is None:
        return
    arg = (command.args or "").strip().lower()
    if arg not in ("on", "off", "bat", "bật", "tat", "tắt"):
        await message.reply(renderer.t("approval.usage", loc))
        return
    agency.approval = arg in ("on", "bat", "bật")
    key = "approval.on" if agency.approval else "approval.off"
    await message.reply(renderer.t(key, loc, agency=agency.name))


async def approvers(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    renderer: Renderer,
    settings: Settings,
    admin_ids: frozenset[int],
) -> None:
    """/lanhdao as a reply to the lead's message gives them the right to approve answers;
    /lanhdao xoa (as a reply) takes it away; /lanhdao alone lists the approvers."""
    loc = settings.bot.locale
    agency = await _admins_agency(message, session, admin_ids, renderer, loc)
    if agency is None:
        return
    repo = ApproverRepo(session)
    target = message.reply_to_message.from_user if message.reply_to_message else None
    if target is None or target.is_bot:
        names = ", ".join(a.name for a in await repo.of_agency(agency.code))
        state = renderer.plain(
            "approval.state_on" if agency.approval else "approval.state_off", loc
        )
        await message.reply(
            renderer.t(
                "approval.list",
                loc,
                agency=agency.name,
                state=state,
                names=names or renderer.plain("approval.nobody", loc),
            )
        )
        return
    if (command.args or "").strip().lower() in ("xoa", "xóa", "remove"):
        removed = await repo.remove(agency.code, target.id)
        key = "approval.approver_removed" if removed else "approval.approver_missing"
        await message.reply(renderer.t(key, loc, name=target.full_name))
        return
    await repo.add(agency.code, target.id, target.full_name, clock.now())
    await message.reply(
        renderer.t("approval.approver_added", loc, agency=agency.name, name=target.full_name)
    )


async def migrated(message: Message, session: AsyncSession) -> None:
    # A group that became a supergroup gets a new chat id (Bot API: migrate_to_chat_id):
    # keep its binding.
    assert message.migrate_to_chat_id is not None
    await AgencyRepo(session).migrate_chat(message.chat.id, message.migrate_to_chat_id)


async def membership_changed(
    event: ChatMemberUpdated, session: AsyncSession, notifier: Notifier
) -> None:
    """The bot was removed from (or added back to) a group: admins hear about it."""
    if event.chat.type not in ("group", "supergroup"):
        return
    agency = await AgencyRepo(session).by_chat(event.chat.id)
    if agency is None:
        return
    status = event.new_chat_member.status
    if status in ("left", "kicked"):
        await notifier.alert_admins(
            session, "admin.bot_removed", agency=agency.name, chat_id=event.chat.id
        )


def create_group_router() -> Router:
    """A fresh router with this module's handlers (a router has one parent, so every
    dispatcher gets its own)."""
    router = Router(name=__name__ + ".groups")
    router.message.register(bind, Command("bind"))
    router.message.register(unbind, Command("unbind"))
    router.message.register(approval, Command("pheduyet"))
    router.message.register(approvers, Command("lanhdao"))
    router.message.register(migrated, F.migrate_to_chat_id)
    return router


def create_membership_router() -> Router:
    """A fresh router with this module's handlers (a router has one parent, so every
    dispatcher gets its own)."""
    router = Router(name=__name__ + ".membership")
    router.my_chat_member.register(membership_changed)
    return router
