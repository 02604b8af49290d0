"""The admins' tab-separated files (lexicon, life events, example phrases): one entry a line,
`#` comments and blank lines skipped, a byte-order mark tolerated."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path


def read_lines(source: str | Path | Iterable[str]) -> Iterable[str]:
    """The lines of a UTF-8 file at `source`, or `source` itself when it already is lines."""
    if isinstance(source, str | Path):
        return Path(source).read_text(encoding="utf-8").splitlines()
    return source


def data_lines(lines: Iterable[str]) -> Iterator[tuple[int, str, list[str]]]:
    """(line number from 1, the line as written, its tab-separated fields) for every line that
    is neither blank nor a comment."""
    for number, raw in enumerate(lines, start=1):
        line = raw.strip("\r\n").lstrip("\ufeff")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        yield number, raw, line.split("\t")
