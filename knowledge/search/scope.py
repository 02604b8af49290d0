"""Is a question for this knowledge base at all? A small naive Bayes model over the example
phrases (`knowledge.examples`): the procedures' phrases (and their names and keywords) make the
"in scope" class, each out-of-scope pseudo-code (`OOS:status`, `OOS:complaint`, `OOS:legal`,
`OOS:other`) a class of its own.

Features are the folded syllables and two-syllable words of the message as typed, filler
included: "nộp 3 tháng rồi mà chưa có" says a dossier is late through words a procedure's
name never holds. A message's score for a class is the mean log-likelihood ratio of its known
features against "in scope"; the engine abstains when the best out-of-scope class leads by
`SearchConfig.oos_lead` (calibrated on the development sets) and points to that class's
channel. Scoring costs one dictionary lookup per feature, whatever the size of the KB.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from knowledge.lexicon import Pair
from knowledge.normalize import analyze

__all__ = ["ScopeModel", "features"]

IN_SCOPE = ""
_ALPHA = 0.1  # additive smoothing (calibrated with `SearchConfig.oos_lead`)


def features(pairs: Sequence[Pair]) -> list[str]:
    """The folded syllables and two-syllable words of analysed text (words only), filler
    included: "chưa có", "nộp rồi", "ai đúng" tell what a message is."""
    words = [f for f, _ in pairs if f.isalpha()]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


class ScopeModel:
    """Multinomial naive Bayes: in scope against each out-of-scope category."""

    def __init__(
        self,
        in_scope: Iterable[str],
        out_of_scope: Mapping[str, Sequence[str]],
        extra_in_scope: Iterable[Sequence[str]] = (),
    ) -> None:
        """`in_scope`: procedures' example phrases; `out_of_scope`: category → phrases;
        `extra_in_scope`: feature lists known to be in scope (names and keywords)."""
        counts: dict[str, Counter[str]] = {IN_SCOPE: Counter()}
        for phrase in in_scope:
            counts[IN_SCOPE].update(features(analyze(phrase)))
        formal: Counter[str] = Counter()
        for feats in extra_in_scope:
            formal.update(feats)
        for category, phrases in out_of_scope.items():
            bucket = counts.setdefault(category, Counter())
            for phrase in phrases:
                bucket.update(features(analyze(phrase)))
        self.categories = tuple(c for c in counts if c != IN_SCOPE and counts[c])
        self._ratio: dict[str, tuple[float, ...]] = {}
        if not self.categories:
            return
        # The words of the phrases: the names of a big KB must not change how much smoothing
        # an unseen word gets (their counts are kept for these words only).
        vocab = set().union(*(set(c) for c in counts.values()))
        formal = Counter({f: n for f, n in formal.items() if f in vocab})
        size = len(vocab) or 1

        def prob(c: Counter[str]) -> dict[str, float]:
            total = sum(c.values()) + _ALPHA * size
            return {f: (c[f] + _ALPHA) / total for f in vocab}

        # "In scope" is how citizens ask (the phrases) and what procedures are called (names
        # and keywords) in equal parts, so that a KB of 10,000 names does not drown the
        # asking words of a few thousand phrases.
        inside = prob(counts[IN_SCOPE])
        if formal:
            names = prob(formal)
            inside = {f: (p + names[f]) / 2 for f, p in inside.items()}
        outside = [prob(counts[c]) for c in self.categories]
        # per feature: log P(f | category) - log P(f | in scope), for each category
        self._ratio = {
            f: tuple(math.log(o[f]) - math.log(inside[f]) for o in outside) for f in vocab
        }

    def __bool__(self) -> bool:
        return bool(self.categories)

    def judge(self, pairs: Sequence[Pair], least: int = 1) -> tuple[str, float]:
        """The likeliest out-of-scope category for the message, and its mean log-likelihood
        ratio against "in scope" over the message's known features ("", 0.0 when fewer than
        `least`: a word or two is too little to tell)."""
        ratio = self._ratio
        known = [ratio[f] for f in features(pairs) if f in ratio]
        if len(known) < max(1, least) or not self.categories:
            return "", 0.0
        sums = [sum(col) / len(known) for col in zip(*known, strict=True)]
        best = max(range(len(sums)), key=sums.__getitem__)
        return self.categories[best], sums[best]
