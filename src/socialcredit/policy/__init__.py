"""Policies: the published rules, as validated data."""

from socialcredit.policy.compiled import CompiledPolicy, compile_policy
from socialcredit.policy.loader import (
    LoadedPolicy,
    PolicyError,
    PolicyProblem,
    content_hash,
    load_policy,
    parse_policy,
    policy_json_schema,
)
from socialcredit.policy.model import Policy

__all__ = [
    "CompiledPolicy",
    "LoadedPolicy",
    "Policy",
    "PolicyError",
    "PolicyProblem",
    "compile_policy",
    "content_hash",
    "load_policy",
    "parse_policy",
    "policy_json_schema",
]
