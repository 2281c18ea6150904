"""The engine on the systems of issue 11, through a real ledger: one subject's answer
(``standing``, ``check``, ``explain``) equals its row of everyone's (``recompute``) at every
time asked, for a ranking (every candidate is read) and for friends' scores (the related
subjects are read); and an answer about a past term does not change when later ratings
arrive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from socialcredit.engine import Engine
from socialcredit.examples import example_policy
from socialcredit.ledger import IngestRules, Ledger
from socialcredit.policy import load_policy
from socialcredit.timeutil import parse_timestamp

NOW = parse_timestamp("2026-11-20")


def _ledger(tmp_path: Path, name: str, entries: list[dict[str, Any]]) -> Ledger:
    loaded = load_policy(example_policy(name))
    ledger = Ledger.open(str(tmp_path / "l.db"))
    ledger.upgrade()
    ledger.activate_policy(
        loaded.text,
        loaded.policy.policy,
        loaded.policy.version,
        loaded.content_hash,
        parse_timestamp("2024-01-01"),
        "test",
        now=NOW,
        backfill=True,
    )
    result = ledger.ingest_entries(
        entries, rules=IngestRules.from_policy(loaded.policy), now=NOW, backfill=True
    )
    assert result.rejected == 0, result.problems
    return ledger


def _rating(n: int, citizen: str, candidate: str, value: float, when: str) -> dict[str, Any]:
    return {
        "id": f"r{n}",
        "source": citizen,
        "subject": candidate,
        "type": "candidate_rating",
        "occurred_at": when,
        "recorded_at": when,
        "amount": value,
    }


def _election() -> list[dict[str, Any]]:
    out = []
    for k, cand in enumerate(["K1", "K2", "K3", "K4"]):
        for c in range(3 + k):
            out.append(_rating(len(out), f"c{c}", cand, 1 + (c + k) % 5, "2025-04-01"))
            out.append(_rating(len(out), f"c{c}", cand, 5 - (c + k) % 5, "2026-04-01"))
    return out


@pytest.mark.parametrize("at", ["2025-06-01", "2026-02-01", "2026-11-01", "2027-02-01"])
def test_one_candidate_equals_the_bulk_answer_at_every_time(tmp_path: Path, at: str) -> None:
    with _ledger(tmp_path, "electoral-credit", _election()) as ledger:
        engine = Engine.open(ledger, lambda: NOW)
        t = parse_timestamp(at)
        bulk = engine.recompute(t)
        for i, name in enumerate(bulk.subjects):
            single = engine.standing(name, t)
            assert single.score == pytest.approx(float(bulk.score[i]))
            assert ("seated" in [m.name for m in single.lists]) == bool(bulk.lists[0, i])
            decision = engine.check(name, "parliament_seat", t)
            assert bool(decision.benefits) == bool(bulk.measures[0, i])
            # the seat is granted: whoever no benefit gives it to is denied it, in bulk too
            seated = bool(bulk.measures[0, i])
            assert decision.decision == ("allow" if seated else "deny")
            assert decision.reasons == ([] if seated else ["NOT-GRANTED"])
            assert bool(bulk.denied_on("parliament_seat")[i]) == (not seated)


def test_the_index_and_the_engine_deny_a_seat_nobody_gave(tmp_path: Path) -> None:
    from socialcredit.enforcement_index import EnforcementIndex

    with _ledger(tmp_path, "electoral-credit", _election()) as ledger:
        engine = Engine.open(ledger, lambda: NOW)
        index = EnforcementIndex.build(engine)
        names = ["K1", "K2", "K3", "K4", "a stranger"]
        answers = {
            n: (index.check(n, "parliament_seat").decision, engine.check(n, "parliament_seat"))
            for n in names
        }
        for name, (from_index, decision) in answers.items():
            assert from_index == decision.decision, name
        for name, (_, decision) in answers.items():  # allowed exactly when given a seat
            assert (decision.decision == "allow") == bool(decision.benefits), name
        stranger = answers["a stranger"][1]
        assert (stranger.decision, stranger.reasons, stranger.known) == (
            "deny",
            ["NOT-GRANTED"],
            False,
        )


def test_an_answer_about_a_past_term_is_unchanged_by_later_ratings(tmp_path: Path) -> None:
    with _ledger(tmp_path, "electoral-credit", _election()) as ledger:
        engine = Engine.open(ledger, lambda: NOW)
        t = parse_timestamp("2026-02-01")
        before = {n: engine.standing(n, t).score for n in ("K1", "K2", "K3", "K4")}
        late = [_rating(900 + i, f"z{i}", "K1", 5, "2025-12-30") for i in range(30)]
        ledger.ingest_entries(late, now=NOW + 60)  # received now: after the 2026 boundary
        after = {n: engine.standing(n, t).score for n in ("K1", "K2", "K3", "K4")}
        assert after == before


def _sesame() -> list[dict[str, Any]]:
    def rec(n: int, subject: str, type_: str) -> dict[str, Any]:
        return {
            "id": f"e{n}",
            "source": "ant",
            "subject": subject,
            "type": type_,
            "occurred_at": "2025-03-10",
            "recorded_at": "2025-03-10",
        }

    out = [rec(i, "P1", "loan_repaid_on_time") for i in range(3)]
    out += [rec(10 + i, "P2", "identity_verified") for i in range(2)]
    out.append(
        {
            "kind": "relation",
            "id": "f1",
            "source": "ant",
            "subject": "P1",
            "relation": "friend_of",
            "related_subject": "P2",
            "valid_from": "2025-03-10",
            "recorded_at": "2025-03-10",
        }
    )
    return out


@pytest.mark.parametrize("at", ["2025-03-20", "2025-04-02", "2026-11-01"])
def test_friends_scores_give_the_same_answer_alone_and_in_bulk(tmp_path: Path, at: str) -> None:
    with _ledger(tmp_path, "sesame-style", _sesame()) as ledger:
        engine = Engine.open(ledger, lambda: NOW)
        t = parse_timestamp(at)
        bulk = engine.recompute(t)
        for i, name in enumerate(bulk.subjects):
            assert engine.standing(name, t).score == pytest.approx(float(bulk.score[i]))
        if at == "2025-04-02":
            # P2 (two identity checks: 200 + 300 = 500, capped at 600): own score
            # 350 + 70 + 40 + 50 + 75 + 10 = 595; P1's friend dimension: 595 - 350 = 245
            assert engine.standing("P2", t).score == pytest.approx(595)
            p1 = engine.standing("P1", t)
            assert p1.score == pytest.approx(350 + 0.35 * 230 + 40 + 50 + 30 + 0.05 * 245)
