"""Who is asking: the API key of ``Authorization: Bearer <key>``, and what its role allows.

A missing, malformed, unknown or revoked key is 401; a valid key whose role the route is
not for is 403. Both are audited (a 401 with no key id). Roles (``socialcredit.keys``):
``admin``, ``source:<name>``, ``enforcer:<service>``, ``subject:<id>``, ``reviewer``,
``auditor``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

if TYPE_CHECKING:
    from socialcredit.api.state import ServiceState
    from socialcredit.keys import ApiKey

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An API key made by `socialcredit keys create --role ROLE` (or "
    "`POST /v1/keys`): `Authorization: Bearer sck_…`.",
)

UNAUTHENTICATED = (
    "this route needs an API key: send 'Authorization: Bearer <key>' with a key made by "
    "`socialcredit keys create`"
)
NOT_A_KEY = "the API key is not valid (unknown, mistyped or revoked): ask an admin for a new one"
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def state_of(request: Request) -> ServiceState:
    """The service's state (made when the application started)."""
    state: ServiceState = request.app.state.service
    return state


def route_name(request: Request) -> str:
    """``METHOD /template`` of the route that matched (``GET /v1/subjects/{subject}/standing``),
    never the concrete path (which may hold a subject's id)."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiKey:
    """The key the request carries; 401 (audited) when it has none or one that is not valid."""
    state = state_of(request)
    if credentials is None:
        state.audit_refusal(None, route_name(request), 401, _path_subject(request))
        raise HTTPException(401, UNAUTHENTICATED, headers=CHALLENGE)
    key = state.keys.authenticate(credentials.credentials)
    if key is None:
        state.audit_refusal(None, route_name(request), 401, _path_subject(request))
        raise HTTPException(401, NOT_A_KEY, headers=CHALLENGE)
    return key


Caller = Annotated["ApiKey", Depends(caller)]


def _path_subject(request: Request) -> str | None:
    subject = request.path_params.get("subject")
    return subject if isinstance(subject, str) else None


def forbid(request: Request, key: ApiKey, why: str, subject: str | None = None) -> HTTPException:
    """A 403 for ``key`` saying ``why`` (audited)."""
    state_of(request).audit_refusal(key, route_name(request), 403, subject)
    return HTTPException(403, f"key {key.key_id} (role {key.role}) may not {why}")


def require(request: Request, key: ApiKey, kinds: tuple[str, ...], what: str) -> None:
    """403 unless ``key``'s role is of one of ``kinds``; ``what`` the route does, in words."""
    if key.role.kind not in kinds:
        allowed = " or ".join(
            k + (":<name>" if k in ("source", "enforcer", "subject") else "") for k in kinds
        )
        raise forbid(request, key, f"{what}: that needs role {allowed}", _path_subject(request))


def require_subject_reader(request: Request, key: ApiKey, subject: str, what: str) -> None:
    """403 unless ``key`` may read ``subject``'s file: the subject's own key, or a reviewer's
    (who decides disputes about it)."""
    role = key.role
    if role.kind == "reviewer" or (role.kind == "subject" and role.name == subject):
        return
    if role.kind == "subject":
        raise forbid(request, key, f"{what} of another subject", subject)
    raise forbid(request, key, f"{what}: only the subject's own key or a reviewer's may", subject)
