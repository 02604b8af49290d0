"""Families of procedure variants and the choice between them.

Portals publish near-duplicates: "Đăng ký khai sinh", "… có yếu tố nước ngoài", "… lưu
động", "Đăng ký lại khai sinh"; "Cấp hộ chiếu phổ thông lần đầu", "Cấp lại hộ chiếu phổ thông
bị mất", "… cho trẻ em dưới 14 tuổi". Two procedures are **siblings** when their names share
specific words (few names use them: "khai sinh", "hộ chiếu", "rượu", not "đăng ký" or "giấy
phép"): two of them, or the only one the shorter name has. What tells siblings apart are
**qualifiers** (`knowledge/data/qualifiers.tsv`): each has the phrases procedure names use
("có yếu tố nước ngoài", "lưu động", "cấp lại", "đối với tổ chức") and the phrases questions
use ("chồng người Mỹ", "cán bộ xuống tận nhà", "bị móc túi mất", "cho công ty").

After ranking, the best candidate and its siblings that ranked close to it are scored: each
qualifier of a sibling's name that the question says counts for it (more when said several
ways), each one the question does not say counts against it, and a stated age of 14 or more
counts against a child's variant. The best-scored sibling answers; so a question that names a
variant gets it ("qualifier"), and one that names none gets the plain procedure ("plain").

The same sibling relation gives the buttons under an answer: related procedures come from the
answer's family (or its life event), never from one that only shares "cấp giấy phép".
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.lexicon import Lexicon, Pair
from knowledge.lifeevents import COST_WORDS, EVENT_GAP_WORDS, read_numbers
from knowledge.normalize import analyze
from knowledge.records import ProcedureRecord
from knowledge.search.fillers import is_stop_word

__all__ = ["DEFAULT_QUALIFIERS_PATH", "Families", "Qualifiers", "VariantChoice"]

DEFAULT_QUALIFIERS_PATH = Path(__file__).parents[1] / "data" / "qualifiers.tsv"
_CHILD = "tre_em"
_AGE_RE = re.compile(r"^\d{1,3}$")
# Syllables of actions and function words: a two-syllable word made with one of them
# ("giải quyết hưởng", "đăng ký lại") names no object, so it makes no family.
# (accented: "từ" is a function word, "tử" in "khai tử" is not)
_NOT_OBJECT_WORDS = """
giải quyết hưởng cấp đăng ký kí thực hiện thủ tục hành chính đối với cho của và hoặc tại theo
từ trong việc mới lần đầu có được đã các những một về đến khi lại
"""
_NOT_OBJECT = frozenset(_NOT_OBJECT_WORDS.split())
# Qualifiers that are actions: in a name that lists actions ("Cấp lại, đổi thẻ bảo hiểm y
# tế", "Thực hiện, điều chỉnh, thôi hưởng trợ cấp…") each is one of the services offered,
# not what sets the procedure apart, so the question need not say it.
_ACTION_KEYS = "cap_lai doi thay_doi xoa cham_dut tam_ngung gia_han thu_hoi khoi_phuc nuoc_ngoai"
_ACTIONS = frozenset(_ACTION_KEYS.split())
_SEGMENT_RE = re.compile(r"([,;(])")
# Travel verbs before a country tell a trip abroad: folded → accented.
_TRAVEL = {"di": "đi", "sang": "sang", "qua": "qua", "bay": "bay"}


@dataclass(frozen=True, slots=True)
class VariantChoice:
    """Why the first hit moved: "qualifier" (the question names its variant) or "plain"."""

    doc: int
    reason: str
    replaced: int


def _split(field: str) -> list[str]:
    return [p.strip() for p in field.split("|") if p.strip()]


class Qualifiers:
    """The qualifier table: how names and questions say each qualifier."""

    def __init__(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """Build from (key, name phrases, question phrases) rows."""
        countries: list[str] = []
        prefixes: list[str] = []
        names: list[tuple[str, str]] = []
        cues: list[tuple[str, str]] = []
        for key, in_names, in_questions in rows:
            if key == "@countries":
                countries = _split(in_names)
                continue
            if key == "@country_prefixes":
                prefixes = _split(in_names)
                continue
            names += [(p, key) for p in _split(in_names)]
            # "~phrase": a weak cue ("cho bé" hints at a child, but every birth is a child's)
            cues += [
                (p[1:], "~" + key) if p.startswith("~") else (p, key) for p in _split(in_questions)
            ]
            cues += [(p, key) for p in _split(in_names)]
        # Countries are looked up in place ("người" + "Mỹ"), not as lexicon phrases: every
        # prefix times every country would make the cue matcher slow.
        self._countries: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
        for country in countries:
            pairs = analyze(country)
            folded = tuple(f for f, _ in pairs)
            self._countries.setdefault(folded[0], []).append((folded, tuple(a for _, a in pairs)))
        self._prefixes = [
            (tuple(f for f, _ in pairs), tuple(a for _, a in pairs))
            for pairs in (analyze(prefix) for prefix in prefixes)
        ]
        # A phrase may say several qualifiers ("hết hạn": đổi, gia hạn, cấp lại): the matcher
        # keeps one entry per phrase, whose expansion lists them all.
        self._names = self._matcher(names)
        self._cues = self._matcher(cues)

    @staticmethod
    def _matcher(pairs: list[tuple[str, str]]) -> Lexicon:
        keys: dict[str, list[str]] = {}
        for phrase, key in pairs:
            if analyze(phrase):
                keys.setdefault(phrase, [])
                if key not in keys[phrase]:
                    keys[phrase].append(key)
        return Lexicon(
            (phrase, " ".join(k.replace("_", "-") for k in ks)) for phrase, ks in keys.items()
        )

    @staticmethod
    def _keys(matcher: Lexicon, pairs: Sequence[Pair]) -> Counter[str]:
        found: Counter[str] = Counter()
        for m in matcher.find(pairs, EVENT_GAP_WORDS, overlapping=True):
            strength: dict[str, float] = {}
            for k in m.entry.expansion.split():
                weak = k.startswith("~")
                key = k.lstrip("~").replace("-", "_")
                strength[key] = max(strength.get(key, 0.0), 0.5 if weak else 1.0)
            for key, value in strength.items():
                found[key] += value  # type: ignore[assignment]
        return found

    @classmethod
    def load(cls, path: str | Path = DEFAULT_QUALIFIERS_PATH) -> Qualifiers:
        """Read `key<TAB>name phrases<TAB>question phrases` lines (`#` comments)."""
        rows: list[tuple[str, str, str]] = []
        for raw in Path(path).read_text(encoding="utf-8").splitlines():
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            parts = [*raw.split("\t"), "", ""]
            rows.append((parts[0].strip(), parts[1], parts[2]))
        return cls(rows)

    def trips(self, pairs: Sequence[Pair]) -> list[tuple[int, int]]:
        """Where the question tells a trip abroad: a travel verb right before a country
        ("cho cháu sang Úc thăm ông bà", "bay qua Nhật"), as [start, end) spans."""
        out: list[tuple[int, int]] = []
        for i in range(1, len(pairs)):
            verb = pairs[i - 1]
            if verb[0] not in _TRAVEL or verb[1] not in (verb[0], _TRAVEL[verb[0]]):
                continue
            for folded, accented in self._countries.get(pairs[i][0], ()):
                got = pairs[i : i + len(folded)]
                if len(got) != len(folded) or any(
                    f != want or a not in (f, acc)
                    for (f, a), want, acc in zip(got, folded, accented, strict=True)
                ):
                    continue
                if len(folded) == 1 and got[0][1] == folded[0] != accented[0]:
                    continue  # "qua my" typed bare: "Mỹ" or "my"?
                out.append((i - 1, i + len(folded)))
                break
        return out

    def _foreign(self, pairs: Sequence[Pair]) -> int:
        """How many times the question names a foreign country as someone's ("chồng người
        Mỹ", "sinh bên Nhật"): a country of two or more syllables counts alone."""

        def same(got: Sequence[Pair], folded: tuple[str, ...], accented: tuple[str, ...]) -> bool:
            return len(got) == len(folded) and all(
                f == want and a in (f, acc)
                for (f, a), want, acc in zip(got, folded, accented, strict=True)
            )

        count = 0
        for i, (first, typed) in enumerate(pairs):
            for folded, accented in self._countries.get(first, ()):
                if not same(pairs[i : i + len(folded)], folded, accented):
                    continue
                if len(folded) == 1 and typed == first and accented[0] != first:
                    continue  # "bi" typed bare is not "Bỉ"
                if len(folded) > 1 or any(
                    i >= len(pf) and same(pairs[i - len(pf) : i], pf, pa)
                    for pf, pa in self._prefixes
                ):
                    count += 1
                    break
        return count

    def of_name(self, name: str) -> tuple[frozenset[str], frozenset[str]]:
        """The qualifiers a procedure name carries: those that set it apart, and those it
        only lists among others ("Cấp lại, đổi …": optional)."""
        required: set[str] = set()
        listed: set[str] = set()
        parts = _SEGMENT_RE.split(name)
        # parts alternate: text, separator, text, …
        for k in range(0, len(parts), 2):
            pairs = analyze(parts[k])
            before = parts[k - 1] if k > 0 else ""
            after = parts[k + 1] if k + 1 < len(parts) else ""
            for m in self._names.find(pairs):
                keys = {x.replace("-", "_") for x in m.entry.expansion.split()}
                in_list = (before == "," and m.start == 0) or (after == "," and m.end == len(pairs))
                for key in keys:
                    (listed if in_list and key in _ACTIONS else required).add(key)
        return frozenset(required), frozenset(listed - required)

    def said(self, pairs: Sequence[Pair], expanded: Sequence[str]) -> Counter[str]:
        """The qualifiers a question says, with how many ways it says each: in its words, or
        in the official wording the lexicon put in their place."""
        # "làm mất bao lâu" asks how long it takes: that "mất" loses nothing
        pairs = [
            ("", "")
            if f == "mat" and i + 1 < len(pairs) and pairs[i + 1][0] in COST_WORDS
            else (f, a)
            for i, (f, a) in enumerate(pairs)
        ]
        found = self._keys(self._cues, read_numbers(pairs))
        found.update(self._keys(self._names, [(f, f) for f in expanded]))
        found["nuoc_ngoai"] += self._foreign(pairs)
        # "con 5 tuổi", "bé 3 tháng": a child; "con trai 16 tuổi": not one.
        for i in range(len(pairs) - 1):
            number, unit = pairs[i][0], pairs[i + 1][0]
            if _AGE_RE.match(number) and unit == "tuoi":
                found[_CHILD] += 1 if int(number) < 14 else -100
            elif (
                _AGE_RE.match(number)
                and unit == "thang"
                and i + 2 < len(pairs)
                and pairs[i + 2][0] == "tuoi"
            ):
                found[_CHILD] += 1
        return found


