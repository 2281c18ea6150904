"""A subject's own file: standing (the ``score --json`` contract) and explanation (the
``explain --json`` contract). Readable by the subject's own key and by reviewers; every
read is audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from socialcredit.api.auth import Caller, require_subject_reader, route_name, state_of
from socialcredit.timeutil import parse_timestamp

router = APIRouter(prefix="/v1/subjects", tags=["subjects"])

SubjectPath = Annotated[
    str, Path(description="The subject's identifier.", min_length=1, max_length=500)
]
AtQuery = Annotated[
    str | None,
    Query(
        description="Answer as of this time (ISO 8601; a bare date is 00:00 UTC), under the "
        "policy in force then. Default: now.",
        max_length=64,
    ),
]


def parse_at(at: str | None) -> int | None:
    """``at`` as epoch seconds (None: now); a bad or out-of-range time is a 400 saying so."""
    return parse_timestamp(at) if at is not None else None


def request_attributes(
    policy: Any, service: str | None, pairs: list[str] | None
) -> dict[str, Any] | None:
    """``attr=name=value`` query parameters as the request attributes ``policy`` declares for
    ``service`` (numbers read as numbers), as ``--attr`` on the command line."""
    result: dict[str, Any] | None = policy.attributes_from_pairs(service, pairs, "attr")
    return result


@router.get("/{subject}/standing", summary="A subject's score, grade, lists and measures")
def standing(
    request: Request, key: Caller, subject: SubjectPath, at: AtQuery = None
) -> JSONResponse:
    """The subject's score, grade, lists and measures in force, with the breakdown (the
    ``score --json`` contract). For the subject's own key and reviewers."""
    require_subject_reader(request, key, subject, "read the standing")
    state = state_of(request)
    st = state.engine().standing(subject, parse_at(at))
    state.audit(key, route_name(request), subject=subject, policy_version=st.policy_version)
    return JSONResponse(st.to_json())


@router.get("/{subject}/explanation", summary="Why a subject is allowed or denied, and until when")
def explanation(
    request: Request,
    key: Caller,
    subject: SubjectPath,
    service: Annotated[
        str | None,
        Query(
            description="Explain this service (an object); default: every service with a "
            "measure in force (a list).",
            min_length=1,
            max_length=500,
        ),
    ] = None,
    at: AtQuery = None,
    attr: Annotated[
        list[str] | None,
        Query(
            description="A request attribute the policy declares for the service, as "
            "name=value (repeat for several), e.g. attr=class=first.",
        ),
    ] = None,
) -> JSONResponse:
    """Why the subject is allowed or denied, until when, and what would end it sooner (the
    ``explain --json`` contract). For the subject's own key and reviewers."""
    require_subject_reader(request, key, subject, "read the explanation")
    state = state_of(request)
    engine = state.engine()
    t = parse_at(at)
    attributes = request_attributes(
        engine.policy_at(engine.clock() if t is None else t), service, attr
    )
    found = engine.explain_services(subject, [service] if service else None, t, attributes)
    version = found[0].standing.policy_version if found else None
    state.audit(key, route_name(request), subject=subject, service=service, policy_version=version)
    body: Any = found[0].to_json() if service else [e.to_json() for e in found]
    return JSONResponse(body)
