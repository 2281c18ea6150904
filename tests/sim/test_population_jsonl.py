"""The demo writes its population as text made directly (``generate_jsonl``): the same bytes
as each entry of ``generate`` written by orjson, and the counts it gives are true."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.sim.population import PopulationSpec, generate, generate_jsonl


@settings(max_examples=25, deadline=None)
@given(
    subjects=st.integers(1, 600),
    seed=st.integers(0, 2**32 - 1),
    block=st.integers(1, 5_000),
)
def test_the_text_is_what_orjson_writes_of_every_entry(
    subjects: int, seed: int, block: int
) -> None:
    spec = PopulationSpec(subjects=subjects, seed=seed)
    entries = list(generate(spec))
    blocks = list(generate_jsonl(spec, block))
    assert b"".join(text for text, _, _ in blocks) == b"".join(
        orjson.dumps(e) + b"\n" for e in entries
    )
    for text, lines, records in blocks:
        assert 0 < lines <= block and text.count(b"\n") == lines
        decoded = [orjson.loads(line) for line in text.splitlines()]
        assert records == sum("kind" not in e for e in decoded)
    assert sum(lines for _, lines, _ in blocks) == len(entries)


def test_every_kind_of_entry_is_covered() -> None:
    # the property above compares every kind of line the generator writes, amounts and
    # evidence included (a population large enough to have each)
    spec = PopulationSpec(subjects=3_000, seed=7)
    text = b"".join(t for t, _, _ in generate_jsonl(spec))
    assert text == b"".join(orjson.dumps(e) + b"\n" for e in generate(spec))
    kinds = {orjson.loads(line).get("kind", "record") for line in text.splitlines()}
    assert kinds == {"relation", "attribute", "record", "dispute", "annul", "uphold", "resolve"}
    assert b'"amount":' in text and b'"evidence":"enforcement case ' in text
