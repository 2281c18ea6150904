"""A subject's notices: what measure started or ended for it, which record from which
source caused it, until when, what would end it sooner and how to dispute
(``socialcredit.notices``). Read by the subject's own key and reviewers; audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from socialcredit.api.auth import Caller, forbid, require_subject_reader, route_name, state_of
from socialcredit.api.subjects import SubjectPath

router = APIRouter(prefix="/v1/subjects", tags=["notices"])


@router.get("/{subject}/notices", summary="A subject's notices")
def notices(
    request: Request,
    key: Caller,
    subject: SubjectPath,
    unread_only: Annotated[bool, Query(description="Only those not marked read.")] = False,
    after_id: Annotated[
        int, Query(ge=0, le=2**62, description="Only those with a larger id (paging).")
    ] = 0,
) -> JSONResponse:
    """The notices written to the subject, oldest first; any event due now that has no
    notice yet is written first. For the subject's own key and reviewers."""
    require_subject_reader(request, key, subject, "read the notices")
    from socialcredit.notices import generate_notices, notices_for

    state = state_of(request)
    generate_notices(
        state.engine(), [subject], state.clock(), dispute_url=state.dispute_url(subject)
    )
    found = notices_for(state.ledger, subject, unread_only=unread_only, after_id=after_id)
    state.audit(key, route_name(request), subject=subject, details={"notices": len(found)})
    return JSONResponse([n.to_json() for n in found])


class Read(BaseModel):
    """Notices the subject has read."""

    model_config = ConfigDict(extra="forbid")
    ids: list[int] = Field(min_length=1, max_length=1000)


@router.post("/{subject}/notices/read", summary="Mark notices read (the subject)")
def mark_read(
    request: Request, key: Caller, subject: SubjectPath, read: Annotated[Read, Body()]
) -> JSONResponse:
    """Mark the subject's notices ``ids`` read now (ids of other subjects' notices change
    nothing). Only the subject's own key."""
    if key.role.kind != "subject" or key.role.name != subject:
        raise forbid(request, key, "mark notices read: only the subject's own key may", subject)
    from socialcredit.notices import mark_read as mark

    state = state_of(request)
    done = mark(state.ledger, subject, read.ids, state.clock())
    state.audit(key, route_name(request), subject=subject, details={"marked": done})
    return JSONResponse({"marked": done})
