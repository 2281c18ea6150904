"""A simulation's outputs: per-day metrics (Parquet), ``summary.json`` and ``report.html``.

``days.parquet`` has one row per (policy, day, group, metric): ``policy`` (``name@version``),
``day`` (0-based), ``date`` (ISO), ``group`` (a scenario group, or ``all``), ``metric`` (see
``socialcredit.sim.metrics``; plus ``score_mean`` and ``score_gini``) and ``value``.
``report.html`` is one self-contained page (inline SVG, no script, nothing fetched).
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from socialcredit import __version__
from socialcredit.export import umask
from socialcredit.sim.metrics import PolicyMetrics
from socialcredit.sim.run import SimResult
from socialcredit.timeutil import DAY, to_date


def rows(result: SimResult) -> dict[str, list[Any]]:
    """The per-day table as columns (see the module docstring)."""
    spec = result.spec
    groups = list(result.scenario.scenario.groups)
    dates = [to_date(spec.start + d * DAY) for d in range(spec.days)]
    out: dict[str, list[Any]] = {
        k: [] for k in ("policy", "day", "date", "group", "metric", "value")
    }

    def put(label: str, group: str, metric: str, values: Any) -> None:
        out["policy"] += [label] * spec.days
        out["day"] += list(range(spec.days))
        out["date"] += dates
        out["group"] += [group] * spec.days
        out["metric"] += [metric] * spec.days
        out["value"] += [float(v) for v in values]

    for policy, m in zip(result.policies, result.metrics, strict=True):
        label = policy.loaded.label
        for name in sorted(m.counts):
            values = m.counts[name]
            put(label, "all", name, values.sum(axis=1))
            for gi, gname in enumerate(groups):
                put(label, gname, name, values[:, gi])
        which: list[tuple[int | None, str]] = [(None, "all"), *enumerate(groups)]
        for which_group, gname in which:
            mean, gini = m.score_summary(which_group)
            put(label, gname, "score_mean", mean)
            put(label, gname, "score_gini", gini)
    return out


def headline(result: SimResult) -> list[dict[str, Any]]:
    """Per policy, the figures a reader asks first (last day, or over the whole run)."""
    groups = list(result.scenario.scenario.groups)
    out = []
    for policy, m in zip(result.policies, result.metrics, strict=True):
        last = result.spec.days - 1
        subjects = m.counts["subjects"][last]

        def at_end(name: str, m: PolicyMetrics = m, last: int = last) -> int:
            return int(m.counts[name][last].sum()) if name in m.counts else 0

        rate = {
            g: float(m.counts["sanctioned"][last, i] / subjects[i]) if subjects[i] else 0.0
            for i, g in enumerate(groups)
        }
        positive = [r for r in rate.values() if r > 0]
        wrongful_spells = m.spells.get("wrongful")
        lengths = np.arange(result.spec.days + 1)
        done = wrongful_spells.sum(axis=0) if wrongful_spells is not None else np.zeros(1)
        mean_gini = m.score_summary(None)
        out.append(
            {
                "policy": policy.loaded.label,
                "policy_hash": policy.loaded.content_hash,
                "subjects": int(subjects.sum()),
                "sanctioned_last_day": at_end("sanctioned"),
                "sanctioned_wrongful_last_day": at_end("sanctioned_wrongful"),
                "sanctioned_via_relation_last_day": at_end("sanctioned_via_relation"),
                "rewarded_last_day": at_end("rewarded"),
                "exited_last_day": at_end("exited"),
                "conduct_avoided_total": int(m.counts["conduct_avoided"].sum())
                if "conduct_avoided" in m.counts
                else 0,
                "ever_wrongfully_sanctioned_spells": int(
                    (wrongful_spells.sum() if wrongful_spells is not None else 0)
                    + m.censored.get("wrongful", np.zeros(1, np.int64)).sum()
                ),
                "wrongful_spell_mean_days_completed": (
                    float((done * lengths[: len(done)]).sum() / done.sum()) if done.sum() else None
                ),
                "purchases_refused_total": {
                    name.removeprefix("purchases_refused:"): int(values.sum())
                    for name, values in sorted(m.counts.items())
                    if name.startswith("purchases_refused:")
                },
                "list_spell_mean_days_completed": {
                    lst.name: _mean_length(m.spells.get(f"list:{lst.name}")) for lst in policy.lists
                },
                "lists_last_day": {lst.name: at_end(f"list:{lst.name}") for lst in policy.lists},
                "sanction_rate_by_group_last_day": rate,
                "sanction_rate_ratio_max_min": (max(positive) / min(positive))
                if len(positive) > 1
                else None,
                "score_mean_last_day": _finite(mean_gini[0][last]),
                "score_gini_last_day": _finite(mean_gini[1][last]),
            }
        )
    return out


def _mean_length(spells: np.ndarray | None) -> float | None:
    """The mean length in days of completed spells (None: none completed)."""
    if spells is None:
        return None
    done = spells.sum(axis=0)
    total = int(done.sum())
    return float((done * np.arange(len(done))).sum() / total) if total else None


def _finite(value: float) -> float | None:
    return None if value != value else float(value)


def summary(result: SimResult) -> dict[str, Any]:
    """``summary.json``: parameters, hashes, version, cost and the headline figures."""
    spec = result.spec
    return {
        "socialcredit_version": __version__,
        "parameters": {
            "population": spec.population,
            "days": spec.days,
            "seed": spec.seed,
            "start": to_date(spec.start),
            "chunk_size": result.chunk_size,
            "workers": result.workers,
            "evaluator": result.evaluator,
        },
        "scenario": {
            "name": result.scenario.scenario.scenario,
            "source": result.scenario.source,
            "content_hash": result.scenario.content_hash,
            "text_sha256": hashlib.sha256(result.scenario.text.encode()).hexdigest(),
        },
        "policies": [
            {
                "label": p.loaded.label,
                "source": p.loaded.source,
                "content_hash": p.loaded.content_hash,
                # how its agents were read: on the days their standing can change
                # ("events"), or on every day ("reference": where the events one does not
                # apply — behaviour feedback, exemptions — or would not pay)
                "agents_read_by": dict(sorted(m.read_by.items())),
            }
            for p, m in zip(result.policies, result.metrics, strict=True)
        ],
        "cost": {
            "wall_seconds": round(result.wall_seconds, 3),
            "cpu_seconds_this_process": round(result.cpu_seconds, 3),
            "peak_rss_bytes_this_process": result.peak_rss_bytes,
            "peak_rss_bytes_largest_worker": result.worker_peak_rss_bytes,
            "evaluator": result.evaluator,
            "agent_days": result.agent_days,
            "agent_days_this_run": result.agent_days_this_run,
            "agent_days_per_second_wall": (
                round(result.agent_days_this_run / result.wall_seconds)
                if result.wall_seconds
                else None
            ),
            # resumed from a checkpoint: the figures above are this run's own, over the
            # chunks it did; the earlier runs' costs are listed
            "resumed_at_chunk": result.resumed_at_chunk,
            "chunks": result.chunks,
            "earlier_parts": result.earlier_parts,
        },
        "headline": headline(result),
        "notes": result.notes,
    }


REPORT_FILES = ("days.parquet", "summary.json", "report.html")
"""The files ``write_report`` writes into its directory."""


def write_report(result: SimResult, directory: Path) -> list[Path]:
    """Write ``days.parquet``, ``summary.json`` and ``report.html`` into ``directory``
    (created if needed); each file whole or not at all. Returns the paths written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    table = pa.table(rows(result))
    written = []
    parquet = directory / "days.parquet"
    _atomic(parquet, lambda tmp: pq.write_table(table, tmp))
    written.append(parquet)
    data = summary(result)
    path = directory / "summary.json"
    _atomic(path, lambda tmp: Path(tmp).write_text(json.dumps(data, indent=2) + "\n"))
    written.append(path)
    path = directory / "report.html"
    page = report_html(result, data)
    _atomic(path, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
    written.append(path)
    return written


def _atomic(path: Path, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes the file 0600; a report is meant to be shared, as any new file is
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


COLOURS = ("#1b6ca8", "#d1495b", "#edae49", "#66a182", "#8d6a9f", "#2e4057", "#00798c", "#a05195")


def axis_number(value: float) -> str:
    """A chart's axis value short enough for its margin: counts whole with thousands
    separators (3,150), shares to three significant digits (0.0644)."""
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.3g}"


def svg_lines(title: str, series: dict[str, Any], days: int, y_label: str = "") -> str:
    """A line chart as inline SVG: one line per series (values per day)."""
    w, h, pad = 640, 240, 44
    values = [np.asarray(v, dtype=float) for v in series.values()]
    finite = [v[np.isfinite(v)] for v in values]
    top = max([float(f.max()) for f in finite if len(f)] + [0.0]) or 1.0
    bottom = min([float(f.min()) for f in finite if len(f)] + [0.0])
    span = (top - bottom) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h + 20 * len(series)}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="{pad}" y="16" font-size="14">{html.escape(title)}</text>',
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - 10}" y2="{h - pad}" stroke="#999"/>',
        f'<line x1="{pad}" y1="24" x2="{pad}" y2="{h - pad}" stroke="#999"/>',
        f'<text x="2" y="30" font-size="10">{axis_number(top)}</text>',
        f'<text x="2" y="{h - pad}" font-size="10">{axis_number(bottom)}</text>',
        f'<text x="{pad}" y="{h - pad + 14}" font-size="10">day 1</text>',
        f'<text x="{w - 60}" y="{h - pad + 14}" font-size="10">day {days}</text>',
        f'<text x="{pad + 4}" y="36" font-size="10" fill="#555">{html.escape(y_label)}</text>',
    ]
    for i, (name, v) in enumerate(zip(series, values, strict=True)):
        colour = COLOURS[i % len(COLOURS)]
        xs = pad + np.arange(len(v)) * (w - 10 - pad) / max(len(v) - 1, 1)
        ys = (h - pad) - (np.nan_to_num(v, nan=bottom) - bottom) / span * (h - pad - 24)
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>'
        )
        ly = h + 14 + 20 * i - 10
        parts.append(f'<rect x="{pad}" y="{ly - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{pad + 16}" y="{ly}" font-size="12">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


HEADLINE_FIGURES = (
    "subjects",
    "under a denial",
    "of them wrongfully",
    "through a relation",
    "under a benefit",
    "mean score",
    "Gini of scores",
    "highest / lowest group sanction rate",
)
"""The headline figures of the last simulated day, by the names the README explains."""


def headline_values(data: dict[str, Any]) -> list[list[str]]:
    """Per policy of ``summary``'s ``data``, its ``HEADLINE_FIGURES`` written for a person
    (the report's table and the command's)."""
    out = []
    for h in data["headline"]:
        ratio = h["sanction_rate_ratio_max_min"]
        out.append(
            [
                f"{h['subjects']:,}",
                f"{h['sanctioned_last_day']:,}",
                f"{h['sanctioned_wrongful_last_day']:,}",
                f"{h['sanctioned_via_relation_last_day']:,}",
                f"{h['rewarded_last_day']:,}",
                _fmt(h["score_mean_last_day"]),
                _fmt(h["score_gini_last_day"]),
                "—" if ratio is None else f"{ratio:.2f}",
            ]
        )
    return out


def report_html(result: SimResult, data: dict[str, Any]) -> str:
    """The self-contained report page (charts and tables; no script, no network)."""
    spec = result.spec
    groups = list(result.scenario.scenario.groups)
    esc = html.escape
    body = [
        f"<h1>Simulation: {esc(result.scenario.scenario.scenario)}</h1>",
        f"<p>{spec.population:,} simulated subjects over {spec.days} days from "
        f"{esc(str(to_date(spec.start)))}, seed {spec.seed}; policies: "
        + ", ".join(esc(p.loaded.label) for p in result.policies)
        + f". socialcredit {esc(__version__)}.</p>",
        "<p>Every figure is counted at the end of each simulated day with the same compiled "
        "policy the live scorer uses. A <b>wrongful sanction</b> is a denial in force that "
        "would not be in force had no record been attributed to the wrong subject.</p>",
        "<h2>Headline (last simulated day)</h2><table><tr><th>policy</th>"
        + "".join(f"<th>{esc(name)}</th>" for name in HEADLINE_FIGURES)
        + "</tr>",
    ]
    for h, values in zip(data["headline"], headline_values(data), strict=True):
        body.append(
            f"<tr><td>{esc(h['policy'])}</td>"
            + "".join(f"<td>{esc(v)}</td>" for v in values)
            + "</tr>"
        )
    body.append("</table>")
    for policy, m in zip(result.policies, result.metrics, strict=True):
        label = policy.loaded.label
        body.append(f"<h2>{esc(label)}</h2>")
        grades = {
            name.removeprefix("grade:"): m.counts[name].sum(axis=1)
            / np.maximum(m.counts["subjects"].sum(axis=1), 1)
            for name in m.counts
            if name.startswith("grade:") and m.counts[name].any()
        }
        body.append(svg_lines("Grade shares", grades, spec.days, "share of subjects"))
        lists = {lst.name: m.counts[f"list:{lst.name}"].sum(axis=1) for lst in policy.lists}
        if lists:
            body.append(svg_lines("List sizes", lists, spec.days, "subjects on the list"))
        sanctioned = m.counts["sanctioned"].sum(axis=1)
        wrongful = m.counts["sanctioned_wrongful"].sum(axis=1)
        body.append(
            svg_lines(
                "Sanctions: rightful and wrongful",
                {"rightful": sanctioned - wrongful, "wrongful": wrongful},
                spec.days,
                "subjects under a denial",
            )
        )
        by_group = {
            g: m.counts["sanctioned"][:, i] / np.maximum(m.counts["subjects"][:, i], 1)
            for i, g in enumerate(groups)
        }
        body.append(
            svg_lines("Sanction rate by group", by_group, spec.days, "share under a denial")
        )
    if len(result.policies) > 1:
        body.append("<h2>Policies side by side</h2>")
        body.append(
            svg_lines(
                "Subjects under a denial",
                {
                    p.loaded.label: m.counts["sanctioned"].sum(axis=1)
                    for p, m in zip(result.policies, result.metrics, strict=True)
                },
                spec.days,
            )
        )
    cost = data["cost"]
    body.append(
        f"<h2>Run</h2><p>Scenario {esc(result.scenario.source)} (hash "
        f"{esc(result.scenario.content_hash[:12])}); wall time {cost['wall_seconds']} s; "
        f"{cost['agent_days']:,} agent-days.{_resumed(result)}</p>"
    )
    style = (
        "body{font-family:sans-serif;max-width:920px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
        "text-align:right}th{background:#f4f4f4}svg{display:block;margin:1em 0}"
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>Simulation report</title><style>{style}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def _resumed(result: SimResult) -> str:
    """What a run resumed from a checkpoint did itself, and what the earlier runs took."""
    if not result.resumed_at_chunk:
        return ""
    earlier = result.earlier_parts
    wall = sum(float(p.get("wall_seconds", 0)) for p in earlier)
    return (
        f" Resumed from a checkpoint after {result.resumed_at_chunk:,} of "
        f"{result.chunks:,} chunks: the wall time is this run's, over "
        f"{result.agent_days_this_run:,} agent-days; {len(earlier):,} earlier "
        f"run{'' if len(earlier) == 1 else 's'} took {wall:,.1f} s of wall time."
    )


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:,.3f}"
