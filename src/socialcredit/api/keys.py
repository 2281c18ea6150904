"""API keys over HTTP (admins): create one (its token shown once), list them, revoke one.
The same as ``socialcredit keys create|list|revoke``; every call is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from socialcredit.api.auth import Caller, require, route_name, state_of

router = APIRouter(prefix="/v1/keys", tags=["keys"])


class NewKey(BaseModel):
    """A key to make."""

    model_config = ConfigDict(extra="forbid")
    role: str = Field(
        min_length=1,
        max_length=600,
        description="admin, source:<name>, enforcer:<service>, subject:<id>, reviewer or auditor.",
    )
    name: str | None = Field(
        default=None, max_length=500, description="Who holds it (for people; optional)."
    )


@router.post("", status_code=201, summary="Create an API key (admin)")
def create(request: Request, key: Caller, new: Annotated[NewKey, Body()]) -> JSONResponse:
    """A new key for ``role``; the answer's ``token`` is shown once and never stored. An
    enforcer's service or a source's name is checked against the active policy (unknown:
    400); with no policy active it cannot be, and ``warnings`` says so."""
    require(request, key, ("admin",), "create keys")
    state = state_of(request)
    made, token = state.keys.create(new.role, new.name, state.clock())
    state.audit(
        key,
        route_name(request),
        decision="created",
        status=201,
        details={"key_id": made.key_id, "role": str(made.role)},
    )
    warning = state.keys.unchecked_role_warning(made.role)
    return JSONResponse(
        {**made.to_json(), "token": token, "warnings": [warning] if warning else []},
        status_code=201,
    )


@router.get("", summary="Every API key (admin)")
def listing(request: Request, key: Caller) -> JSONResponse:
    """Every key, revoked ones included, oldest first (never a token)."""
    require(request, key, ("admin",), "list keys")
    state = state_of(request)
    state.audit(key, route_name(request))
    return JSONResponse([k.to_json() for k in state.keys.list()])


@router.post("/{key_id}/revocation", summary="Revoke an API key (admin)")
def revoke(
    request: Request,
    key: Caller,
    key_id: Annotated[str, Path(min_length=1, max_length=64)],
) -> JSONResponse:
    """Revoke the key: from now on its token is refused (401) here at once and by every
    other process within a second."""
    require(request, key, ("admin",), "revoke keys")
    state = state_of(request)
    revoked = state.keys.revoke(key_id, state.clock())
    state.audit(key, route_name(request), decision="revoked", details={"key_id": key_id})
    return JSONResponse(revoked.to_json())
