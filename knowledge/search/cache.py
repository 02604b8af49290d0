"""A built `SearchEngine` kept on disk, so a process that starts on an unchanged knowledge base
loads its index (about 0.1 s for the bundled KB) instead of building it again (about 0.5 s).

The file's name is a digest of everything the index is built from: the records, the admins'
lexicon pairs and life-event rows, the admins' files, and the bytes of this package's code and
bundled data. Any change gives a new name, so a stale index is never loaded; the older files
are removed, keeping the few newest (processes on other databases share the folder).

The file is read with `pickle`, which runs code from the file: the folder must be writable only
by the bot's own user (it is the bot's data folder by default, beside its SQLite file). A file
that cannot be read is ignored and rebuilt.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import pickle
import sys
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

from knowledge.search.engine import SearchEngine

__all__ = ["cached_engine", "code_fingerprint"]

log = logging.getLogger(__name__)

PREFIX = "search-index-"
SUFFIX = ".pickle"
KEEP = 4  # newest files kept: a few databases (a test run, a staging copy) share the folder
_PACKAGE = Path(__file__).resolve().parents[1]  # knowledge/


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A digest of the search code and the bundled language data (what an index depends on
    besides its inputs), and of the Python version (pickles are not portable across them)."""
    digest = hashlib.sha256(sys.version.encode())
    files = sorted(
        [*_PACKAGE.rglob("*.py"), *(_PACKAGE / "data").glob("*.tsv")],
        key=lambda p: p.relative_to(_PACKAGE).as_posix(),
    )
    for path in files:
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def input_digest(parts: Iterable[object], files: Iterable[Path | None]) -> str:
    """A digest of the index's inputs: `parts` are compared by `repr` (records, tuples and
    strings, whose repr is stable across processes), `files` by their bytes (None: none)."""
    digest = hashlib.sha256(code_fingerprint().encode())
    for part in parts:
        digest.update(repr(part).encode())
        digest.update(b"\0")
    for path in files:
        if path is None:
            digest.update(b"-")
            continue
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"?")  # missing now: the builder warns about it
    return digest.hexdigest()


def cached_engine(folder: Path | None, key: str, build: Callable[[], SearchEngine]) -> SearchEngine:
    """The engine stored under `key` in `folder`, or `build()` stored there (no folder: build)."""
    if folder is None:
        return build()
    path = folder / f"{PREFIX}{key[:32]}{SUFFIX}"
    engine = _load(path)
    if engine is not None:
        log.info("search index loaded from %s", path)
        return engine
    engine = build()
    _store(folder, path, engine)
    log.info("search index built and kept in %s", path)
    return engine


def _load(path: Path) -> SearchEngine | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("search index cache %s unreadable: %s", path, exc)
        return None
    # The index is many small objects: the collector would walk them repeatedly while loading.
    enabled = gc.isenabled()
    gc.disable()
    try:
        engine = pickle.loads(data)
    except Exception as exc:  # noqa: BLE001 - any damage to the file means: build again
        log.warning("search index cache %s damaged (%s): building the index", path, exc)
        return None
    finally:
        if enabled:
            gc.enable()
    if not isinstance(engine, SearchEngine):
        log.warning("search index cache %s holds no index: building it", path)
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: kept by the clean-up
    return engine


def _store(folder: Path, path: Path, engine: SearchEngine) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the new one
    except OSError as exc:
        log.warning("search index cache not written to %s: %s", folder, exc)
        with contextlib.suppress(OSError):
            tmp.unlink()  # a half-written file (a full disk) is not left behind
        return
    olds = sorted(
        (p for p in folder.glob(f"{PREFIX}*{SUFFIX}") if p != path), key=_mtime, reverse=True
    )
    for old in olds[KEEP - 1 :]:
        with contextlib.suppress(OSError):
            old.unlink()


def _mtime(path: Path) -> float:
    """When the file was last written or used; 0 when another process removed it meanwhile
    (processes on other databases clean the same folder)."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
