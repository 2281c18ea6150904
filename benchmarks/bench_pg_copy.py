"""Bulk ingestion into PostgreSQL (issue 8, item 7): ``socialcredit ingest``'s path (parsing
processes, every check, ``COPY`` into staging tables and ``INSERT … SELECT … ON CONFLICT``)
against a bare ``COPY`` of the same rows into the same schema, in the same run (target: at
least 50 % of the bare ``COPY``'s rate).

    .venv/bin/python benchmarks/bench_pg_copy.py [SCALE ...] [--pg URL] [--runs N]

SCALE: multiples of the demo population (default 1); ``--subjects N``: a population of N
subjects instead (e.g. 20000 for a quick comparison). Besides the whole ingest (parsing
processes and writer), the writing alone is timed, on chunks parsed beforehand. ``--pg``: the server (default
``SOCIALCREDIT_BENCH_PG``, else ``postgresql://postgres@127.0.0.1:5432/test``). Each
measurement gets a fresh schema, migrated by the ledger, dropped afterwards.

The baseline stores what the ingest stores, except corrections (their targets would
need looking up): the subjects (ids given by the program) and the records, relations and
facts, with subject ids, by ``COPY`` straight into ``subjects`` and ``entries``, one
transaction per chunk of ``CHUNK`` lines, as the ingest commits. Its rows are parsed
and validated beforehand by the ledger's own parser, outside the timed part.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg

from _common import POLICY, SPEC, machine, population_file
from socialcredit.ledger import IngestRules, Ledger
from socialcredit.ledger.files import read_lines
from socialcredit.ledger.parsing import PreparedChunk, prepare_chunks
from socialcredit.ledger.writing import write_chunks
from socialcredit.policy import load_policy

DEFAULT_PG = os.environ.get("SOCIALCREDIT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")


def population(scale: int) -> Path:
    """The demo population with ``scale`` times its subjects, as JSON Lines (made once)."""
    return population_file(replace(SPEC, subjects=SPEC.subjects * scale))


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """A new schema holding the ledger's tables; yields a URL that uses it."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    scoped = f"{url}?options=-csearch_path%3D{schema}"
    try:
        with Ledger.open(scoped) as ledger:
            ledger.upgrade()
        yield scoped
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _cpu(who: int = resource.RUSAGE_SELF) -> float:
    """CPU seconds of this process (all its threads), or of its children that ended."""
    used = resource.getrusage(who)
    return used.ru_utime + used.ru_stime


class Backends:
    """CPU seconds of the PostgreSQL server processes serving given connections (the
    server runs on this machine: read from /proc), so that the server's work is counted
    beside the client's."""

    def __init__(self) -> None:
        self.pids: set[int] = set()

    def watch(self, engine: Any) -> None:
        """Count the server processes of every connection ``engine`` hands out."""
        from sqlalchemy import event

        def checkout(dbapi: Any, _record: Any, _proxy: Any) -> None:
            self.pids.add(int(dbapi.info.backend_pid))

        event.listen(engine, "checkout", checkout)

    def cpu(self) -> float:
        """CPU seconds used so far by the watched server processes still running."""
        total = 0
        for pid in self.pids:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(stat[11]) + int(stat[12])
        return total / os.sysconf("SC_CLK_TCK")


def measure_ingest(url: str, path: Path, rules: IngestRules) -> dict[str, Any]:
    """``socialcredit ingest``'s path: parsing processes (large file) and the writer."""
    backends = Backends()
    with fresh_schema(url) as scoped, Ledger.open(scoped) as ledger:
        ledger.count_entries()  # connected, schema checked, outside the timed part
        backends.watch(ledger.engine)
        server = backends.cpu()
        start, own, children = time.perf_counter(), _cpu(), _cpu(resource.RUSAGE_CHILDREN)
        result = ledger.ingest_file(str(path), rules=rules, now=SPEC.end, backfill=True)
        seconds, own = time.perf_counter() - start, _cpu() - own
        children = _cpu(resource.RUSAGE_CHILDREN) - children
        server = backends.cpu() - server
        stored = ledger.count_entries()
    assert result.rejected == 0 and result.accepted == result.lines == stored, result.problems[:3]
    return {
        "entries": result.accepted,
        "seconds": seconds,
        "cpu": own,
        "parsing_cpu": children,
        "server_cpu": server,
    }


def measure_writer(url: str, prepared: list[PreparedChunk], rules: IngestRules) -> dict[str, Any]:
    """The ingest's writing alone: its chunks parsed beforehand, in this process."""
    backends = Backends()
    with fresh_schema(url) as scoped, Ledger.open(scoped) as ledger:
        ledger.count_entries()  # the schema check, outside the timed part
        backends.watch(ledger.engine)
        server = backends.cpu()
        start, own = time.perf_counter(), _cpu()
        result = write_chunks(ledger.engine, prepared, "population", SPEC.end, rules, None, True)
        seconds, own = time.perf_counter() - start, _cpu() - own
        server = backends.cpu() - server
    assert result.rejected == 0, result.problems[:3]
    return {"entries": result.accepted, "seconds": seconds, "cpu": own, "server_cpu": server}


def parse(path: Path, rules: IngestRules) -> list[PreparedChunk]:
    """The ingest's chunks, as one process parses and validates them."""
    lines = read_lines(str(path), None, None)
    return list(prepare_chunks(lines, str(path), rules, SPEC.end, None, True))


