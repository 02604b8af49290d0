"""Example phrases: how citizens ask for each procedure ("training phrases"), and how they ask
for what the knowledge base cannot answer.

The built-in list lives in `knowledge/data/examples.tsv`, one phrase a line:

    code <TAB> phrase

`code` is a procedure code of the knowledge base ("1.001193"), or one of the out-of-scope
pseudo-codes `OOS:status` (where is my dossier), `OOS:complaint` (khiếu nại, tố cáo, handling
complaints), `OOS:legal` (legal advice, disputes) and `OOS:other` (anything else a procedure KB
does not hold). Codes are resolved against the loaded knowledge base when the index is built:
an unknown code is warned about and skipped, so the same file works for any province's KB (it
simply helps less). Lines starting with `#` are comments. A line that cannot be used is warned
about and skipped: one bad line must not stop the index from building.

The search indexes a procedure's phrases as one more field and scores how close a question is
to its nearest phrase; out-of-scope phrases make it abstain and point to the right channel
when a question is closer to them than to any procedure (see `knowledge.search`). Admins add
phrases with an extra file (`SEARCH_EXAMPLES_PATH`, same format) or `citizen-bot kb examples`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from knowledge.tsv import data_lines, read_lines

__all__ = [
    "DEFAULT_EXAMPLES_PATH",
    "OOS_CATEGORIES",
    "OOS_PREFIX",
    "Example",
    "Examples",
    "default_examples",
    "load_examples",
    "parse_example_lines",
]

log = logging.getLogger(__name__)

DEFAULT_EXAMPLES_PATH = Path(__file__).with_name("data") / "examples.tsv"
OOS_PREFIX = "OOS:"
OOS_CATEGORIES = ("status", "complaint", "legal", "other")
MAX_PHRASE_CHARS = 300
_CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,39}$")


@dataclass(frozen=True, slots=True)
class Example:
    """One phrase: the procedure code (or `OOS:<category>`) it asks for."""

    code: str
    phrase: str

    @property
    def oos(self) -> str:
        """The out-of-scope category ("status", …) of a pseudo-code, else ""."""
        return self.code[len(OOS_PREFIX) :] if self.code.startswith(OOS_PREFIX) else ""


def _check(code: str, phrase: str) -> str:
    """Why the (code, phrase) pair cannot be used, or ""."""
    if not code or not phrase:
        return "expected 'code<TAB>phrase'"
    if code.startswith(OOS_PREFIX):
        if code[len(OOS_PREFIX) :] not in OOS_CATEGORIES:
            return f"unknown out-of-scope category {code!r} (use {', '.join(OOS_CATEGORIES)})"
    elif not _CODE_RE.match(code):
        return f"not a procedure code: {code!r}"
    if len(phrase) > MAX_PHRASE_CHARS:
        return f"phrase longer than {MAX_PHRASE_CHARS} characters"
    if not any(c.isalpha() for c in phrase):
        return "phrase has no words"
    return ""


def parse_example_lines(
    lines: Iterable[str], source: str = "examples"
) -> tuple[list[Example], list[str]]:
    """Parse TSV lines (`code<TAB>phrase`, `#` comments): the usable examples, and one problem
    message per line skipped."""
    out: list[Example] = []
    problems: list[str] = []
    for number, raw, fields in data_lines(lines):
        parts = [p.strip() for p in fields]
        why = "expected 'code<TAB>phrase'" if len(parts) != 2 else _check(parts[0], parts[1])
        if why:
            problems.append(f"{source}:{number}: {why}: {raw.strip()[:80]!r}")
            continue
        out.append(Example(parts[0], " ".join(parts[1].split())))
    return out, problems


class Examples:
    """Example phrases by code, in file order; a repeated (code, phrase) counts once."""

    def __init__(self, examples: Iterable[Example] = ()) -> None:
        seen: dict[tuple[str, str], Example] = {}
        for e in examples:
            seen.setdefault((e.code, e.phrase.casefold()), e)
        self._items = tuple(seen.values())

    def __getstate__(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        # Kept with a search index (knowledge/search/cache.py) as two tuples of strings: a
        # few thousand small objects unpickle several times slower than their strings.
        return tuple(e.code for e in self._items), tuple(e.phrase for e in self._items)

    def __setstate__(self, state: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
        self._items = tuple(map(Example, *state))

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Example]:
        return iter(self._items)

    def __repr__(self) -> str:
        return f"Examples({len(self._items)} phrases)"

    def merged(self, extra: Iterable[Example]) -> Examples:
        """A new set with `extra` (admin additions) after these."""
        return Examples([*self._items, *extra])

    def by_code(self) -> dict[str, list[str]]:
        """Procedure codes → their phrases (out-of-scope pseudo-codes left out)."""
        out: dict[str, list[str]] = {}
        for e in self._items:
            if not e.oos:
                out.setdefault(e.code, []).append(e.phrase)
        return out

    def out_of_scope(self) -> dict[str, list[str]]:
        """Out-of-scope category → its phrases."""
        out: dict[str, list[str]] = {}
        for e in self._items:
            if e.oos:
                out.setdefault(e.oos, []).append(e.phrase)
        return out


def load_examples(source: str | Path | Iterable[str]) -> Examples:
    """Load examples from a TSV path or from an iterable of TSV lines; bad lines are logged
    and skipped."""
    name = Path(source).name if isinstance(source, str | Path) else "examples"
    examples, problems = parse_example_lines(read_lines(source), name)
    for problem in problems:
        log.warning("example skipped: %s", problem)
    return Examples(examples)


def default_examples() -> Examples:
    """Load the built-in examples shipped in `knowledge/data/examples.tsv` (none if absent)."""
    if not DEFAULT_EXAMPLES_PATH.exists():
        return Examples()
    return load_examples(DEFAULT_EXAMPLES_PATH)
