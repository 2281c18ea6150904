"""Windows anchored at another event, and a measure that ends after its triggering records
are resolved (issue 7, construct 6): the railway's fare-evasion escalation, by hand.

The story (every entry recorded on the day it occurred unless said otherwise):
- f1: fare evasion on 2025-01-10, the fare paid on 2025-01-20: a window opens for one year
  (365 days), to 2026-01-20.
- f2 on 2025-03-01 (paid 2025-03-05), f3 on 2025-06-01 (paid 2025-06-05), f4 on
  2025-09-01 (paid 2025-10-01): three more within the year after paying the first.
- The escalation holds from 2025-09-01, when f4 is known. It lasts until 90 days after
  the last of f2, f3, f4 is paid: 2025-10-01 + 90 days = 2025-12-30 (30 days to 2025-10-31,
  60 to 2025-11-30, 90 to 2025-12-30), although the records keep counting for two years.
"""

from __future__ import annotations

from typing import Any

from socialcredit.columns import columns_from_entries
from socialcredit.explain import explain
from socialcredit.scoring import Prepared, bulk_standings, standing
from socialcredit.timeutil import parse_timestamp, to_date

from .terms_policy import terms_policy

T = parse_timestamp


def evasion(eid: str, day: str, subject: str = "bo") -> dict[str, Any]:
    return {
        "id": eid,
        "source": "rail",
        "subject": subject,
        "type": "fare_evasion",
        "occurred_at": day,
    }


def paid(eid: str, day: str, recorded: str | None = None) -> dict[str, Any]:
    return {
        "kind": "resolve",
        "id": f"paid-{eid}",
        "source": "rail",
        "target_source": "rail",
        "target_id": eid,
        "occurred_at": day,
        "recorded_at": recorded or day,
    }


STORY = [
    evasion("f1", "2025-01-10"),
    paid("f1", "2025-01-20"),
    evasion("f2", "2025-03-01"),
    paid("f2", "2025-03-05"),
    evasion("f3", "2025-06-01"),
    paid("f3", "2025-06-05"),
    evasion("f4", "2025-09-01"),
    paid("f4", "2025-10-01"),
]


def prep(entries: list[dict[str, Any]]) -> Prepared:
    return Prepared.build(columns_from_entries(entries), terms_policy())


def measures(p: Prepared, at: str) -> list[str]:
    return [m.name for m in standing(p, 0, T(at)).measures]


def test_three_more_evasions_after_paying_restrict_until_ninety_days_after_paying() -> None:
    p = prep(STORY)
    assert measures(p, "2025-08-31") == []
    on = standing(p, 0, T("2025-09-01"))
    # f4 unpaid: no ticket until paid, and the escalation with no end yet
    assert [m.name for m in on.measures] == ["unpaid_fare", "repeated_fare_evasion"]
    escalation = on.measures[1]
    assert to_date(escalation.since) == "2025-09-01" and escalation.until is None
    assert escalation.unresolved == ["rail/f4"] and escalation.resolved_on is None
    later = standing(p, 0, T("2025-10-02")).measures
    assert [(m.name, to_date(m.until)) for m in later] == [("repeated_fare_evasion", "2025-12-30")]
    assert to_date(later[0].resolved_on) == "2025-10-01"
    # the day the restriction ends, the records still count, but the window is not re-tested
    assert measures(p, "2025-12-29T23:59:59Z") == ["repeated_fare_evasion"]
    assert measures(p, "2025-12-30") == []
    assert measures(p, "2026-06-01") == []


def test_the_explanation_gives_the_true_dates() -> None:
    p = prep(STORY)
    text = explain(p, 0, "train_tickets", T("2025-11-01")).text
    assert "You cannot use train tickets." in text
    assert (
        "You have 3 fare evasion records within 365 days after record rail/f1 (fare evasion, "
        "2025-01-10) was resolved on 2025-01-20: rail/f2 (fare evasion, 2025-03-01), rail/f3 "
        "(fare evasion, 2025-06-01) and rail/f4 (fare evasion, 2025-09-01)." in text
    )
    assert (
        "It lasts until 2025-12-30, 90 days after the last of the records behind it was "
        "resolved on 2025-10-01, whatever happens to the condition meanwhile." in text
    )
    assert "If nothing changes, you may use train tickets again on 2025-12-30." in text
    unpaid = explain(p, 0, "train_tickets", T("2025-09-15")).text
    assert (
        "It lasts until 90 days after that record is resolved, whether or not the condition "
        "still holds then; rail/f4 (fare evasion, 2025-09-01) is not resolved yet." in unpaid
    )
    past = explain(p, 0, "train_tickets", T("2025-09-15"), present=False).text
    assert "is not resolved on 2025-09-15" in past