def baseline_chunks(prepared: list[PreparedChunk]) -> list[tuple[list[Any], list[Any]]]:
    """Per chunk: (new subjects as (id, name, kind), entries as ``entries`` rows)."""
    ids: dict[str, int] = {}
    out = []
    now = SPEC.end
    for chunk in prepared:
        assert not chunk.problems, chunk.problems[:3]
        subjects = []
        for name, kind in chunk.subjects:
            if name not in ids:
                ids[name] = len(ids) + 1
                subjects.append((ids[name], name, kind))
        rows = [
            (
                r[0],
                r[1],
                r[2],
                ids[r[3]],
                r[4],
                r[5],
                now if r[6] is None else r[6],
                r[7],
                r[8],
                r[9],
                None,
                None,
                r[10],
                1,
                r[11],
            )
            for r in chunk.rows
        ]
        rows += [
            (
                r[0],
                r[1],
                r[2],
                ids[r[3]],
                r[4],
                r[5],
                now if r[6] is None else r[6],
                r[7],
                None,
                r[8],
                None if r[9] is None else ids[r[9]],
                r[10],
                r[11],
                1,
                r[12],
            )
            for r in chunk.relations
        ]
        out.append((subjects, rows))
    return out


def measure_baseline(url: str, chunks: list[tuple[list[Any], list[Any]]]) -> dict[str, Any]:
    columns = (
        "source, entry_id, kind, subject_id, type, occurred_at, recorded_at, amount, "
        "evidence, details, related_subject_id, valid_until, claimed_recorded_at, batch_id, "
        "line"
    )
    entries = 0
    seconds = cpu = server = 0.0
    with fresh_schema(url) as scoped:
        schema = scoped.rsplit("%3D", 1)[1]
        with psycopg.connect(url, options=f"-csearch_path={schema}") as conn:
            backends = Backends()
            backends.pids.add(conn.info.backend_pid)
            for subjects, rows in chunks:
                start, started_cpu, started_server = time.perf_counter(), _cpu(), backends.cpu()
                with conn.cursor() as cur:
                    with cur.copy("COPY subjects (id, name, kind) FROM STDIN") as copy:
                        for subject in subjects:
                            copy.write_row(subject)
                    with cur.copy(f"COPY entries ({columns}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                conn.commit()
                seconds += time.perf_counter() - start
                cpu += _cpu() - started_cpu
                server += backends.cpu() - started_server
                entries += len(rows)
    return {"entries": entries, "seconds": seconds, "cpu": cpu, "server_cpu": server}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scales", nargs="*", type=int, default=[1])
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--subjects", type=int, help="a population of this many subjects instead of SCALEs"
    )
    args = parser.parse_args()
    rules = IngestRules.from_policy(load_policy(POLICY).policy)
    print(f"machine: {machine()}; server: {args.pg}")
    sizes = [(f"{scale}x", population(scale)) for scale in args.scales]
    if args.subjects:
        sizes = [
            (f"{args.subjects:,} subjects", population_file(replace(SPEC, subjects=args.subjects)))
        ]
    for scale, path in sizes:
        prepared = parse(path, rules)
        chunks = baseline_chunks(prepared)
        for run in range(1, args.runs + 1):
            load = os.getloadavg()[0]
            base = measure_baseline(args.pg, chunks)
            ingest = measure_ingest(args.pg, path, rules)
            writer = measure_writer(args.pg, prepared, rules)
            base_rate = base["entries"] / base["seconds"]
            rate = ingest["entries"] / ingest["seconds"]
            writer_rate = writer["entries"] / writer["seconds"]
            # CPU seconds per million entries: what the rates come to on an idle machine
            # (the client and the server each on a core of their own, overlapping
            # partly), and what the load of other processes does not change
            base_cpu = (base["cpu"] + base["server_cpu"]) / base["entries"] * 1e6
            writer_cpu = (writer["cpu"] + writer["server_cpu"]) / writer["entries"] * 1e6
            ingest_cpu = ingest["cpu"] + ingest["parsing_cpu"] + ingest["server_cpu"]
            print(
                f"{scale} run {run} (load average {load:.1f} before, "
                f"{os.getloadavg()[0]:.1f} after):\n"
                f"  bare COPY: {base['entries']:,} entries in {base['seconds']:.1f}s = "
                f"{base_rate:,.0f} entries/s; CPU {base['cpu']:.1f}s client + "
                f"{base['server_cpu']:.1f}s server = {base_cpu:.1f}s per million\n"
                f"  ingest: {ingest['entries']:,} entries in {ingest['seconds']:.1f}s = "
                f"{rate:,.0f} entries/s = {rate / base_rate:.0%} of the bare COPY; CPU "
                f"{ingest['cpu']:.1f}s writer + {ingest['parsing_cpu']:.1f}s parsing + "
                f"{ingest['server_cpu']:.1f}s server = {ingest_cpu:.1f}s\n"
                f"  writing alone (parsed beforehand): {writer['seconds']:.1f}s = "
                f"{writer_rate:,.0f} entries/s = {writer_rate / base_rate:.0%} of the bare "
                f"COPY; CPU {writer['cpu']:.1f}s writer + {writer['server_cpu']:.1f}s server "
                f"= {writer_cpu:.1f}s per million = {base_cpu / writer_cpu:.0%} of the bare "
                "COPY's rate by CPU",
                flush=True,
            )


if __name__ == "__main__":
    main()
