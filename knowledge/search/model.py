"""A discriminative model of the example phrases: multinomial logistic regression over words.

Naive Bayes (`search.nearest`) counts each procedure's words on their own; a word every
procedure's phrases use ("làm", "giấy") still weighs by how often each one says it. Logistic
regression learns instead which words tell one procedure from the others: trained on every
phrase of the procedures that have phrases, and on their names and keywords, it weighs "khai
sinh" against "khai tử", and "nước ngoài" between the two birth registrations, from what the
phrases say. Cross-validated over the phrases (`benchmarks/cv_examples.py`), as a classifier by
itself it names the right procedure first 88% of the time, naive Bayes 80%.

Features are the folded syllables and two-syllable words of the text (filler included: "mất
rồi" and "bị mất" are different situations), each phrase an L2-normalised binary vector.
Training is mini-batch softmax gradient descent in numpy (a few epochs, fixed seed: the same
phrases give the same model), a few tenths of a second for two thousand phrases. The classes
are only the procedures with phrases, so a KB of 10,000 procedures costs what its phrases cost.

A question costs one row lookup per known word and a softmax over the classes; `explain`
names the words that speak most for a procedure.
"""

from __future__ import annotations

import math
import struct
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from knowledge.lexicon import Pair
from knowledge.normalize import analyze

if TYPE_CHECKING:
    import numpy as np

__all__ = ["PhraseModel", "model_features"]

_EPOCHS = 2
_BATCH = 128
_RATE = 6.0  # learning rate of the first epoch; each later epoch's is 0.7 of the one before
_DECAY = 0.7
_SEED = 11


def model_features(pairs: Sequence[Pair]) -> list[str]:
    """The folded syllables, numbers and two-syllable words of analysed text ("lop 6" is
    not "lop 2")."""
    words = [f for f, _ in pairs if f.isalnum()]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


