"""Submitting entries (sources): a JSON array or JSON Lines body, validated and stored as
``socialcredit ingest`` does, answered with the same ``IngestResult`` (every rejected line
with its number, field and reason). Idempotent on (source, id): a retried request finds
its entries stored and reports them as duplicates. A ``source:<name>`` key submits only
entries whose ``source`` is ``<name>``, of the kinds the policy's ``sources:`` section lets
it submit; every other line is rejected, saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from socialcredit.api.auth import Caller, require, route_name, state_of
from socialcredit.api.metrics import INGESTED
from socialcredit.errors import SocialCreditError

if TYPE_CHECKING:
    from socialcredit.keys import ApiKey

router = APIRouter(prefix="/v1/entries", tags=["entries"])

JSON_LINES = (
    "application/x-ndjson",
    "application/jsonl",
    "application/jsonlines",
    "application/json-lines",
)
JSON_TYPES = ("application/json",)


class BodyError(SocialCreditError):
    """A request body that cannot be read as entries (422)."""

    http_status = 422


class MediaTypeError(SocialCreditError):
    """A body in a format the route does not read (415)."""

    http_status = 415


Line = tuple[int, Any, str | None]


def body_lines(content_type: str, body: bytes) -> Iterator[Line]:
    """The body's entries as numbered lines for ``Ledger.ingest``: a JSON array's elements
    numbered from 1, or JSON Lines' physical lines (blank ones skipped, bad ones rejected
    with their error)."""
    from socialcredit.ledger.files import decode_jsonl

    media = content_type.split(";", 1)[0].strip().lower()
    if media in JSON_LINES:
        return decode_jsonl(enumerate(body.split(b"\n"), start=1))
    if media not in JSON_TYPES:
        raise MediaTypeError(
            f"cannot read a body of type {media or '(none)'!r}: send a JSON array of entries "
            "as application/json, or one entry per line as application/x-ndjson"
        )
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BodyError(
            f"the body is not valid JSON ({exc}): send a JSON array of entries, or JSON Lines "
            "as application/x-ndjson"
        ) from None
    if not isinstance(data, list):
        raise BodyError(
            "the body must be a JSON array of entries (one object each), e.g. "
            '[{"id": "j1", "source": "court", "subject": "P1", ...}]'
        )
    return ((i, obj, None) for i, obj in enumerate(data, start=1))


_ENTRIES_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": {"type": "object"},
                    "description": "Entries in the ingestion format (README, 'Ledger entries').",
                }
            },
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "One entry (a JSON object) per line."}
            },
        },
    }
}


@router.post(
    "",
    summary="Submit entries (source)",
    openapi_extra=_ENTRIES_BODY,
    responses={
        200: {"description": "How every line ended up (the `ingest --json` contract)."},
        413: {"description": "The body is too large: submit in several requests."},
        415: {"description": "Neither application/json nor application/x-ndjson."},
        422: {"description": "The body is not a JSON array of entries."},
    },
)
async def submit(request: Request, key: Caller) -> JSONResponse:
    """Store entries: every line accepted, a duplicate (already stored, the same: a retry),
    a conflict (the same source and id with other content: the stored one stays), rejected
    (with its number, field and reason) or skipped (blank). Good lines are kept whatever
    happens to bad ones (200, the problems listed); when no line could be stored and some
    were rejected or conflicted, 422 with ``detail`` naming the first. Each entry counts
    from the time the ledger receives it."""
    require(request, key, ("source",), "submit entries")
    body = await request.body()
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_submit, request, key, body)


def _submit(request: Request, key: ApiKey, body: bytes) -> JSONResponse:
    state = state_of(request)
    lines = body_lines(request.headers.get("content-type", ""), body)
    if not body.strip():
        raise BodyError("the body is empty: send a JSON array of entries, or JSON Lines")
    assert key.role.name is not None
    rules = state.ingest_rules(key.role.name)
    if rules is None:
        from socialcredit.engine import NoPolicyError

        raise NoPolicyError(
            "no policy is in force: an admin activates one (POST /v1/policy/activations) "
            "before sources submit entries"
        )
    result = state.ledger.ingest(lines, f"<api key {key.key_id}>", rules, state.clock())
    counts = {
        "accepted": result.accepted,
        "duplicate": result.duplicates,
        "conflict": result.conflicts,
        "rejected": result.rejected,
        "skipped": result.skipped,
    }
    for outcome, n in counts.items():
        if n:
            INGESTED.labels(outcome).inc(n)
    state.entries_stored()
    troubled = result.rejected + result.conflicts
    nothing = troubled and not (result.accepted or result.duplicates)
    status = 422 if nothing else 200
    state.audit(
        key,
        route_name(request),
        decision="refused" if nothing else "stored with problems" if troubled else "stored",
        status=status,
        details=counts,
    )
    answer = result.to_json()
    if nothing:
        first = (result.problems or result.conflict_lines)[0]
        answer = {
            "detail": f"no entry was stored: {troubled} line{'s' if troubled != 1 else ''} "
            f"{'was' if troubled == 1 else 'were'} rejected or conflicted; the first: {first}",
            **answer,
        }
    return JSONResponse(answer, status_code=status)
