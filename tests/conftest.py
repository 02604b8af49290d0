from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fake_telegram import FakeTelegram
from tests.harness import Harness, reset_postgres, sqlite_url


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Storage tests run on both: the embedded default and the scale-out database."""
    if request.param == "postgres":
        from tests.harness import POSTGRES_URL

        await reset_postgres()
        return POSTGRES_URL
    return sqlite_url(tmp_path)


@pytest.fixture
async def harness(server: FakeTelegram, tmp_path: Path) -> AsyncIterator[Harness]:
    h = await Harness.start(server, sqlite_url(tmp_path))
    try:
        yield h
    finally:
        await h.close()
