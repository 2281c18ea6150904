"""Disputes: a subject disputes its own record; reviewers see the queue (open disputes by
deadline) and decide (uphold, rectify, annul, with a written reason). Every call is
audited; every dispute and decision is a ledger entry (``socialcredit.appeals``)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Body, Query, Request
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
from socialcredit.errors import SocialCreditError

if TYPE_CHECKING:
    from socialcredit.appeals import Dispute

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


MAX_PAGE = 1000
"""The most disputes one page of the review queue holds (as the audit log's pages)."""


def _position(d: Dispute) -> list[Any]:
    """Where a dispute stands in the queue's order (deadline, subject, record)."""
    return [d.due, d.subject, d.target_source, d.target_id]


def _cursor(d: Dispute) -> str:
    """The page cursor after ``d``: its position, as URL-safe text."""
    return base64.urlsafe_b64encode(orjson.dumps(_position(d))).decode().rstrip("=")


def _after(cursor: str) -> list[Any]:
    """The position a cursor names; ``DisputePageError`` (400) for one not made here."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = orjson.loads(raw)
    except (ValueError, orjson.JSONDecodeError):
        position = None
    if not (
        isinstance(position, list)
        and len(position) == 4
        and type(position[0]) is int
        and all(isinstance(p, str) for p in position[1:])
    ):
        raise DisputePageError(
            f"after={cursor!r} is not a cursor of this queue: give the 'next_after' of the "
            "previous page, or leave it out for the first page"
        )
    return position


class DisputePageError(SocialCreditError):
    """A review-queue cursor that this service did not give."""

    http_status = 400


@router.get("/v1/disputes", summary="The review queue (reviewer)")
def queue(
    request: Request,
    key: Caller,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="At most this many.")] = 100,
    after: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=2000,
            description="The previous page's next_after: the disputes after it in the queue.",
        ),
    ] = None,
) -> JSONResponse:
    """The disputes open now, by deadline (overdue first), then subject and record: up to
    ``limit`` of them after the cursor ``after``, and ``next_after``, the cursor of the
    next page (null on the last). A cursor names a position in that order, not a page
    number, so a dispute decided between two pages shifts nothing (one filed meanwhile
    ahead of the cursor comes on no later page: start again to see it). Each page
    evaluates the whole queue; it bounds the answer's size, not the work. Reviewers
    only."""
    require(request, key, ("reviewer",), "read the review queue")
    from socialcredit.appeals import review_queue

    start = _after(after) if after is not None else None
    state = state_of(request)
    found = review_queue(state.engine(), state.clock())
    total = len(found)
    if start is not None:
        found = [d for d in found if _position(d) > start]
    page = found[:limit]
    more = len(found) > limit
    state.audit(key, route_name(request), details={"open": total, "after": after, "limit": limit})
    return JSONResponse(
        {
            "disputes": [d.to_json() for d in page],
            "next_after": _cursor(page[-1]) if more else None,
        }
    )


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
