"""Policies: the one in force and every activation (any valid key may read them: the rules
are public), and activating a new one (admins; audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from socialcredit.api.auth import Caller, require, route_name, state_of
from socialcredit.engine import NoPolicyError
from socialcredit.ledger import PolicyVersion
from socialcredit.lint.gate import summary_json
from socialcredit.timeutil import to_iso

router = APIRouter(prefix="/v1/policy", tags=["policy"])

MAX_POLICY = 1024 * 1024


def activation_json(pv: PolicyVersion) -> dict[str, Any]:
    """One activation as ``policy history --json`` lists it."""
    return {
        "version": pv.version,
        "policy": f"{pv.policy_id}@{pv.declared_version}",
        "sha256": pv.content_hash,
        "activated_at": to_iso(pv.activated_at),
        "activated_by": pv.activated_by,
        "recorded_at": to_iso(pv.recorded_at) if pv.recorded_at is not None else None,
        "backfill": pv.backfill,
        "lint": summary_json(pv.findings(), pv.lint_override, pv.lint_findings is not None),
    }


@router.get("", summary="The policy in force now")
def active(request: Request, key: Caller) -> JSONResponse:
    """The activation in force now (as in the history) with the policy's YAML text."""
    state = state_of(request)
    engine = state.engine()
    pv = engine.policy_version_at(state.clock())
    assert pv is not None  # an engine over the ledger's history, not a file
    return JSONResponse({**activation_json(pv), "body": pv.body})


@router.get("/history", summary="Every policy activation, oldest first")
def history(request: Request, key: Caller) -> JSONResponse:
    """Every activation ever made in this ledger (``policy history --json``)."""
    return JSONResponse([activation_json(pv) for pv in state_of(request).ledger.policy_history()])


class Activation(BaseModel):
    """A policy to activate, in force from now."""

    model_config = ConfigDict(extra="forbid")
    body: str = Field(
        description="The policy's YAML text, as in a policy file (validated in full: every "
        "problem is reported with its line and field).",
        min_length=1,
        max_length=MAX_POLICY,
    )
    override: str | None = Field(
        None,
        max_length=2000,
        description="Activate despite lint errors, for this reason (recorded with the "
        "activation and its findings); without it a policy with lint errors is refused (422).",
    )


@router.post(
    "/activations",
    status_code=201,
    summary="Activate a policy (admin)",
    responses={201: {"description": "The activation made (or the one in force, if the same)."}},
)
def activate(
    request: Request, key: Caller, activation: Annotated[Activation, Body()]
) -> JSONResponse:
    """Validate the policy text and make it the active policy, in force from now (``policy
    activate``). Activating the policy in force again changes nothing; a changed policy
    needs a new declared version (409 otherwise). Admins only."""
    require(request, key, ("admin",), "activate a policy")
    from socialcredit.lint.gate import LintGateError, gate
    from socialcredit.policy import parse_policy
    from socialcredit.policy.loader import legacy_content_hash

    state = state_of(request)
    loaded = parse_policy(activation.body, "<request body>")
    try:
        passed = gate(loaded, activation.override, how='"override"')
    except LintGateError:
        state.audit(
            key, route_name(request), policy_version=loaded.label, decision="refused", status=422
        )
        raise
    now = state.clock()
    try:
        before = state.engine().policy_version_at(now)
    except NoPolicyError:
        before = None
    pv = state.ledger.activate_policy(
        loaded.text,
        loaded.policy.policy,
        loaded.policy.version,
        loaded.content_hash,
        now,
        f"key {key.key_id}" + (f" ({key.name})" if key.name else ""),
        now=now,
        earlier_hash=legacy_content_hash(loaded.policy),
        lint_findings=passed.findings,
        lint_override=passed.override,
    )
    state.entries_stored()  # the index indexes the new policy now
    state.audit(
        key,
        route_name(request),
        policy_version=f"{pv.policy_id}@{pv.declared_version}",
        decision="activated" if before is None or before.version != pv.version else "unchanged",
        status=201,
    )
    return JSONResponse(activation_json(pv), status_code=201)
