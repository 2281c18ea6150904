"""The index always agrees with ``Engine.check`` (hypothesis): random ledgers arriving in
chunks (the index catching up between them), random check times, services and request
attributes; on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.enforcement_index import EnforcementIndex, IndexAnswer
from socialcredit.engine import Engine
from socialcredit.errors import SocialCreditError
from socialcredit.ledger import IngestRules, Ledger
from socialcredit.policy import parse_policy
from socialcredit.timeutil import DAY, parse_timestamp
from tests.enforcement_index.conftest import pg_ledger_in_new_schema, sqlite_ledger_from
from tests.enforcement_index.policies import EVERY_PERIOD

T0 = parse_timestamp("2025-01-01")
SUBJECTS = ["a", "b", "c", "d"]
TYPES = ["debt", "fine", "misconduct", "fare_dodging", "volunteering"]
# the same policy without decaying records: every answer comes from the index itself
NO_DECAY = EVERY_PERIOD.replace("    decay: linear\n", "")
POLICIES = {"decay": EVERY_PERIOD, "no_decay": NO_DECAY}
REQUESTS: list[tuple[str, dict[str, Any] | None]] = [
    ("air_travel", None),
    ("air_travel", {}),
    ("rail_tickets", {"price": 100}),
    ("rail_tickets", {"price": 450}),
    ("rail_tickets", None),
    ("g_train_seats", None),
    ("g_train_seats", {"price": 500}),
    ("d_train_seats", {"class": "first"}),
    ("d_train_seats", {"class": "second", "price": 20}),
    ("d_train_seats", {"class": "sleeper"}),  # not one of its values: an error
    ("private_school", {"payer": "debtor"}),
    ("private_school", {"payer": "other"}),
    ("private_school", None),  # a measure on it needs the payer: an error
    ("luxury_hotel", None),
    ("bike_rental", None),
    ("bike_rental", {"colour": "red"}),  # not declared: an error
    ("spaceflight", None),  # not a service: an error
]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def arrivals(draw: st.DrawFn) -> list[tuple[int, list[dict[str, Any]]]]:
    """Entries in chunks, each with the day (from T0) the ledger receives it."""
    n_chunks = draw(st.integers(1, 4))
    days = sorted(draw(st.lists(st.integers(0, 500), min_size=n_chunks, max_size=n_chunks)))
    chunks: list[list[dict[str, Any]]] = [[] for _ in days]
    records: list[tuple[int, dict[str, Any]]] = []
    for i in range(draw(st.integers(1, 10))):
        c = draw(st.integers(0, n_chunks - 1))
        occurred = T0 + (days[c] - draw(st.integers(0, 120))) * DAY
        entry = {
            "id": f"r{i}",
            "source": "src",
            "subject": draw(st.sampled_from(SUBJECTS)),
            "subject_kind": "person",
            "type": draw(st.sampled_from(TYPES)),
            "occurred_at": occurred,
        }
        chunks[c].append(entry)
        records.append((c, entry))
    for j in range(draw(st.integers(0, 2))):
        c = draw(st.integers(0, n_chunks - 1))
        kid, parent = draw(st.permutations(SUBJECTS))[:2]
        chunks[c].append(
            {
                "kind": "relation",
                "id": f"rel{j}",
                "source": "registry",
                "subject": kid,
                "subject_kind": "person",
                "relation": "child_of",
                "related_subject": parent,
                "valid_from": T0 + (days[c] - draw(st.integers(0, 300))) * DAY,
                **(
                    {"valid_until": T0 + (days[c] + draw(st.integers(1, 300))) * DAY}
                    if draw(st.booleans())
                    else {}
                ),
            }
        )
    if draw(st.booleans()):
        c = draw(st.integers(0, n_chunks - 1))
        start = days[c] + draw(st.integers(-30, 200))
        chunks[c].append(
            {
                "kind": "exemption",
                "id": "x1",
                "source": "court",
                "subject": draw(st.sampled_from(SUBJECTS)),
                "subject_kind": "person",
                "services": [
                    draw(st.sampled_from(["air_travel", "rail_tickets", "d_train_seats"]))
                ],
                "valid_from": T0 + start * DAY,
                "valid_until": T0 + (start + draw(st.integers(1, 90))) * DAY,
                "reason": "medical treatment",
                "approved_by": "a court",
            }
        )
    for k in range(draw(st.integers(0, 5))):
        c0, target = records[draw(st.integers(0, len(records) - 1))]
        c = draw(st.integers(c0, n_chunks - 1))
        kind = draw(st.sampled_from(["resolve", "resolve", "dispute", "uphold", "annul"]))
        occurred = max(target["occurred_at"], T0 + (days[c] - draw(st.integers(0, 5))) * DAY)
        chunks[c].append(
            {
                "kind": kind,
                "id": f"c{k}",
                "source": "src",
                "target_source": "src",
                "target_id": target["id"],
                "occurred_at": occurred,
                **({"reason": "checked"} if kind in ("uphold", "annul") else {}),
            }
        )
    return [(T0 + d * DAY + 3600, chunk) for d, chunk in zip(days, chunks, strict=True)]


def outcome(ask: Callable[..., Any], *args: Any) -> tuple[Any, ...]:
    """What ``ask(*args)`` says (or the error it raises), comparable between the engine's
    decisions and the index's answers."""
    try:
        r = ask(*args)
    except SocialCreditError as exc:
        return (type(exc).__name__, str(exc))
    if isinstance(r, IndexAnswer):
        return (r.decision, r.reasons, r.eligible_again_on, r.known, r.benefits, r.exempted)
    return (
        r.decision,
        tuple(r.reasons),
        r.eligible_again_on,
        r.known,
        tuple(r.benefits),
        tuple(r.exempted),
    )


