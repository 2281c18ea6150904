"""``/docs``: the OpenAPI document as one self-contained HTML page.

FastAPI's own ``/docs`` loads Swagger UI's script and style from a CDN, which a register
on a network without internet access (and this project's test machines) cannot reach: the
page stays blank. No Python package here ships Swagger UI's files, so the service renders
the document itself: every route with its method, summary, description, parameters,
request body and answers, and the schemas they name, as plain HTML with an inline style
sheet — nothing is fetched from anywhere (``/openapi.json`` stays the machine-readable
source; the page cannot send requests).
"""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#222;line-height:1.45}
h2{border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2rem}
section{border:1px solid #ddd;border-radius:4px;padding:.5rem 1rem;margin:.8rem 0}
.m{display:inline-block;min-width:4.5rem;font-weight:bold;font-family:monospace}
code,pre{font-family:monospace;background:#f5f5f5;padding:0 .2rem}
pre{padding:.5rem;overflow-x:auto;white-space:pre-wrap}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;
vertical-align:top}
"""


def _ref(schema: dict[str, Any] | None) -> str:
    """A schema named briefly: a link to a component, or its type."""
    if not schema:
        return ""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return " | ".join(_ref(s) for s in schema[key])
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return f"array of {_ref(schema.get('items'))}"
    return escape(kind)


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    out = [
        f'<section id="{escape(op.get("operationId", method + path))}">',
        f'<div><span class="m">{escape(method.upper())}</span><code>{escape(path)}</code>'
        f" — {escape(str(op.get('summary', '')))}</div>",
    ]
    if op.get("description"):
        out.append(f"<pre>{escape(str(op['description']))}</pre>")
    params = op.get("parameters") or []
    if params:
        out.append("<table><tr><th>parameter</th><th>in</th><th>type</th><th>required</th></tr>")
        for p in params:
            out.append(
                f"<tr><td><code>{escape(str(p.get('name')))}</code></td>"
                f"<td>{escape(str(p.get('in')))}</td><td>{_ref(p.get('schema'))}</td>"
                f"<td>{'yes' if p.get('required') else 'no'}</td></tr>"
            )
        out.append("</table>")
    body = op.get("requestBody")
    if body:
        kinds = ", ".join(
            f"{escape(ct)}: {_ref(c.get('schema'))}" for ct, c in body.get("content", {}).items()
        )
        out.append(f"<p>Body: {kinds}</p>")
    answers = op.get("responses") or {}
    if answers:
        out.append("<p>Answers: ")
        parts = []
        for status, r in answers.items():
            content: dict[str, Any] = next(iter(r.get("content", {}).values()), {})
            schema = content.get("schema")
            shown = f" ({_ref(schema)})" if schema else ""
            parts.append(
                f"<b>{escape(str(status))}</b> {escape(str(r.get('description', '')))}{shown}"
            )
        out.append("; ".join(parts) + "</p>")
    out.append("</section>")
    return "\n".join(out)


def _schema(name: str, schema: dict[str, Any]) -> str:
    out = [f'<section id="schema-{escape(name)}"><b>{escape(name)}</b>']
    if schema.get("description"):
        out.append(f"<p>{escape(str(schema['description']))}</p>")
    props = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    if props:
        out.append("<table><tr><th>field</th><th>type</th><th>required</th><th>about</th></tr>")
        for field, p in props.items():
            out.append(
                f"<tr><td><code>{escape(field)}</code></td><td>{_ref(p)}</td>"
                f"<td>{'yes' if field in required else 'no'}</td>"
                f"<td>{escape(str(p.get('description', '')))}</td></tr>"
            )
        out.append("</table>")
    out.append("</section>")
    return "\n".join(out)


def render(document: dict[str, Any]) -> str:
    """The page for the OpenAPI ``document``."""
    info = document.get("info", {})
    title = f"{info.get('title', 'API')} {info.get('version', '')}".strip()
    out = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>{escape(str(info.get('summary', '')))}</p>",
        '<p>The machine-readable document: <a href="/openapi.json">/openapi.json</a>. '
        "Every route but <code>/healthz</code>, <code>/metrics</code> and these pages takes "
        "<code>Authorization: Bearer &lt;key&gt;</code>.</p>",
        "<h2>Routes</h2>",
    ]
    for path, methods in document.get("paths", {}).items():
        for method, op in methods.items():
            out.append(_operation(path, method, op))
    schemas = document.get("components", {}).get("schemas", {})
    if schemas:
        out.append("<h2>Schemas</h2>")
        for name, schema in schemas.items():
            out.append(_schema(name, schema))
    out.append("</body></html>")
    return "\n".join(out)
