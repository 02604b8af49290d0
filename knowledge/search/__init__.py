"""Procedure search that understands how Vietnamese people type their questions.

Pipeline for one query:

1. `normalize.analyze`: NFKC, tone placement by rule (hoà → hòa), lowercase, i/y spelling,
   syllables, chat abbreviations (ko, dc, cccd…); each syllable keeps accented + folded forms.
2. Repair before matching: raw Telex/VNI keystrokes ("ddawng kys"), held-down letters
   ("sinnhh"), and one-letter slips or oddly accented syllables that a neighbour confirms
   ("tma vắng", "cắt kẩu").
3. Asides (channel, duration, cost: "trên VNeID", "mất bao lâu") are set aside; the lexicon
   turns colloquial phrases into official wording ("sổ đỏ" → "giấy chứng nhận quyền sử dụng
   đất"); question filler ("cho tôi hỏi", "ở đâu", "cần giấy tờ gì") is dropped, unless a
   filler-looking bare syllable forms a known word with its neighbour ("can cuoc" = căn cước).
4. Remaining unknown syllables get spelling alternatives from the index vocabulary (edit
   distance 1 or a dialect sound-alike: ch/tr, s/x, n/ng…), preferring ones that form a known
   two-syllable word with a neighbour.
5. Field-weighted BM25 (BM25F) over folded unigrams and bigrams, plus a small bonus for the
   accented form the user typed, picks candidates from an inverted index within a postings
   budget; the best are then scored exactly.
6. Each candidate gets interpretable features — the share of one of its name/keyword phrases
   the query says, the idf-weighted share of the query it covers, the share of the query's
   two-syllable words it contains, the share of its name said, and its BM25F — combined by a
   logistic model into a confidence in 0..1. Below `SearchConfig.abstain_below` the engine
   abstains; the hits are still returned as "did you mean" suggestions.

A procedure code typed in the question ("1.001193") is answered directly. The engine is
immutable after construction, so one instance can serve concurrent readers.

Example phrases (`knowledge.examples`) add a field to the index, a naive Bayes posterior among
the candidates (`nearest`) and a logistic regression's probability (`model`) to the ranking,
and out-of-scope phrases a model that makes the engine abstain and name the channel
(`SearchResponse.scope`); the closest phrase to the question is shown by `explain`.

The stages live in submodules: `config` (what the engine returns and its tunable weights),
`fillers` (filler, aside and light words), `index` (postings, idf, vocabulary), `query` (steps
1-4), `rank` (steps 5-6), `nearest` (the example phrases), `model` (their logistic
regression), `scope` (out of scope by the phrases) and `engine` (`SearchEngine`, which ties
them together).
"""

from knowledge.search.config import SearchConfig, SearchHit, SearchResponse
from knowledge.search.engine import SearchEngine

__all__ = [
    "SearchConfig",
    "SearchEngine",
    "SearchHit",
    "SearchResponse",
]
