"""`make test` on a laptop without PostgreSQL or Redis: their tests are skipped with one clear
line; under CI=true they are required (they fail)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_tests(ci: bool) -> subprocess.CompletedProcess[str]:
    port = unused_port()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    env["TEST_POSTGRES_URL"] = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/test"
    env["TEST_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    if ci:
        env["CI"] = "true"
    selection = "tests/storage/test_storage.py::test_stairway_every_migration_up_down_up"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", selection,
         "tests/storage/test_storage.py::test_fsm_storage_in_redis_survives_a_new_connection"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_without_the_servers_their_tests_are_skipped_with_one_line() -> None:
    result = run_tests(ci=False)
    assert result.returncode == 0, result.stdout[-3000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith("skipped ")]
    assert len(lines) == 1, result.stdout[-3000:]
    line = lines[0]
    assert line.startswith("skipped 2 tests that need PostgreSQL at 127.0.0.1:")
    assert "Redis at 127.0.0.1:" in line and "systemctl start postgresql redis-server" in line
    assert "1 passed, 2 skipped" in result.stdout  # the SQLite half still runs


def test_under_ci_the_servers_are_required() -> None:
    result = run_tests(ci=True)
    assert result.returncode != 0
    assert "1 failed, 1 passed, 1 error" in result.stdout, result.stdout[-3000:]
    assert "skipped " not in result.stdout
