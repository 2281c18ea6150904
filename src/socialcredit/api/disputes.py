"""Disputes: a subject disputes its own record; reviewers see the queue (open disputes by
deadline) and decide (uphold, rectify, annul, with a written reason). Every call is
audited; every dispute and decision is a ledger entry (``socialcredit.appeals``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from socialcredit.api.auth import (
    Caller,
    forbid,
    require,
    require_subject_reader,
    route_name,
    state_of,
)
from socialcredit.api.subjects import SubjectPath

router = APIRouter(tags=["disputes"])


class NewDispute(BaseModel):
    """A dispute of one of the subject's own records."""

    model_config = ConfigDict(extra="forbid")
    source: str = Field(min_length=1, max_length=500, description="The record's source.")
    id: str = Field(min_length=1, max_length=500, description="The record's id at its source.")
    reason: str = Field(min_length=1, max_length=450, description="Why the record is wrong.")


class Decision(BaseModel):
    """A reviewer's decision on the open dispute of a record."""

    model_config = ConfigDict(extra="forbid")
    source: str = Field(min_length=1, max_length=500, description="The record's source.")
    id: str = Field(min_length=1, max_length=500, description="The record's id at its source.")
    outcome: Literal["uphold", "rectify", "annul"]
    reason: str = Field(min_length=1, max_length=400, description="Why (told to the subject).")
    corrected_type: str | None = Field(default=None, min_length=1, max_length=500)
    corrected_occurred_at: str | None = Field(
        default=None, min_length=1, max_length=64, description="rectify: ISO 8601."
    )
    amount: float | None = Field(default=None, ge=-1e15, le=1e15)


@router.get("/v1/subjects/{subject}/disputes", summary="A subject's open disputes")
def open_disputes(request: Request, key: Caller, subject: SubjectPath) -> JSONResponse:
    """The subject's disputes still open now (review or reconsideration), with the date each
    must be decided by. For the subject's own key and reviewers."""
    require_subject_reader(request, key, subject, "read the disputes")
    from socialcredit.appeals import review_queue

    state = state_of(request)
    now = state.clock()
    queue = [d for d in review_queue(state.engine(), now) if d.subject == subject]
    state.audit(key, route_name(request), subject=subject)
    return JSONResponse([d.to_json() for d in queue])


@router.post("/v1/subjects/{subject}/disputes", status_code=201, summary="Dispute one's own record")
def file(
    request: Request, key: Caller, subject: SubjectPath, dispute: Annotated[NewDispute, Body()]
) -> JSONResponse:
    """The subject disputes its own record now: the review within the record's appeal
    window, or reconsideration after an upheld review. Refused, with nothing written,
    outside those periods (409) or for a record that is not the subject's (404). Filing
    the same dispute again returns it. Only the subject's own key."""
    if key.role.kind != "subject" or key.role.name != subject:
        raise forbid(request, key, "file disputes: only the subject's own key may", subject)
    from socialcredit.appeals import file_dispute

    state = state_of(request)
    d = file_dispute(
        state.ledger,
        subject,
        dispute.source,
        dispute.id,
        dispute.reason,
        state.clock(),
        engine=state.engine(),
    )
    state.entries_stored()
    state.audit(
        key,
        route_name(request),
        subject=subject,
        decision="filed",
        policy_version=d.policy_version,
        status=201,
        details={"record": d.record, "stage": d.stage},
    )
    return JSONResponse(d.to_json(), status_code=201)


@router.get("/v1/disputes", summary="The review queue (reviewer)")
def queue(request: Request, key: Caller) -> JSONResponse:
    """Every dispute open now, by deadline (overdue first). Reviewers only."""
    require(request, key, ("reviewer",), "read the review queue")
    from socialcredit.appeals import review_queue

    state = state_of(request)
    found = review_queue(state.engine(), state.clock())
    state.audit(key, route_name(request), details={"open": len(found)})
    return JSONResponse([d.to_json() for d in found])


@router.post("/v1/disputes/decisions", status_code=201, summary="Decide a dispute (reviewer)")
def decide(request: Request, key: Caller, decision: Annotated[Decision, Body()]) -> JSONResponse:
    """Decide the open dispute of a record now, with a written reason: uphold it, rectify
    it (with ``corrected_type``, ``corrected_occurred_at`` or ``amount``; the corrected
    record is upheld) or annul it. Reviewers only; the decision names the reviewer's key."""
    require(request, key, ("reviewer",), "decide disputes")
    from socialcredit.appeals import decide as decide_dispute
    from socialcredit.timeutil import parse_timestamp

    state = state_of(request)
    corrected = (
        parse_timestamp(decision.corrected_occurred_at)
        if decision.corrected_occurred_at is not None
        else None
    )
    reviewer = key.name or f"key {key.key_id}"
    result = decide_dispute(
        state.ledger,
        reviewer,
        (decision.source, decision.id),
        decision.outcome,
        decision.reason,
        state.clock(),
        engine=state.engine(),
        corrected_type=decision.corrected_type,
        corrected_occurred_at=corrected,
        amount=decision.amount,
    )
    state.entries_stored()
    state.audit(
        key,
        route_name(request),
        subject=result.dispute.subject,
        decision=decision.outcome,
        policy_version=result.dispute.policy_version,
        status=201,
        details={"record": result.dispute.record},
    )
    return JSONResponse(result.to_json(), status_code=201)
