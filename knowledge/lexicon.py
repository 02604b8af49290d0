"""Colloquial → official vocabulary: how people say it ("sổ đỏ") vs. how procedures are named.

The built-in list lives in `knowledge/data/lexicon.tsv` (`colloquial<TAB>official`, `#` starts
a comment). An optional third column is a weight below 1 for situational phrases that only hint
at a procedure ("bố mất" hints at khai tử, but the question may be about inheritance): the
search gives such a hint less say than the words the user actually wrote. Admins add entries
through the bot; storage keeps them and hands them to `Lexicon.merged`, so no file is ever
edited at runtime.

Phrases are matched on folded syllables, so "so do", "sổ đỏ" and "SỔ ĐỎ" all hit "sổ đỏ". When a
query syllable does carry diacritics they must agree with the phrase: "số đo" is not "sổ đỏ".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.normalize import analyze, fold
from knowledge.tsv import data_lines, read_lines

__all__ = [
    "DEFAULT_LEXICON_PATH",
    "Lexicon",
    "LexiconEntry",
    "LexiconError",
    "LexiconMatch",
    "default_lexicon",
    "load_lexicon",
    "parse_lexicon_lines",
]

DEFAULT_LEXICON_PATH = Path(__file__).with_name("data") / "lexicon.tsv"

Pair = tuple[str, str]  # (folded, accented) syllable, as `normalize.analyze` returns
# (phrase, expansion) or (phrase, expansion, weight)
EntrySpec = tuple[str, str] | tuple[str, str, float]


class LexiconError(ValueError):
    """A lexicon line or entry that cannot be used."""


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    """One colloquial phrase and the official wording it stands for."""

    phrase: str
    expansion: str
    key: tuple[str, ...]  # folded syllables of the phrase
    accented: tuple[str, ...]  # the same syllables with diacritics
    tokens: tuple[Pair, ...]  # analysed expansion
    weight: float = 1.0  # below 1 for situational hints


@dataclass(frozen=True, slots=True)
class LexiconMatch:
    """A phrase found in a token sequence: tokens[start:end] stands for `entry.expansion`."""

    start: int
    end: int
    entry: LexiconEntry


def _make_entry(spec: EntrySpec) -> LexiconEntry:
    phrase, expansion = spec[0].strip(), spec[1].strip()
    weight = float(spec[2]) if len(spec) > 2 else 1.0  # type: ignore[misc]
    if not 0.0 < weight <= 1.0:
        raise LexiconError(f"weight of {phrase!r} must be in (0, 1], got {weight}")
    pairs = analyze(phrase)
    tokens = tuple(analyze(expansion))
    if not pairs:
        raise LexiconError(f"empty phrase: {phrase!r}")
    if not tokens:
        raise LexiconError(f"empty expansion for {phrase!r}")
    return LexiconEntry(
        phrase=phrase,
        expansion=expansion,
        key=tuple(f for f, _ in pairs),
        accented=tuple(a for _, a in pairs),
        tokens=tokens,
        weight=weight,
    )


def _compatible(query: Sequence[Pair], accented: tuple[str, ...]) -> bool:
    # A syllable typed without diacritics matches any accented form; one typed with
    # diacritics must be the same syllable ("số" is not "sổ").
    return all(acc in (folded, want) for (folded, acc), want in zip(query, accented, strict=True))


def _gapped(
    pairs: Sequence[Pair], i: int, entry: LexiconEntry, light: frozenset[str], max_gap: int
) -> int:
    """End of a match of `entry` at i with up to `max_gap` light syllables inside, or 0."""
    j, gap, n = i, 0, len(pairs)
    for k, (want, acc) in enumerate(zip(entry.key, entry.accented, strict=True)):
        if k:
            while j < n and pairs[j][0] != want and pairs[j][1] in light and gap < max_gap:
                j += 1
                gap += 1
        if j >= n or pairs[j][0] != want or pairs[j][1] not in (want, acc):
            return 0
        j += 1
    return j if gap else 0


class Lexicon:
    """An immutable set of colloquial phrases, matched longest-first on folded syllables."""

    __slots__ = ("_by_first", "_by_pair", "_entries", "_max_len", "_singles")

    def __init__(self, entries: Iterable[EntrySpec] = ()) -> None:
        """Build from (phrase, expansion[, weight]); a later entry for the same phrase wins."""
        merged: dict[tuple[str, ...], LexiconEntry] = {}
        for spec in entries:
            entry = _make_entry(spec)
            merged.pop(entry.accented, None)  # re-insert so order reflects the override
            merged[entry.accented] = entry
        self._entries: tuple[LexiconEntry, ...] = tuple(merged.values())
        by_first: dict[str, list[LexiconEntry]] = {}
        for entry in self._entries:
            by_first.setdefault(entry.key[0], []).append(entry)
        for bucket in by_first.values():
            bucket.sort(key=lambda e: -len(e.key))  # stable: file order among equal lengths
        self._by_first = {k: tuple(v) for k, v in by_first.items()}
        # The phrases of two or more syllables by their first two, and the one-syllable ones:
        # a position is compared only with phrases that can start there.
        by_pair: dict[tuple[str, str], list[LexiconEntry]] = {}
        singles: dict[str, list[LexiconEntry]] = {}
        for ordered in self._by_first.values():
            for entry in ordered:
                if len(entry.key) > 1:
                    by_pair.setdefault((entry.key[0], entry.key[1]), []).append(entry)
                else:
                    singles.setdefault(entry.key[0], []).append(entry)
        self._by_pair = {k: tuple(v) for k, v in by_pair.items()}
        self._singles = {k: tuple(v) for k, v in singles.items()}
        self._max_len = max((len(e.key) for e in self._entries), default=0)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[LexiconEntry]:
        return iter(self._entries)

    def __repr__(self) -> str:
        return f"Lexicon({len(self._entries)} entries)"

    @property
    def entries(self) -> tuple[LexiconEntry, ...]:
        """All entries in load order (after overrides)."""
        return self._entries

    def merged(self, extra: Iterable[EntrySpec]) -> Lexicon:
        """Return a new lexicon with `extra` (admin additions) on top; unusable pairs skipped."""
        # Admin entries come from a database table: one entry that normalises to nothing
        # (only punctuation or emoji) must not stop the whole index from being rebuilt.
        usable = [spec for spec in extra if analyze(spec[0]) and analyze(spec[1])]
        base: list[EntrySpec] = [(e.phrase, e.expansion, e.weight) for e in self._entries]
        return Lexicon([*base, *usable])

    def find(
        self,
        pairs: Sequence[Pair],
        light: frozenset[str] = frozenset(),
        max_gap: int = 2,
        *,
        overlapping: bool = False,
    ) -> list[LexiconMatch]:
        """Find phrases in analysed (folded, accented) syllables, longest match first.

        With `light` (accented syllables: numerals, classifiers, particles), a phrase of two or
        more syllables may also match with up to `max_gap` light syllables inside it, the way
        people put a quantity between a verb and its object ("cắt một phần đất" is "cắt đất",
        "nâng thêm một tầng" is "nâng tầng"). A gapped match is taken only when it is longer
        than the exact one found at the same position.

        With `overlapping`, the longest phrase starting at every position is reported, even
        inside an earlier match ("báo mất giấy" holds "báo mất" and "mất giấy").
        """
        out: list[LexiconMatch] = []
        i, n = 0, len(pairs)
        by_first, by_pair, singles = self._by_first, self._by_pair, self._singles
        none: tuple[LexiconEntry, ...] = ()
        while i < n:
            hit: LexiconEntry | None = None
            end = i
            first = pairs[i][0]
            if first not in by_first:
                i += 1
                continue
            # longest first: the phrases that go on with the next syllable, then single ones
            nxt = pairs[i + 1] if i + 1 < n else None
            longer_ones = by_pair.get((first, nxt[0]), none) if nxt is not None else none
            for bucket in (longer_ones, singles.get(first, none)):
                for entry in bucket:
                    size = len(entry.key)
                    if i + size > n:
                        continue
                    window = pairs[i : i + size]
                    if all(
                        p[0] == k for p, k in zip(window, entry.key, strict=True)
                    ) and _compatible(window, entry.accented):
                        hit, end = entry, i + size
                        break
                if hit is not None:
                    break
            if light and nxt is not None:
                longer = len(hit.key) if hit is not None else 1
                # a gap right after the first syllable needs a light one there; otherwise the
                # phrase must go on with the next syllable
                gapped = by_first[first] if nxt[1] in light else longer_ones
                for entry in gapped:
                    if len(entry.key) <= longer:
                        break  # longest first: the rest are no longer than the exact match
                    stop = _gapped(pairs, i, entry, light, max_gap)
                    if stop:
                        hit, end = entry, stop
                        break
            if hit is None:
                i += 1
                continue
            out.append(LexiconMatch(i, end, hit))
            i = i + 1 if overlapping else end
        return out

    def expand(self, tokens: Sequence[str]) -> list[str]:
        """Replace each colloquial phrase in folded `tokens` by its official folded tokens."""
        pairs = [(fold(t), fold(t)) for t in tokens]
        out: list[str] = []
        pos = 0
        for match in self.find(pairs):
            out.extend(pairs[j][0] for j in range(pos, match.start))
            out.extend(f for f, _ in match.entry.tokens)
            pos = match.end
        out.extend(p[0] for p in pairs[pos:])
        return out

    def expand_text(self, text: str) -> str:
        """Return `text` (analysed) with colloquial phrases replaced by official wording."""
        pairs = analyze(text)
        out: list[str] = []
        pos = 0
        for match in self.find(pairs):
            out.extend(a for _, a in pairs[pos : match.start])
            out.append(match.entry.expansion)
            pos = match.end
        out.extend(a for _, a in pairs[pos:])
        return " ".join(out)


def parse_lexicon_lines(lines: Iterable[str]) -> list[EntrySpec]:
    """Parse TSV lines (`colloquial<TAB>official[<TAB>weight]`, `#` comments) into entries."""
    specs: list[EntrySpec] = []
    for number, raw, fields in data_lines(lines):
        parts = [p.strip() for p in fields]
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise LexiconError(f"line {number}: expected 'colloquial<TAB>official': {raw!r}")
        if len(parts) == 2:
            specs.append((parts[0], parts[1]))
            continue
        try:
            weight = float(parts[2])
        except ValueError:
            raise LexiconError(f"line {number}: weight is not a number: {parts[2]!r}") from None
        specs.append((parts[0], parts[1], weight))
    return specs


def load_lexicon(source: str | Path | Iterable[str]) -> Lexicon:
    """Load a lexicon from a TSV path or from an iterable of TSV lines."""
    return Lexicon(parse_lexicon_lines(read_lines(source)))


def default_lexicon() -> Lexicon:
    """Load the built-in lexicon shipped in `knowledge/data/lexicon.tsv`."""
    return load_lexicon(DEFAULT_LEXICON_PATH)