class PhraseModel:
    """Softmax regression: document (of those with phrases) given the question's words."""

    def __init__(
        self,
        by_doc: Mapping[int, Sequence[str]],
        names: Mapping[int, Sequence[str]],
        out_of_scope: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """`by_doc`: document → its example phrases; `names`: document → its name and
        keywords (training texts too, for the documents that have phrases); `out_of_scope`:
        category → phrases, one class each (their probability is what is not in scope)."""
        import numpy as np  # here: commands that never build an index do not pay its import

        docs = sorted(d for d, phrases in by_doc.items() if phrases)
        self.docs = tuple(docs)
        self._column = {d: i for i, d in enumerate(docs)}
        categories = {c: p for c, p in (out_of_scope or {}).items() if p}
        self.categories = tuple(categories)
        self.vocab: dict[str, int] = {}
        classes = len(docs) + len(categories)
        self._width = classes
        self._row = f"<{classes}e"  # one feature's weights, half precision (struct format)
        self._weights = b""
        self._least = 1.0
        if len(docs) < 2:
            return
        rows: list[np.ndarray] = []
        labels: list[int] = []
        vocab = self.vocab
        texts: list[tuple[int, Sequence[str]]] = [
            (self._column[d], (*by_doc[d], *names.get(d, ()))) for d in docs
        ]
        texts += [(len(docs) + i, p) for i, p in enumerate(categories.values())]
        for label, group in texts:
            for text in group:
                feats = model_features(analyze(text))
                ids = sorted({vocab.setdefault(f, len(vocab)) for f in feats})
                if ids:
                    rows.append(np.array(ids, np.int32))
                    labels.append(label)
        # Kept in half precision, as bytes: a weight's 3 significant digits are what the ranking
        # uses, the model is then half the memory and half the kept index (search/cache.py),
        # and a question reads its words' rows without numpy (whose import was a tenth of a
        # second of every start that loads a kept index).
        weights = _train(rows, np.array(labels), len(vocab), classes)
        self._weights = weights.astype("<f2").tobytes()
        # A question is scaled like a training text of at least the median length: a word or
        # two ("hộ chiếu") is little evidence, and the model must not be sure of it.
        self._least = float(np.median([len(r) for r in rows]))

    def __bool__(self) -> bool:
        return bool(self.vocab)

    def _known(self, words: Sequence[str]) -> list[int]:
        get = self.vocab.get
        return sorted({i for w in words if (i := get(w)) is not None})

    def weights(self, feature: int) -> tuple[float, ...]:
        """One feature's weight for each class (the documents', then the categories')."""
        return struct.unpack_from(self._row, self._weights, feature * 2 * self._width)

    def probabilities(self, words: Sequence[str]) -> tuple[dict[int, float], dict[str, float]]:
        """P(document | the question's words) over the documents with phrases, and of each
        out-of-scope category ({}, {} when the model knows none of the words)."""
        ids = self._known(words)
        if not ids:
            return {}, {}
        # The rows of the question's words summed class by class (a few dozen rows of a few
        # hundred classes). Each sum is exact, whichever way it is made: every half is a
        # multiple of 2**-24 below 2**16, so the sum of fewer than 2**13 of them, and every
        # partial sum, fits a double's 53 bits whatever the order — `math.fsum` gives the same.
        # In numpy when the ranking has imported it (half the time); without it, so that a kept
        # index is asked without importing numpy (a tenth of a second of a start).
        np = sys.modules.get("numpy")
        if np is not None:
            table = np.frombuffer(self._weights, dtype="<f2").reshape(-1, self._width)
            sums: list[float] = table[ids].astype(np.float64).sum(axis=0).tolist()
        else:
            sums = [math.fsum(column) for column in zip(*map(self.weights, ids), strict=True)]
        scale = 1.0 / math.sqrt(max(len(ids), self._least))
        top = max(sums)
        exps = [math.exp((v - top) * scale) for v in sums]
        total = sum(exps)
        probs = [v / total for v in exps]
        n = len(self.docs)
        return dict(zip(self.docs, probs[:n], strict=True)), dict(
            zip(self.categories, probs[n:], strict=True)
        )

    def explain(self, words: Sequence[str], doc: int, top: int = 3) -> list[tuple[str, float]]:
        """The question's words that speak most for `doc` (their weights), strongest first."""
        column = self._column.get(doc)
        if column is None:
            return []
        get = self.vocab.get
        said = {
            w: self.weights(i)[column] for w in dict.fromkeys(words) if (i := get(w)) is not None
        }
        best = sorted(said.items(), key=lambda kv: -kv[1])[:top]
        return [(w, round(float(v), 2)) for w, v in best if v > 0]


def _train(rows: list[np.ndarray], labels: np.ndarray, features: int, classes: int) -> np.ndarray:
    """Weights (features × classes) of a softmax regression over L2-normalised binary rows,
    by mini-batch gradient descent (cross-entropy, no regularisation beyond early stopping)."""
    import numpy as np

    counts = np.array([len(r) for r in rows])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    columns = np.concatenate(rows)
    scale = (1.0 / np.sqrt(counts)).astype(np.float32)
    weights = np.zeros((features, classes), np.float32)
    rng = np.random.default_rng(_SEED)
    rate = _RATE
    n = len(rows)
    for _ in range(_EPOCHS):
        order = rng.permutation(n)
        for lo in range(0, n, _BATCH):
            batch = order[lo : lo + _BATCH]
            lengths = counts[batch]
            offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
            # the batch's feature ids, row after row
            at = np.repeat(starts[batch] - offsets, lengths) + np.arange(lengths.sum())
            cols = columns[at]
            row_of = np.repeat(np.arange(len(batch)), lengths)
            logits = np.add.reduceat(weights[cols], offsets, axis=0) * scale[batch, None]
            logits -= logits.max(axis=1, keepdims=True)
            probs = np.exp(logits)
            probs /= probs.sum(axis=1, keepdims=True)
            probs[np.arange(len(batch)), labels[batch]] -= 1.0  # the gradient of the loss
            probs *= (-rate * scale[batch])[:, None]
            # each feature's update summed over the rows that have it
            sort = np.argsort(cols, kind="stable")
            ordered = cols[sort]
            first = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
            weights[ordered[first]] += np.add.reduceat(probs[row_of[sort]], first, axis=0)
        rate *= _DECAY
    return weights