class Families:
    """Specific name words, qualifiers and sibling lookups of the indexed procedures."""

    def __init__(
        self,
        records: Sequence[ProcedureRecord],
        qualifiers: Qualifiers,
        generic_share: float = 0.06,
    ) -> None:
        n = len(records)
        bigrams: list[tuple[str, ...]] = []
        unigrams: list[tuple[str, ...]] = []
        bigram_df: Counter[str] = Counter()
        word_df: Counter[str] = Counter()
        for rec in records:
            pairs = analyze(rec.name)
            keep = [
                not is_stop_word(f, a) and f.isalnum() and a not in _NOT_OBJECT for f, a in pairs
            ]
            bi = tuple(
                dict.fromkeys(
                    sys.intern(f"{pairs[i][0]} {pairs[i + 1][0]}")
                    for i in range(len(pairs) - 1)
                    if keep[i] and keep[i + 1]
                )
            )
            uni = tuple(dict.fromkeys(f for (f, _), k in zip(pairs, keep, strict=True) if k))
            bigrams.append(bi)
            bigram_df.update(bi)
            unigrams.append(uni)
            word_df.update(uni)
        # A two-syllable word many names use ("đăng ký", "giấy phép") says nothing of family;
        # a one-syllable object few names use ("rượu") does.
        cap = max(12, int(generic_share * n))
        word_cap = max(3, int(generic_share * n / 2))
        self.specific: list[frozenset[str]] = [
            frozenset(b for b in bi if bigram_df[b] <= cap)
            | frozenset(w for w in uni if word_df[w] <= word_cap)
            for bi, uni in zip(bigrams, unigrams, strict=True)
        ]
        self.qualifiers = qualifiers
        named = [qualifiers.of_name(rec.name) for rec in records]
        self.marks: list[frozenset[str]] = [required for required, _ in named]
        self.listed: list[frozenset[str]] = [listed for _, listed in named]

    def siblings(self, a: int, b: int) -> bool:
        """Whether procedures a and b are variants of one another: they share two specific
        words, or the one specific word the shorter name has ("khai sinh")."""
        if a == b:
            return False
        common = self.specific[a] & self.specific[b]
        shared = len(common)
        if shared >= 1 and shared >= min(2, len(self.specific[a]), len(self.specific[b])):
            return True
        # one rare object word is enough ("rượu": "Cấp Giấy phép bán lẻ rượu" and "Đăng ký
        # bán rượu tiêu dùng tại chỗ" say it in different words)
        return any(" " not in w and w.isalpha() for w in common)

    def fit(self, doc: int, said: Counter[str]) -> float:
        """How well a procedure's qualifiers match what the question says."""
        score = 0.0
        for key in self.marks[doc]:
            strength = said.get(key, 0)
            score += min(strength, 2) if strength > 0 else (-2.0 if strength < 0 else -1.0)
        for key in self.listed[doc]:
            score += 0.5 if said.get(key, 0) > 0 else 0.0
        return score

    def choose(
        self,
        ranked: Sequence[tuple[int, float]],
        said: Counter[str],
        window: float,
        plain_window: float,
    ) -> VariantChoice | None:
        """The sibling that should answer instead of the first of `ranked` (doc, rank), if any:
        the best-fitting among the first and its siblings ranked within `window` of it."""
        if not ranked:
            return None
        best, best_rank = ranked[0]
        pool = [
            (d, r)
            for d, r in ranked
            if d == best or (self.siblings(best, d) and best_rank - r <= window)
        ]
        order = {d: i for i, (d, _) in enumerate(pool)}
        ranks = dict(pool)
        fits = {d: self.fit(d, said) for d, _ in pool}
        best_keys = self.marks[best] | self.listed[best]
        for d in sorted(fits, key=lambda d: (-fits[d], len(self.marks[d]), order[d])):
            if d == best:
                return None
            # As good a fit wins only as the plainer variant of a best the question does not
            # name at all.
            if fits[d] < fits[best] or (
                fits[d] == fits[best]
                and (
                    len(self.marks[d]) >= len(self.marks[best])
                    or any(said.get(k, 0) > 0 for k in self.marks[best])
                )
            ):
                return None
            # A sibling wins on a qualifier the question says and the best lacks; otherwise
            # (a better fit, or as good with fewer qualifiers) only as the plainer variant, and
            # only if the ranking had it close.
            own = (self.marks[d] | self.listed[d]) - best_keys
            if fits[d] > fits[best] and any(said.get(k, 0) > 0 for k in own):
                return VariantChoice(d, "qualifier", best)
            # each qualifier of the best that the question does not say widens the window
            if best_rank - ranks[d] <= plain_window * (fits[d] - fits[best] or 0.5):
                return VariantChoice(d, "plain", best)
        return None

    def related(self, best: int, ranked: Sequence[int], limit: int) -> list[int]:
        """Siblings of `best` among `ranked` (best first), at most `limit`."""
        return [d for d in ranked if self.siblings(best, d)][:limit]
