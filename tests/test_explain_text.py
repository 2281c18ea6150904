"""The sentences of an explanation, built from hand-made parts and checked word for word.

``plain_text`` is pure: each test gives it a standing, a decision, reasons and records, and
compares the sentences with ones written by hand from the rules of TEST_POLICY (appeal window
and reinvestigation deadline 30 days, disputed records do not count, 3-day delisting delay).
"""

from __future__ import annotations

from typing import Any

from socialcredit.enforcement import Decision
from socialcredit.explain import Action, Reason, Step
from socialcredit.explain_text import plain_text, step_description
from socialcredit.policy import CompiledPolicy, compile_policy, parse_policy
from socialcredit.scoring import Measure, RecordLine, Standing
from socialcredit.timeutil import parse_timestamp
from tests.conftest import TEST_POLICY

T = parse_timestamp("2026-06-10")


def _line(rid: str, rtype: str, occurred: str, **kw: Any) -> RecordLine:
    fields: dict[str, Any] = {
        "row": 0,
        "source": "court",
        "id": rid,
        "type": rtype,
        "occurred_at": parse_timestamp(occurred),
        "recorded_at": parse_timestamp(occurred),
        "points": -100.0,
        "contribution": -100.0,
        "status": "counts",
        "expires_at": None,
        "resolved_at": None,
        "disputed_at": None,
        "rectified": False,
        "amount": None,
    }
    fields.update(kw)
    return RecordLine(**fields)


def _standing(subject: str = "P1", breakdown: list[RecordLine] | None = None) -> Standing:
    return Standing(
        subject=subject,
        kind="person",
        at=T,
        policy_version="test-policy@1",
        policy_hash="0" * 64,
        score=900.0,
        grade="B",
        lists=[],
        measures=[],
        breakdown=breakdown or [],
    )


def _decision(service: str, decision: str = "deny", reasons: list[str] | None = None) -> Decision:
    return Decision(
        subject="P1",
        service=service,
        at=T,
        decision=decision,
        reasons=reasons if reasons is not None else (["DEBTOR"] if decision == "deny" else []),
        eligible_again_on="2027-01-01" if decision == "deny" else None,
        indefinite=False,
        benefits=[],
        policy_version="test-policy@1",
    )


def _reason(conditions: list[dict[str, Any]], **kw: Any) -> Reason:
    fields: dict[str, Any] = {
        "measure": "no_flights",
        "reason_code": "DEBTOR",
        "lists": [c["name"] for c in conditions if c["kind"] == "list"],
        "records": [r for c in conditions for r in c["records"]],
        "conditions": conditions,
        "since": "2025-06-14",
        "until": None,
        "via_relation": None,
        "via_subject": None,
        "via_kind": None,
        "legal_basis": "",
        "trigger_ended": None,
    }
    fields.update(kw)
    return Reason(**fields)


def _text(
    policy: CompiledPolicy,
    service: str,
    reasons: list[Reason],
    lines: list[RecordLine],
    *,
    decision: str = "deny",
    best: Action | None = None,
    ended: list[Measure] | None = None,
    subject: str = "P1",
    t: int = T,
) -> list[str]:
    st = _standing(subject, lines)
    behind = [(subject, x) for x in lines]  # (whom the record is about, record)
    text = plain_text(
        policy, st, _decision(service, decision), reasons, behind, best, ended or [], t
    )
    return text.splitlines()


OLD = {"appeal": "2026-01-01"}  # recorded long before T: every dispute window is closed


def test_records_named_are_said_to_keep_the_measure_in_force_not_to_have_started_it(
    policy: CompiledPolicy,
) -> None:
    # the listing began 2025-06-14 with a record that is not behind it any more; the two
    # records named came later and keep it in force now
    c2 = _line("court-2", "debt", "2026-05-06", recorded_at=parse_timestamp("2026-01-01"))
    c1 = _line("court-1", "debt", "2026-05-29", recorded_at=parse_timestamp("2026-01-01"))
    cond = {"kind": "list", "name": "debtors", "records": ["court/court-2", "court/court-1"]}
    lines = _text(policy, "air_travel", [_reason([cond])], [c2, c1])
    assert (
        "- You are on the list debtors because of records court/court-2 (debt, 2026-05-06) "
        "and court/court-1 (debt, 2026-05-29). Those records keep the measure in force now; "
        "it has applied without a break since 2025-06-14 (reason code DEBTOR)."
    ) in lines
    assert not any("This applies since" in x for x in lines)


