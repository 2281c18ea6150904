"""Reading policy files: YAML in, a validated ``Policy`` out, or problems with file and line."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import ValidationError

from socialcredit.errors import SocialCreditError
from socialcredit.policy.checks import Path, cross_reference_problems
from socialcredit.policy.model import Policy


@dataclass(frozen=True)
class PolicyProblem:
    """One thing wrong with a policy file, located by line and by field path."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        at = f" at {self.path}" if self.path else ""
        return f"{where}{at}: {self.message}"


class PolicyError(SocialCreditError, ValueError):
    """A policy that cannot be used; ``problems`` says every reason found."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class LoadedPolicy:
    """A validated policy with the text it came from and its content hash."""

    policy: Policy
    text: str
    source: str
    content_hash: str = field(default="")
    lines: dict[Path, int] = field(default_factory=dict, compare=False, repr=False)
    """The YAML line of each field path in ``text`` (keys as written, list items by index);
    empty for a policy not read from text."""

    def line_of(self, path: Path) -> int | None:
        """The line of ``path`` in the file, or of the nearest enclosing field it has."""
        return _locate(self.lines, path)

    @property
    def label(self) -> str:
        """``policy@version``."""
        return self.policy.label()

    @property
    def short_hash(self) -> str:
        """The first 12 hex digits of the content hash."""
        return self.content_hash[:12]


def _canonical(policy: Policy, context: dict[str, Any] | None = None) -> str:
    data = policy.model_dump(mode="json", by_alias=True, context=context)
    return json.dumps(data, sort_keys=True)


def content_hash(policy: Policy) -> str:
    """SHA-256 of the policy's rules in canonical JSON: same rules, same hash, whatever the layout."""
    return hashlib.sha256(_canonical(policy).encode()).hexdigest()


def legacy_content_hash(policy: Policy) -> str:
    """The content hash the policy had before durations were calendar spans (a year was
    then 365 days and a month 30): a policy stored then carries this one. Equal to
    ``content_hash`` for a policy written without years and months."""
    return hashlib.sha256(_canonical(policy, {"legacy": True}).encode()).hexdigest()


MAX_NESTING = 64
"""How deep a policy's YAML may nest: every mapping and list is a level, the document's top
mapping level 1. Real policies use about 10; the limit keeps parsing, validation and
evaluation (which recurse) far from Python's recursion limit."""


class _AliasError(ValueError):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _structure_problem(text: str) -> tuple[int, str] | None:
    """See ``_structure_in``; read by libyaml first when PyYAML has it (a text libyaml finds
    no fault in is read again by PyYAML only when libyaml sees a problem or an error, so
    the answer is always PyYAML's)."""
    if _C_EVENTS is not None:
        try:
            if _structure_in(text, _C_EVENTS) is None:
                return None
        except yaml.YAMLError:
            pass
    try:
        return _structure_in(text, yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def _structure_in(text: str, loader: Any) -> tuple[int, str] | None:
    """The first line where ``text`` nests deeper than ``MAX_NESTING`` or uses a mapping or
    list as a key, with what is wrong; None when neither happens. Invalid YAML raises
    ``yaml.YAMLError`` (``_structure_problem`` then answers None: parsing it again reports it).

    It reads the parser's events, which PyYAML produces without recursion, so it runs before
    anything that recurses (composing nodes, building objects, validating) sees the text.
    """
    # one entry per open collection: for a mapping, whether its next node is a key
    open_: list[bool | None] = []
    for event in yaml.parse(text, Loader=loader):
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        is_node = isinstance(event, yaml.NodeEvent)
        if is_node and open_ and open_[-1] is not None:
            if open_[-1] and not isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
                return (
                    line,
                    "a mapping or list used as a key (`? [a, b]`); keys are plain names",
                )
            open_[-1] = not open_[-1]
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            if len(open_) >= MAX_NESTING:
                return (
                    line,
                    f"nested more than {MAX_NESTING} levels deep (each mapping and list is a "
                    "level); a policy needs far fewer",
                )
            open_.append(True if isinstance(event, yaml.MappingStartEvent) else None)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            open_.pop()
    return None


def _unique_keys(
    loader: yaml.constructor.SafeConstructor, node: yaml.MappingNode, deep: bool
) -> None:
    """Refuse a key given twice in one mapping (PyYAML keeps the last)."""
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is given twice", key_node.start_mark
            )
        seen.add(key)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        _unique_keys(self, node, deep)
        return super().construct_mapping(node, deep)


