"""What the README says of the default China demo's size is what the demo builds."""

from __future__ import annotations

from pathlib import Path

from socialcredit.demo.china import DEFAULT_SUBJECTS
from socialcredit.sim.population import PopulationSpec, generate_jsonl

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_gives_the_default_demo_population_and_records() -> None:
    records = sum(r for _, _, r in generate_jsonl(PopulationSpec(subjects=DEFAULT_SUBJECTS)))
    line = next(x for x in README.read_text(encoding="utf-8").splitlines() if "./dev demo" in x)
    assert f"({DEFAULT_SUBJECTS:,} subjects, {records:,} records)" in line