def test_evasions_before_the_payment_or_after_the_year_do_not_count() -> None:
    # f2 before f1 was paid; f4 more than 365 days after paying f1 (2026-01-20 or later)
    late = [
        evasion("f1", "2025-01-10"),
        evasion("f2", "2025-01-15"),
        paid("f1", "2025-01-20"),
        evasion("f3", "2025-06-01"),
        evasion("f4", "2025-12-01"),
        evasion("f5", "2026-01-20"),
    ]
    p = prep(late)
    assert "repeated_fare_evasion" not in measures(p, "2026-01-21")
    # one day earlier, f5 is in the window: f3, f4, f5 are three more
    inside = [*late[:-1], evasion("f5", "2026-01-19")]
    assert "repeated_fare_evasion" in measures(prep(inside), "2026-01-21")


def test_a_payment_learned_later_does_not_change_the_past() -> None:
    # f4's payment happened on 2025-10-01 but the ledger learned it on 2025-11-15
    story = [*STORY[:-1], paid("f4", "2025-10-01", recorded="2025-11-15")]
    p = prep(story)
    before = standing(p, 0, T("2025-11-01")).measures
    assert [(m.name, m.until) for m in before][1] == ("repeated_fare_evasion", None)
    # (unpaid_fare lasts while f4 is unpaid, at most until f4 expires: 2025-09-01 + 730 days)
    assert to_date(before[0].until) == "2027-09-01"
    # known from 2025-11-15: the ledger's resolution time runs the 90 days (2026-02-13)
    after = standing(p, 0, T("2025-11-16")).measures
    assert [(m.name, to_date(m.until)) for m in after] == [("repeated_fare_evasion", "2026-02-13")]


def test_a_window_anchored_at_another_record() -> None:
    entries = [
        evasion("f1", "2025-01-10"),
        {
            "id": "s1",
            "source": "rail",
            "subject": "bo",
            "type": "smoking",
            "occurred_at": "2025-01-12",
        },
        {
            "id": "s2",
            "source": "rail",
            "subject": "bo",
            "type": "smoking",
            "occurred_at": "2025-02-08",
        },
    ]
    p = prep(entries)
    # both within 30 days after the fare evasion (2025-01-10 + 30 = 2025-02-09)
    assert "smoking_after_evasion" in measures(p, "2025-02-08")
    assert (
        "You have 2 smoking records within 30 days after record rail/f1 (fare evasion, "
        "2025-01-10): rail/s1 (smoking, 2025-01-12) and rail/s2 (smoking, 2025-02-08)."
        in explain(p, 0, "soft_sleeper", T("2025-02-08")).text
    )
    # the smoking records expire after 100 days: 2025-01-12 + 100 = 2025-04-22
    assert "smoking_after_evasion" not in measures(p, "2025-04-22")
    late = [*entries[:2], {**entries[2], "occurred_at": "2025-02-09"}]
    assert "smoking_after_evasion" not in measures(prep(late), "2025-02-10")


def test_bulk_agrees_with_one_subject_on_the_story() -> None:
    entries = STORY + [evasion(f"g{i}", day, "cy") for i, day in enumerate(["2025-02-01"])]
    p = prep(entries)
    for at in ("2025-09-01", "2025-10-02", "2025-12-29", "2025-12-30"):
        bulk = bulk_standings(p, T(at))
        for i in range(p.columns.n_subjects):
            names = {m.name for m in standing(p, i, T(at)).measures}
            assert names == {s.name for s in p.policy.sanctions if bulk.measures[s.index, i]}, (
                at,
                i,
            )


def test_the_measure_outlives_its_condition_until_ninety_days_after_paying() -> None:
    # f4 is paid only on 2027-10-01; f2 expired on 2027-03-01 (2025-03-01 + 730 days), so
    # from then on only f3 and f4 are in the window, but the measure is not tested again
    p = prep([*STORY[:-1], paid("f4", "2027-10-01")])
    # (f4 itself expired on 2027-09-01: no more "until paid" for it, the escalation stays)
    assert measures(p, "2027-09-30") == ["repeated_fare_evasion"]
    (m,) = standing(p, 0, T("2027-11-01")).measures
    assert (m.name, to_date(m.since), to_date(m.until)) == (
        "repeated_fare_evasion",
        "2025-09-01",
        "2027-12-30",
    )
    assert to_date(m.trigger_ended) == "2027-03-01"
    text = explain(p, 0, "train_tickets", T("2027-11-01")).text
    assert (
        "that stopped holding on 2027-03-01, but the measure runs from 2025-09-01 until "
        "2027-12-30 regardless (reason code RAIL-FARE-REPEAT). It lasts until 2027-12-30, "
        "90 days after the last of the records behind it was resolved on 2027-10-01" in text
    )
