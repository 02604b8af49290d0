"""Composes the routers; router-level filters separate private chats from agency groups."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from handlers import (
    admin,
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
    """A fresh router tree (routers can be attached to one dispatcher only, so build anew)."""
    # Feature routers are module-level (aiogram's idiom) and a router has one parent; each
    # dispatcher (tests build one per test) re-parents them into a new tree.
    for feature in (
        errors.router,
        common.router,
        admin.private_router,
        admin.group_router,
        admin.membership_router,
        citizen_feedback.router,
        citizen_cases.router,
        citizen_questions.router,
        fallback.router,
        officials.router,
    ):
        feature._parent_router = None
    root = Router(name="root")
    root.include_router(errors.router)

    private = Router(name="private")
    private.message.filter(F.chat.type == ChatType.PRIVATE)
    private.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    # Order matters: /cancel and the menu first, then admin uploads, the intake steps (state
    # filters), the citizen's cases, free-text questions, and the catch-all last.
    private.include_routers(
        common.router,
        admin.private_router,
        citizen_feedback.router,
        citizen_cases.router,
        citizen_questions.router,
        fallback.router,
    )

    groups = Router(name="groups")
    groups.message.filter(F.chat.type.in_(GROUPS))
    groups.callback_query.filter(F.message.chat.type.in_(GROUPS))
    groups.include_routers(admin.group_router, officials.router)

    root.include_routers(private, groups, admin.membership_router)
    return root
