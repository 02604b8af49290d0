"""`SearchEngine`: the records, their index, and the answer to one question."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from knowledge.lexicon import Lexicon
from knowledge.records import ProcedureRecord
from knowledge.search.config import SearchConfig, SearchHit, SearchResponse
from knowledge.search.index import Index
from knowledge.search.query import parse
from knowledge.search.rank import Scored, rank

__all__ = ["SearchEngine"]

_CODE_RE = re.compile(r"(?<![\d.])\d\.\d{6}(?!\.?\d)")  # procedure code: 1.001193


class SearchEngine:
    """BM25F + lexicon + typo-tolerant search over procedure records (immutable)."""

    def __init__(
        self,
        records: Iterable[ProcedureRecord],
        lexicon: Lexicon | None = None,
        config: SearchConfig | None = None,
    ) -> None:
        """Index `records` (a repeated code replaces the earlier); no lexicon means none used."""
        self.config = config or SearchConfig()
        self.lexicon = lexicon if lexicon is not None else Lexicon()
        unique: dict[str, ProcedureRecord] = {}
        for rec in records:
            unique.pop(rec.code, None)
            unique[rec.code] = rec
        self._records: tuple[ProcedureRecord, ...] = tuple(unique.values())
        self._by_code = {rec.code: i for i, rec in enumerate(self._records)}
        self._index = Index(self._records, self.lexicon, self.config)

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    @property
    def records(self) -> tuple[ProcedureRecord, ...]:
        """The indexed records, in index order."""
        return self._records

    def get(self, code: str) -> ProcedureRecord | None:
        """Return the record with procedure code `code`, or None."""
        i = self._by_code.get(code)
        return None if i is None else self._records[i]

    def search(self, query: str, limit: int = 5) -> SearchResponse:
        """Rank procedures for `query`; abstain when no procedure answers it confidently."""
        scored = self._search(query)
        hits: list[SearchHit] = []
        ceiling = 1.0
        for r in scored[: max(0, limit)]:
            # scores never increase down the list, so the display order reads naturally
            ceiling = min(ceiling, r.confidence)
            rec = self._records[r.doc]
            hits.append(SearchHit(code=rec.code, name=rec.name, score=round(ceiling, 4)))
        abstained = not scored or scored[0].confidence < self.config.abstain_below
        return SearchResponse(query=query, abstained=abstained, hits=hits)

    def explain(self, query: str, limit: int = 5) -> dict[str, object]:
        """Debugging aid: the parsed query and the features of the best candidates."""
        q = parse(query, self._index)
        scored = rank(q, self._index) if q.terms else []
        return {
            "units": [
                (
                    [[(t, round(w, 2)) for t, w in form] for form in u.forms][:1],
                    round(u.weight, 2),
                    u.words,
                )
                for u in q.units
            ],
            "top": [
                {
                    "code": self._records[r.doc].code,
                    "name": self._records[r.doc].name[:50],
                    "conf": round(r.confidence, 3),
                    "rank": round(r.rank, 3),
                    **{k: round(v, 3) for k, v in r.features.items()},
                }
                for r in scored[:limit]
            ],
        }

    def _search(self, query: str) -> list[Scored]:
        if not self._records:
            return []
        q = parse(query, self._index)
        scored = rank(q, self._index) if q.terms else []
        # A procedure code typed in the question (officials do: "thủ tục 1.001193") is the
        # answer, whatever the words around it say.
        typed = _CODE_RE.findall(query[: self.config.max_query_chars])
        coded = list(dict.fromkeys(self._by_code[c] for c in typed if c in self._by_code))
        if coded:
            rest = [r for r in scored if r.doc not in coded]
            scored = [Scored(d, 1.0, math.inf, {}) for d in coded] + rest
        return scored