_C_EVENTS: Any = (
    getattr(yaml, "CSafeLoader", None) if getattr(yaml, "__with_libyaml__", False) else None
)
"""libyaml's parser, when PyYAML has it: the structure check reads its events first (fast);
it is more lenient than PyYAML's own, so only its "nothing wrong" is taken as it is."""


def _read_yaml(text: str, lines: dict[Path, int]) -> tuple[yaml.Node | None, Any]:
    """The document's root node (the line of each field added to ``lines``) and its data, in
    one pass of PyYAML's reader (``yaml.compose`` and then ``yaml.load`` read it twice)."""
    loader = _UniqueKeyLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        _line_map(root, (), lines)
        return root, loader.construct_document(root)
    finally:
        loader.dispose()


def _line_map(
    node: yaml.Node, path: Path, out: dict[Path, int], seen: set[int] | None = None
) -> None:
    # An alias reuses a node: refuse it, as policies need none and nested aliases blow up
    seen = set() if seen is None else seen
    if id(node) in seen:
        raise _AliasError(node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        seen.add(id(node))
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*path, key)] = key_node.start_mark.line + 1
            _line_map(value_node, (*path, key), out, seen)
            out[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, (*path, i), out, seen)


def _locate(lines: dict[Path, int], path: Path) -> int | None:
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            return lines[path[:cut]]
    return None


def dotted(path: Path) -> str:
    """A field path as problems name it: ``sanctions.no_flights.reach[0]``."""
    return _dotted(path)


