"""Buttons under an answer: the runner-up nearly as sure as the answer is one of them."""

from __future__ import annotations

from dataclasses import replace

from knowledge.evaluation import shown_codes
from knowledge.examples import default_examples
from knowledge.lexicon import default_lexicon
from knowledge.lifeevents import default_life_events
from knowledge.sample import load_procedures_json
from knowledge.search import SearchConfig, SearchEngine


def test_a_close_runner_up_is_a_button_under_the_answer() -> None:
    records, lexicon, events = load_procedures_json(), default_lexicon(), default_life_events()
    examples = default_examples()
    engine = SearchEngine(records, lexicon, events=events, examples=examples)
    without = SearchEngine(
        records,
        lexicon,
        replace(SearchConfig(), rival_button=1.1),
        events=events,
        examples=examples,
    )
    # written here: two papers lost at once; the answer is one reading, the other stays a tap away
    question = "mất giấy khai sinh và cả căn cước"
    response = engine.search(question)
    assert response.best is not None
    runner_up = response.hits[1].code
    assert runner_up in shown_codes(response)
    assert runner_up not in shown_codes(without.search(question))
