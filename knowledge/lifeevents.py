"""Life events: situations people describe instead of naming a procedure ("bố tôi mất hôm qua",
"vợ mới sinh", "mua lại mảnh đất"), each tied to the procedures it usually leads to.

The built-in list lives in `knowledge/data/life_events.tsv`, one event a line:

    key <TAB> name <TAB> triggers (separated by |) <TAB> procedures (separated by |)

A trigger is a phrase matched like a lexicon phrase (diacritics optional, but they must agree
when typed; pronouns, particles and numerals may sit inside it: "bố mất" also matches "bố tôi
vừa mất"). A procedure is its official wording (or a code), resolved against the knowledge base
when the index is built, so the same file works for any province's KB; `=weight` after it (0..1)
says how likely the event leads there (default 0.5; the usual first step gets 1). Admins add or
replace events through the bot's table (`LifeEvents.merged`), like lexicon entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.lexicon import Lexicon, LexiconError, Pair
from knowledge.normalize import analyze
from knowledge.tsv import data_lines, read_lines

__all__ = [
    "COST_WORDS",
    "DEFAULT_LIFE_EVENTS_PATH",
    "EVENT_GAP_WORDS",
    "EventMatch",
    "LifeEvent",
    "LifeEventError",
    "LifeEvents",
    "default_life_events",
    "load_life_events",
    "parse_life_event_lines",
    "read_numbers",
]

DEFAULT_LIFE_EVENTS_PATH = Path(__file__).with_name("data") / "life_events.tsv"
DEFAULT_WEIGHT = 0.5

# Words people put inside a situation phrase: pronouns, kinship fillers, aspect words,
# numerals ("bố tôi vừa mất", "ông nhà tôi mất", "mua lại một mảnh đất").
_GAP = """
tôi em mình tao tui cháu con anh chị nhà của bọn chúng ta mới vừa đã đang sắp rồi cũng bị được
một hai ba bốn mấy vài các những cái chiếc căn lô mảnh miếng thửa lại thêm luôn hẳn đứa
"""
EVENT_GAP_WORDS: frozenset[str] = frozenset(
    {w for w in _GAP.split()} | {f for w in _GAP.split() for f, _ in analyze(w)}
)
# "mẹ tôi mất giấy khai sinh" is a loss, not a death: a trigger that ends in "mất" does not
# count when a thing that can be lost follows it.
_LOST = """
giấy sổ thẻ bằng hộ căn chứng hồ ví bóp túi điện xe tiền cà vẹt passport cccd cmnd biển đăng
bản hợp bảo phiếu trích con dấu
"""
_LOST_THINGS: dict[str, set[str]] = {}
for _word in _LOST.split():
    for _f, _a in analyze(_word, expand=False):
        _LOST_THINGS.setdefault(_f, set()).add(_a)
# "mất bao lâu", "mất mấy ngày", "mất phí": "mất" is what it takes, not a death.
_COST = "bao mấy nhiêu thời tiền phí công hết khoảng tầm chừng"
COST_WORDS = frozenset(f for w in _COST.split() for f, _ in analyze(w))


class LifeEventError(LexiconError):
    """A life-event line or entry that cannot be used."""


@dataclass(frozen=True, slots=True)
class LifeEvent:
    """One life situation: the phrases that reveal it and the procedures it leads to."""

    key: str
    name: str
    triggers: tuple[str, ...]
    procedures: tuple[tuple[str, float], ...]  # (official wording or code, weight), likely first


@dataclass(frozen=True, slots=True)
class EventMatch:
    """A trigger found in a question: syllables [start, end) reveal `event`."""

    start: int
    end: int
    event: LifeEvent


def _split(field: str) -> list[str]:
    return [p.strip() for p in field.split("|") if p.strip()]


def _procedure(spec: str) -> tuple[str, float]:
    name, sep, weight = spec.rpartition("=")
    if not sep:
        return spec.strip(), DEFAULT_WEIGHT
    try:
        value = float(weight)
    except ValueError:
        return spec.strip(), DEFAULT_WEIGHT  # an "=" inside a wording, not a weight
    if not 0.0 < value <= 1.0:
        raise LifeEventError(f"weight of {name.strip()!r} must be in (0, 1], got {value}")
    return name.strip(), value


def make_event(key: str, name: str, triggers: str, procedures: str) -> LifeEvent:
    """Build an event from its four text fields (as in the TSV or the admin table)."""
    key = key.strip()
    if not key or not name.strip():
        raise LifeEventError("a life event needs a key and a name")
    trig = tuple(t for t in _split(triggers) if analyze(t))
    procs = tuple(_procedure(p) for p in _split(procedures))
    if not trig:
        raise LifeEventError(f"event {key!r}: no usable trigger phrase")
    if not procs:
        raise LifeEventError(f"event {key!r}: no procedure")
    return LifeEvent(key=key, name=name.strip(), triggers=trig, procedures=procs)


# A trigger "bỏ + em bé" is a combination: every part said within this many syllables of the
# others, in any order ("có người bỏ một em bé trước cổng", "em bé bị bỏ ở cổng chùa").
COMBINATION_SPAN = 8
_NUMERALS = ["một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín", "mười"]
_NUMBER_WORDS: dict[str, Pair] = {str(i): analyze(w)[0] for i, w in enumerate(_NUMERALS, 1)}


def _parts(trigger: str) -> tuple[str, ...]:
    """The parts of a combination trigger ("bỏ + em bé"), or the trigger alone."""
    return tuple(p.strip() for p in trigger.split("+") if analyze(p))


def _lost_not_dead(pairs: Sequence[Pair], key: tuple[str, ...], end: int) -> bool:
    """A phrase ending in "mất" followed by a thing one loses, or by what something takes
    ("mất giấy khai sinh", "mất bao lâu"): no death."""
    if key[-1] != "mat" or end >= len(pairs):
        return False
    folded, accented = pairs[end]
    lost = _LOST_THINGS.get(folded)
    # typed with marks, it must be the thing ("mất vì tai nạn" is no "mất ví")
    if lost is not None and (accented == folded or accented in lost):
        return True
    return folded in COST_WORDS


def read_numbers(pairs: Sequence[Pair]) -> list[Pair]:
    """Digits read as the numerals people also type ("1 mình" is "một mình", "nâng thêm 1
    tầng" is "nâng thêm một tầng"), for matching phrases; other tokens unchanged."""
    return [_NUMBER_WORDS.get(f, (f, a)) for f, a in pairs]


class LifeEvents:
    """An immutable set of life events and a matcher for their triggers."""

    __slots__ = ("_by_key", "_by_part", "_combos", "_matcher", "_parts")

    def __init__(self, events: Iterable[LifeEvent] = ()) -> None:
        """Build from events; a later event with the same key replaces the earlier."""
        by_key: dict[str, LifeEvent] = {}
        for event in events:
            by_key.pop(event.key, None)
            by_key[event.key] = event
        self._by_key = by_key
        # A trigger is matched like a lexicon phrase whose "expansion" is its event's key.
        # When two events share a trigger the later one wins, as in the lexicon.
        self._matcher = Lexicon(
            (trigger, key.replace("_", " "))
            for key, e in by_key.items()
            for trigger in e.triggers
            if len(_parts(trigger)) == 1
        )
        # Combinations: their parts are matched like triggers, then looked for together.
        combos: list[tuple[tuple[tuple[str, ...], ...], str]] = []
        parts: set[str] = set()
        for key, e in by_key.items():
            for trigger in e.triggers:
                split = _parts(trigger)
                if len(split) > 1:
                    folded = tuple(tuple(f for f, _ in analyze(p)) for p in split)
                    combos.append((folded, key))
                    parts.update(split)
        self._combos = tuple(combos)
        by_part: dict[tuple[str, ...], list[int]] = {}
        for n, (folded, _) in enumerate(combos):
            by_part.setdefault(folded[0], []).append(n)
        self._by_part = by_part  # combinations by their first part
        self._parts = Lexicon((p, p) for p in sorted(parts))

    def __len__(self) -> int:
        return len(self._by_key)

    def __iter__(self) -> Iterator[LifeEvent]:
        return iter(self._by_key.values())

    def __repr__(self) -> str:
        return f"LifeEvents({len(self._by_key)} events)"

    def get(self, key: str) -> LifeEvent | None:
        """The event with `key`, or None."""
        return self._by_key.get(key)

    def merged(self, extra: Iterable[LifeEvent]) -> LifeEvents:
        """A new set with `extra` (admin additions) on top: same key replaces."""
        return LifeEvents([*self._by_key.values(), *extra])

    def find(self, pairs: Sequence[Pair]) -> list[EventMatch]:
        """Triggers found in analysed (folded, accented) syllables, longest first."""
        out: list[EventMatch] = []
        by_expansion = {key.replace("_", " "): e for key, e in self._by_key.items()}
        pairs = read_numbers(pairs)
        for m in self._matcher.find(pairs, EVENT_GAP_WORDS, max_gap=3):
            if _lost_not_dead(pairs, m.entry.key, m.end):
                continue
            if m.end - m.start == 1 and pairs[m.start][0] == pairs[m.start][1]:
                continue  # one syllable typed bare is too ambiguous ("bao" is not "bão")
            event = by_expansion.get(m.entry.expansion)
            if event is not None:
                out.append(EventMatch(m.start, m.end, event))
        if self._combos:
            out += self._find_combinations(pairs)
        return out

    def _find_combinations(self, pairs: Sequence[Pair]) -> list[EventMatch]:
        """Combination triggers whose parts are all said within `COMBINATION_SPAN`."""
        where: dict[tuple[str, ...], list[tuple[int, int]]] = {}
        for m in self._parts.find(pairs, EVENT_GAP_WORDS, max_gap=3, overlapping=True):
            if (
                m.end - m.start == 1
                and pairs[m.start][0] == pairs[m.start][1] != m.entry.accented[0]
            ):
                continue  # one syllable typed bare is too ambiguous ("roi" is not "rơi")
            if _lost_not_dead(pairs, m.entry.key, m.end):
                continue  # "mất sổ bảo hiểm xã hội" is a loss, not a death
            where.setdefault(m.entry.key, []).append((m.start, m.end))
        out: list[EventMatch] = []
        candidates = sorted({n for part in where for n in self._by_part.get(part, ())})
        for parts, key in (self._combos[n] for n in candidates):
            spans = [where.get(p) for p in parts]
            if not all(spans):
                continue
            # the first part's occurrences anchor a window the other parts must fall in
            for start, end in spans[0] or ():
                found = [(start, end)]
                for other in spans[1:]:
                    near = [
                        s
                        for s in other or ()
                        if 0 <= (s[0] - end if s[0] >= end else start - s[1]) <= COMBINATION_SPAN
                    ]
                    if not near:
                        break
                    found.append(near[0])
                else:
                    event = self._by_key[key]
                    out += [EventMatch(a, b, event) for a, b in found]
                    break
        return out


def parse_life_event_lines(lines: Iterable[str]) -> list[LifeEvent]:
    """Parse TSV lines (`key<TAB>name<TAB>triggers<TAB>procedures`, `#` comments)."""
    events: list[LifeEvent] = []
    for number, raw, parts in data_lines(lines):
        if len(parts) != 4:
            raise LifeEventError(
                f"line {number}: expected 'key<TAB>name<TAB>triggers<TAB>procedures': {raw!r}"
            )
        try:
            events.append(make_event(*parts))
        except LifeEventError as exc:
            raise LifeEventError(f"line {number}: {exc}") from None
    return events


def load_life_events(source: str | Path | Iterable[str]) -> LifeEvents:
    """Load life events from a TSV path or from an iterable of TSV lines."""
    return LifeEvents(parse_life_event_lines(read_lines(source)))


def default_life_events() -> LifeEvents:
    """Load the built-in life events shipped in `knowledge/data/life_events.tsv`."""
    return load_life_events(DEFAULT_LIFE_EVENTS_PATH)