def test_one_record_keeps_it_in_force(policy: CompiledPolicy) -> None:
    d1 = _line("d1", "debt", "2025-06-14", recorded_at=parse_timestamp("2026-01-01"))
    cond = {"kind": "list", "name": "debtors", "records": ["court/d1"]}
    lines = _text(policy, "air_travel", [_reason([cond])], [d1])
    assert (
        "- You are on the list debtors because of record court/d1 (debt, 2025-06-14). That "
        "record keeps the measure in force now; it has applied without a break since "
        "2025-06-14 (reason code DEBTOR)."
    ) in lines


def test_an_ended_measure_is_worded_per_measure_and_does_not_claim_the_service_is_open(
    policy: CompiledPolicy,
) -> None:
    ended = Measure(
        name="rail_ban",
        service="rail",
        effect="deny",
        reason_code="RAIL",
        since=parse_timestamp("2025-06-03"),
        until=parse_timestamp("2025-11-04"),
        lists=[],
    )
    cond = {"kind": "list", "name": "troublemakers", "records": []}
    reason = _reason([cond], measure="other_rail_ban", reason_code="RAIL2")
    lines = _text(policy, "rail", [reason], [], ended=[ended])
    assert (
        "A measure (reason code RAIL) under which you could not use rail from 2025-06-03 "
        "until 2025-11-04 has ended."
    ) in lines
    assert "You cannot use rail." in lines
    assert not any("that has ended" in x or x.startswith("You may") for x in lines)


def test_a_resolution_is_dated_by_when_it_was_recorded(policy: CompiledPolicy) -> None:
    # resolved (known to the ledger) 2026-06-09: the 3-day delay runs until 2026-06-12
    c4 = _line(
        "c4",
        "debt",
        "2025-01-01",
        recorded_at=parse_timestamp("2025-01-01"),
        resolved_at=parse_timestamp("2026-06-09"),
    )
    cond = {"kind": "list", "name": "debtors", "records": ["court/c4"]}
    lines = _text(policy, "air_travel", [_reason([cond])], [c4])
    assert (
        "The resolution of record court/c4 was recorded on 2026-06-09; under the policy's "
        "3-day delisting delay the record counts for the list debtors until 2026-06-12."
    ) in lines
    assert not any("was resolved on" in x for x in lines)


def test_dispute_deadline_is_said_only_when_a_dispute_is_possible_or_pending(
    policy: CompiledPolicy,
) -> None:
    deadline = "A dispute must be decided within 30 days; the record does not count meanwhile."
    cond = {"kind": "list", "name": "debtors", "records": ["court/a"]}
    closed = _line("a", "debt", "2026-01-01")
    lines = _text(policy, "air_travel", [_reason([cond])], [closed])
    assert "The window to dispute record court/a closed on 2026-01-31." in lines
    assert deadline not in lines
    late = _line("a", "debt", "2026-01-01", dispute_late_at=parse_timestamp("2026-03-01"))
    lines = _text(policy, "air_travel", [_reason([cond])], [late])
    assert deadline not in lines
    # recorded 2026-06-01: the window is open until 2026-07-01
    open_ = _line("a", "debt", "2026-06-01")
    lines = _text(policy, "air_travel", [_reason([cond])], [open_])
    assert "Record court/a may be disputed until 2026-07-01." in lines and deadline in lines
    pending = _line("a", "debt", "2026-01-01", disputed_at=parse_timestamp("2026-06-05"))
    lines = _text(policy, "air_travel", [_reason([cond])], [pending])
    assert deadline in lines


def test_sooner_names_whose_records_in_words(policy: CompiledPolicy) -> None:
    mine = _line("a", "debt", "2026-01-01")
    theirs = _line("b", "debt", "2026-01-01")
    best = Action(
        steps=[
            Step("resolve", "court/a", "debt", "P1", "resolve record court/a"),
            Step("resolve", "court/b", "debt", "O2", "resolve record court/b"),
        ],
        eligible_again_on="2026-06-13",
        indefinite=False,
    )
    cond = {"kind": "list", "name": "debtors", "records": ["court/a"]}
    lines = _text(policy, "air_travel", [_reason([cond])], [mine, theirs], best=best)
    assert (
        "Sooner, with records about you and about O2: resolve record court/a; and resolve "
        "record court/b. You could then use air travel again on 2026-06-13."
    ) in lines
    best_own = Action(steps=best.steps[:1], eligible_again_on="2026-06-13", indefinite=False)
    lines = _text(policy, "air_travel", [_reason([cond])], [mine], best=best_own)
    assert (
        "Sooner: resolve record court/a. You could then use air travel again on 2026-06-13."
    ) in lines


