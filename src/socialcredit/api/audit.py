"""The audit log over HTTP (auditors): read entries in order, verify the hash chain.

Reading the audit log is itself audited (who looked, at what)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from socialcredit.api.auth import Caller, require, route_name, state_of

router = APIRouter(prefix="/v1/audit", tags=["audit"])

MAX_PAGE = 1000


@router.get("", summary="Audit entries in order (auditor)")
def read(
    request: Request,
    key: Caller,
    after: Annotated[
        int, Query(ge=0, le=2**62, description="Entries with a seq greater than this.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="At most this many.")] = 100,
    subject: Annotated[
        str | None,
        Query(min_length=1, max_length=500, description="Only entries about this subject."),
    ] = None,
) -> JSONResponse:
    """Written entries after ``after`` in seq order (page with the last seq), each with
    its hash and the previous entry's. Entries still in a process's buffer (a few
    milliseconds) come on a later read."""
    require(request, key, ("auditor",), "read the audit log")
    state = state_of(request)
    entries = state.audit_log.read(after, limit, subject)
    state.audit(key, route_name(request), subject=subject, details={"after": after, "limit": limit})
    return JSONResponse({"entries": [e.to_json() for e in entries]})


@router.get("/verification", summary="Verify the audit log's hash chain (auditor)")
def verify(request: Request, key: Caller) -> JSONResponse:
    """Check every written entry's hash and link, and the head row: ``ok``, or the first
    bad entry's seq, what kind of tampering it shows and a sentence saying what is wrong
    (``socialcredit audit verify --json``)."""
    require(request, key, ("auditor",), "verify the audit log")
    state = state_of(request)
    state.audit_log.flush()
    result = state.audit_log.verify()
    state.audit(key, route_name(request), decision="ok" if result.ok else "tampered")
    return JSONResponse(result.to_json())
