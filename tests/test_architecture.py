"""The direction of imports (ARCHITECTURE.md): the domain and the knowledge base know nothing
of Telegram; storage knows nothing of the application above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package (folder) -> module prefixes it must never import
FORBIDDEN = {
    "bot/domain": ("aiogram", "bot.telegram", "handlers", "bot.app", "bot.cli", "bot.runner"),
    "knowledge": ("aiogram", "bot", "handlers", "storage", "sqlalchemy"),
    "storage": ("aiogram", "bot", "handlers"),
    "bot/telegram": ("handlers", "bot.app", "bot.cli", "bot.runner", "bot.shell"),
}


def imported_modules(source: str) -> set[str]:
    """Every module a source file imports, at any depth (TYPE_CHECKING blocks included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def violations(source: str, forbidden: tuple[str, ...]) -> list[str]:
    """The imports in `source` that fall under one of the forbidden prefixes."""
    return sorted(
        module
        for module in imported_modules(source)
        if any(module == p or module.startswith(p + ".") for p in forbidden)
    )


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_import_direction(package: str) -> None:
    bad = {
        str(path.relative_to(ROOT)): found
        for path in sorted((ROOT / package).rglob("*.py"))
        if (found := violations(path.read_text(encoding="utf-8"), FORBIDDEN[package]))
    }
    assert not bad, f"{package} must not import {FORBIDDEN[package]}: {bad}"


def test_checker_sees_nested_and_type_checking_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from bot.telegram.notifier import Notifier\n"
        "def f():\n    import aiogram.types\n"
        "from bot.domain.cases import CaseService\n"
    )
    forbidden = FORBIDDEN["bot/domain"]
    assert violations(source, forbidden) == ["aiogram.types", "bot.telegram.notifier"]
    assert violations("import aiogramx\nfrom bot.telegrams import x\n", forbidden) == []


def test_domain_and_knowledge_load_without_aiogram() -> None:
    """Transitively too: importing the domain pulls in no Telegram code."""
    import subprocess
    import sys

    modules = [
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for folder in (ROOT / "bot" / "domain", ROOT / "knowledge")
        for path in sorted(folder.rglob("*.py"))
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aiogram', 'handlers')"
        " or m.startswith('bot.telegram')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
