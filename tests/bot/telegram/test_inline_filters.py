"""Routing an update never hands a filter to a worker thread (aiogram does for sync filters)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram import F, Router

from bot.telegram.inline_filters import run_filters_inline
from tests.harness import CITIZEN, GROUP_A, OFFICIAL_A, Harness


def test_sync_filters_are_made_coroutines() -> None:
    router, child = Router(), Router()
    router.include_router(child)
    router.message.filter(F.chat.type == "private")

    @child.message(F.text, lambda message: bool(message.text))
    async def handler(message: Any) -> None: ...

    assert run_filters_inline(router) == 3
    assert run_filters_inline(router) == 0  # once is enough
    filters = [*child.message.handlers[0].filters, *router.message._handler.filters]  # type: ignore[union-attr]
    assert all(f.awaitable for f in filters)


async def test_citizen_and_group_updates_route_without_threads(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[Any] = []
    real = asyncio.to_thread

    async def counting(func: Any, /, *args: Any, **kwargs: Any) -> Any:
        threads.append(func)
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counting)
    await harness.say("/start", user=CITIZEN)
    await harness.say("đăng ký khai sinh", user=CITIZEN)
    await harness.say("xin chào mọi người", user=OFFICIAL_A, chat=GROUP_A)
    assert "khai sinh" in harness.last_text(CITIZEN).lower()
    assert threads == [], f"filters sent to a thread: {threads[:3]}"
