"""Composes the routers; router-level filters separate private chats from agency groups.

Every feature module exposes factories (`create_router()` …) that build a fresh router with
its handlers and middlewares, so a dispatcher can be built any number of times (each test
builds one) without re-parenting routers."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from handlers import (
    admin,
    admin_panel,
    citizen_cases,
    citizen_feedback,
    citizen_questions,
    common,
    errors,
    fallback,
    officials,
)

GROUPS = {ChatType.GROUP, ChatType.SUPERGROUP}


def setup_routers() -> Router:
    """A fresh router tree for one dispatcher."""
    root = Router(name="root")
    root.include_router(errors.create_router())

    private = Router(name="private")
    private.message.filter(F.chat.type == ChatType.PRIVATE)
    private.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    # Order matters: /cancel and the menu first, then admin uploads, the intake steps (state
    # filters), the citizen's cases, free-text questions, and the catch-all last.
    private.include_routers(
        common.create_router(),
        admin_panel.create_router(),
        citizen_feedback.create_router(),
        citizen_cases.create_router(),
        citizen_questions.create_router(),
        fallback.create_router(),
    )

    groups = Router(name="groups")
    groups.message.filter(F.chat.type.in_(GROUPS))
    groups.callback_query.filter(F.message.chat.type.in_(GROUPS))
    groups.include_routers(admin.create_group_router(), officials.create_router())

    root.include_routers(private, groups, admin.create_membership_router())
    return root
