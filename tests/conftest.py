from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import bot  # noqa: F401  (first: aiogram's types are built as the bot builds them, on first use)
from tests.fake_telegram import FakeTelegram
from tests.harness import Harness, reset_postgres, sqlite_url

# The bots the tests start keep their built search index in a folder of this run (as the bot
# does in its data folder), not in the checkout's data/: later tests load what earlier built.
os.environ.setdefault("SEARCH_CACHE_DIR", tempfile.mkdtemp(prefix="citizen-bot-index-"))


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


# ---- PostgreSQL and Redis: required in CI, skipped with one line on a laptop without them ----

SERVERS = {
    # marker: (what, URL, default port)
    "postgres": ("PostgreSQL", "TEST_POSTGRES_URL", 5432),
    "redis": ("Redis", "TEST_REDIS_URL", 6379),
}
HOW_TO_START = (
    "start them (Debian/Ubuntu: `sudo apt-get install postgresql redis-server && sudo "
    "systemctl start postgresql redis-server`, trust auth for 127.0.0.1, `createdb -U postgres "
    "test`; or `docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_DB=test "
    "postgres:16 && docker run -d -p 6379:6379 redis:7`) or point TEST_POSTGRES_URL / "
    "TEST_REDIS_URL at yours; with CI=true they are required"
)


def _address(marker: str) -> tuple[str, int]:
    from tests.harness import POSTGRES_URL, REDIS_URL

    url = urlsplit((POSTGRES_URL if marker == "postgres" else REDIS_URL).replace("+asyncpg", ""))
    return url.hostname or "127.0.0.1", url.port or SERVERS[marker][2]


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return  # CI has the servers (.ci/run starts them): a test that cannot reach one fails
    down: dict[str, str] = {}
    for marker, (what, _, _) in SERVERS.items():
        if any(marker in item.keywords for item in items):
            host, port = _address(marker)
            if not _reachable(host, port):
                down[marker] = f"{what} at {host}:{port}"
    if not down:
        return
    skipped = 0
    for item in items:
        missing = [where for marker, where in down.items() if marker in item.keywords]
        if missing:
            item.add_marker(pytest.mark.skip(reason=f"needs {' and '.join(missing)}"))
            skipped += 1
    config.stash[_SKIPPED] = (
        f"skipped {skipped} tests that need {' and '.join(down.values())} (not reachable): "
        + HOW_TO_START
    )


_SKIPPED = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    line = terminalreporter.config.stash.get(_SKIPPED, None)
    if line:
        terminalreporter.write_line(line, yellow=True, bold=True)