def _dotted(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_ALIASES = {"all_": "all", "any_": "any", "not_": "not", "on_list": "list"}


def _clean_loc(loc: tuple[int | str, ...]) -> Path:
    # pydantic inserts the name of the union member or tag into a location; drop those
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and part.startswith(("function-", "literal[", "<")):
            continue
        out.append(_ALIASES.get(part, part) if isinstance(part, str) else part)
    return tuple(out)


def _message(err: Any) -> str:
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "missing":
        return "this field is required"
    if err["type"] == "extra_forbidden":
        return "unknown field (check the spelling; `socialcredit policy schema` lists fields)"
    if "input" in err and not isinstance(err["input"], dict | list):
        message += f" (got {err['input']!r})"
    return message


_FIELD_FIRST = re.compile(r"([a-z_]+(?:\.[a-z_]+)*): (.+)", re.DOTALL)


def _at_field(lines: dict[Path, int], path: Path, message: str) -> tuple[Path, str]:
    """A problem whose message starts with the field it is about (``term.min: …``, from a
    check of several fields together) is reported at that field, when the file has it."""
    match = _FIELD_FIRST.fullmatch(message)
    if match is None:
        return path, message
    below = (*path, *match.group(1).split("."))
    if below not in lines:
        return path, message
    return below, match.group(2)


def parse_policy(text: str, source: str = "<policy>") -> LoadedPolicy:
    """Validate policy text; raise ``PolicyError`` listing every problem with line and field path.

    Every independent problem is reported in one run, in line order: field problems (types,
    durations, unknown fields) and reference problems (undeclared names) together. Text
    nested deeper than ``MAX_NESTING`` or with a mapping or list as a key is one problem, at
    its line; nothing else is ever raised.
    """
    try:
        return _parse_policy(text, source)
    except RecursionError:  # not reached within MAX_NESTING; a clear error all the same
        raise PolicyError(
            [PolicyProblem(source, None, "", f"nested too deeply (at most {MAX_NESTING} levels)")]
        ) from None


def read_yaml(text: str, source: str) -> tuple[Any, dict[Path, int]]:
    """Parse a YAML document of this package (a policy, a scenario) safely: the data and the
    line of every field path in it. Raise ``PolicyError`` with one located problem when the
    text is not valid YAML, nests too deeply, uses anchors or aliases, gives a key twice or
    uses a mapping or list as a key."""
    lines: dict[Path, int] = {}
    structure = _structure_problem(text)
    if structure is not None:
        raise PolicyError([PolicyProblem(source, structure[0], "", structure[1])])
    try:
        root, data = _read_yaml(text, lines)
    except _AliasError as exc:
        raise PolicyError(
            [PolicyProblem(source, exc.line, "", "YAML anchors and aliases are not allowed here")]
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        msg = f"not valid YAML: {exc.problem or exc}"
        if exc.context:
            msg += f" ({exc.context})"
        raise PolicyError([PolicyProblem(source, line, "", msg)]) from None
    except yaml.YAMLError as exc:
        raise PolicyError([PolicyProblem(source, None, "", f"not valid YAML: {exc}")]) from None
    return (data if root is not None else None), lines


def validation_problems(exc: ValidationError, lines: dict[Path, int]) -> list[tuple[Path, str]]:
    """A pydantic validation error as (field path, message) pairs, each at the deepest field
    the file has (a message naming a field below the path is moved to it)."""
    found = [(_clean_loc(err["loc"]), _message(err)) for err in exc.errors()]
    return [_at_field(lines, path, message) for path, message in found]


def located(
    source: str, lines: dict[Path, int], found: list[tuple[Path, str]]
) -> list[PolicyProblem]:
    """(field path, message) pairs as problems with the file's line numbers, in line order."""
    problems = [PolicyProblem(source, _locate(lines, p), _dotted(p), m) for p, m in found]
    problems.sort(key=lambda p: (p.line is None, p.line or 0))
    return problems


def _parse_policy(text: str, source: str) -> LoadedPolicy:
    data, lines = read_yaml(text, source)
    if not isinstance(data, dict):
        raise PolicyError(
            [PolicyProblem(source, 1, "", "a policy is a YAML mapping (policy:, version:, ...)")]
        )
    found: list[tuple[Path, str]] = []
    policy: Policy | None = None
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        found = validation_problems(exc, lines)
    # reference checks read the raw data, so they run on whatever parts validated too: every
    # independent problem is reported in one run; one already reported at or above a path is
    # not reported again below it
    invalid = [path for path, _ in found if path]
    crossed: list[tuple[Path, str]] = []
    for path, message in cross_reference_problems(data):
        if not any(path[: len(bad)] == bad for bad in invalid):
            crossed.append((path, message))
    # a reference problem about a whole list (``in: [1]`` on a number attribute) says what
    # is wrong with its items too: their own type errors would report it a second time
    covered = {path for path, _ in crossed}
    found = [(p, m) for p, m in found if not (p and isinstance(p[-1], int) and p[:-1] in covered)]
    found += crossed
    if found or policy is None:
        raise PolicyError(located(source, lines, found))
    return LoadedPolicy(
        policy=policy, text=text, source=source, content_hash=content_hash(policy), lines=lines
    )


def load_policy(path: str | FsPath) -> LoadedPolicy:
    """Read and validate a policy file; raise ``PolicyError`` (never a traceback) when it is bad."""
    p = FsPath(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError([PolicyProblem(str(p), None, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([PolicyProblem(str(p), None, "", f"cannot read: {exc}")]) from None
    return parse_policy(text, str(p))


def _names_as_keys(node: Any) -> None:
    # pydantic writes a mapping keyed by names as patternProperties, which lets any other key
    # through; a policy's keys must match the pattern, so it belongs in propertyNames
    if isinstance(node, dict):
        pattern = node.get("patternProperties")
        if isinstance(pattern, dict) and len(pattern) == 1 and "propertyNames" in node:
            ((regex, item),) = pattern.items()
            del node["patternProperties"]
            node["propertyNames"] = {**node["propertyNames"], "pattern": regex}
            node["additionalProperties"] = item
        for value in node.values():
            _names_as_keys(value)
    elif isinstance(node, list):
        for value in node:
            _names_as_keys(value)


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of the policy language, for editors and other tools.

    It accepts the policy files ``parse_policy`` accepts as far as their shape goes (fields,
    types, vocabularies, name patterns, durations written as strings); what needs the whole
    policy (declared names, grade order) is checked by ``parse_policy`` alone.
    """
    schema = Policy.model_json_schema(by_alias=True)
    _names_as_keys(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "socialcredit policy"
    return schema