def test_a_fixed_term_measure_says_because_once(policy: CompiledPolicy) -> None:
    m = _line("m", "misconduct", "2026-05-01")
    cond = {"kind": "list", "name": "troublemakers", "records": ["court/m"], "ended": "2026-06-01"}
    reason = _reason(
        [cond],
        measure="rail_ban",
        reason_code="RAIL",
        since="2026-05-20",
        until="2026-06-19",
        trigger_ended="2026-06-01",
    )
    lines = _text(policy, "rail", [reason], [m])
    (sentence,) = [x for x in lines if x.startswith("- ")]
    assert sentence.count("because") == 1
    assert sentence == (
        "- A fixed-term measure began while you were on the list troublemakers because of "
        "record court/m (misconduct, 2026-05-01); that listing ended on 2026-06-01, but the "
        "measure runs from 2026-05-20 until 2026-06-19 regardless (reason code RAIL)."
    )


def test_a_records_condition_names_its_records_plainly(policy: CompiledPolicy) -> None:
    f = _line("x", "fine", "2026-01-01")
    cond = {"kind": "records", "name": "fine", "records": ["court/x"]}
    lines = _text(policy, "air_travel", [_reason([cond])], [f])
    assert (
        "- You have a fine record: court/x (fine, 2026-01-01). That record keeps the measure "
        "in force now; it has applied without a break since 2025-06-14 (reason code DEBTOR)."
    ) in lines
    g = _line("y", "debt", "2026-02-01")
    cond2 = {"kind": "records", "name": "fine,debt", "records": ["court/x", "court/y"]}
    lines = _text(policy, "air_travel", [_reason([cond2])], [f, g])
    assert any(
        x.startswith(
            "- You have 2 fine or debt records: court/x (fine, 2026-01-01) and "
            "court/y (debt, 2026-02-01). Those records keep"
        )
        for x in lines
    )


def test_a_dispute_step_says_whether_the_record_counts_meanwhile(policy: CompiledPolicy) -> None:
    line = _line("a", "debt", "2026-06-01")
    # TEST_POLICY: disputed records do not count
    assert step_description("dispute", line, policy) == (
        "dispute record court/a (debt, 2026-06-01): it stops counting while the dispute is "
        "open, and is deleted if not decided within 30 days"
    )
    counting = compile_policy(
        parse_policy(
            TEST_POLICY.replace("disputed_records_count: false", "disputed_records_count: true")
        )
    )
    assert step_description("dispute", line, counting) == (
        "dispute record court/a (debt, 2026-06-01): it keeps counting while the dispute is "
        "open, and is deleted if not decided within 30 days"
    )


def test_a_condition_on_one_record_takes_the_right_article() -> None:
    from typing import cast

    from socialcredit.explain_text import _condition_phrase

    def phrase(name: str) -> str:
        c = {"kind": "records", "name": name, "records": ["court/1"]}
        return _condition_phrase(cast(CompiledPolicy, None), c, "you", "your", False)

    assert phrase("assault") == "you have an assault record"
    assert phrase("fine") == "you have a fine record"
    assert phrase("unpaid_fine,assault") == "you have an unpaid fine or assault record"


def test_a_record_about_someone_else_may_be_disputed_by_them_not_by_the_reader(
    policy: CompiledPolicy,
) -> None:
    from socialcredit.explain_process import dispute_notes

    open_ = _line("a", "debt", "2026-06-01")  # window open until 2026-07-01
    about_parent = dispute_notes(policy, [("DAD", open_)], T, True, "KID")
    assert "Record court/a may be disputed by DAD until 2026-07-01." in about_parent
    about_self = dispute_notes(policy, [("KID", open_)], T, True, "KID")
    assert "Record court/a may be disputed until 2026-07-01." in about_self