def _activate(ledger: Ledger, body: str, at: int) -> None:
    loaded = parse_policy(body, "index-test.yaml")
    ledger.activate_policy(
        loaded.text, loaded.policy.policy, loaded.policy.version, loaded.content_hash, at, now=at
    )


def agree(
    ledger: Ledger,
    body: str,
    chunks: list[tuple[int, list[dict[str, Any]]]],
    built_after: int,
    offsets: list[int],
    picks: list[int],
) -> None:
    """Ingest ``chunks`` (building the index after ``built_after`` of them, -1: on the
    empty ledger), catching up after each, and compare every subject's checks with the
    engine's at times ``offsets`` (seconds) from each chunk's arrival."""
    _activate(ledger, body, T0 - 400 * DAY)
    rules = IngestRules.from_policy(parse_policy(body, "index-test.yaml").policy)
    now = [T0 - 400 * DAY]
    engine = Engine.open(ledger, lambda: now[0])
    index: EnforcementIndex | None = None
    if built_after < 0:
        index = EnforcementIndex.build(engine)
    for n, (arrives, entries) in enumerate(chunks):
        now[0] = arrives
        ledger.ingest_entries(entries, rules=rules, now=arrives)
        if index is None and n >= built_after:
            index = EnforcementIndex.build(engine)
        elif index is not None:
            index.catch_up()
        if index is None:
            continue
        for offset in offsets:
            at = arrives + offset
            requests = [REQUESTS[p % len(REQUESTS)] for p in picks]
            for subject in [*SUBJECTS, "never-heard-of"]:
                for service, attributes in requests:
                    question = (subject, service, at, attributes)
                    expected = outcome(engine.check, *question)
                    got = outcome(index.check, *question)
                    assert got == expected, (subject, service, attributes, at - T0, n)
                    if body is NO_DECAY and at >= index.knowledge and got[0] in ("allow", "deny"):
                        # without decay, the index answers every check from then on itself
                        answer = index.check(subject, service, at, attributes)
                        assert not answer.from_engine, (subject, service, at - T0)
            for service, attributes in requests:
                try:
                    answers = index.check_batch(SUBJECTS, service, at, attributes)
                except SocialCreditError:
                    continue  # the single checks raised the same (compared above)
                batch = [outcome(lambda a: a, a) for a in answers]
                single = [outcome(index.check, s, service, at, attributes) for s in SUBJECTS]
                assert batch == single


offsets = st.lists(
    st.one_of(st.integers(0, 600).map(lambda d: d * DAY), st.integers(-3 * DAY, 3 * DAY)),
    min_size=1,
    max_size=3,
)
picks = st.lists(st.integers(0, 1000), min_size=2, max_size=4)


@pytest.mark.parametrize("name", sorted(POLICIES))
@SETTINGS
@given(chunks=arrivals(), built=st.integers(-1, 3), offsets=offsets, picks=picks)
def test_the_index_agrees_with_the_engine_on_sqlite(
    name: str,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    chunks: list[tuple[int, list[dict[str, Any]]]],
    built: int,
    offsets: list[int],
    picks: list[int],
) -> None:
    directory = tmp_path_factory.mktemp("draw")
    with sqlite_ledger_from(sqlite_template, directory) as ledger:
        agree(ledger, POLICIES[name], chunks, built, offsets, picks)


@pytest.mark.postgres
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunks=arrivals(), built=st.integers(-1, 3), offsets=offsets, picks=picks)
def test_the_index_agrees_with_the_engine_on_postgresql(
    pg_url: str,
    chunks: list[tuple[int, list[dict[str, Any]]]],
    built: int,
    offsets: list[int],
    picks: list[int],
) -> None:
    with pg_ledger_in_new_schema(pg_url) as ledger:
        agree(ledger, NO_DECAY, chunks, built, offsets, picks)
