"""The HTTP service under load (issue 8, item 9): checks over HTTP at saturation and at a
fixed offered rate, batch checks, and ingestion over HTTP, each with its baseline from the
same run.

The server runs in its own process group (``socialcredit serve``, one worker unless
``--workers``); the load comes from a separate process on 127.0.0.1: ``wrk`` with
``benchmarks/checks.lua`` at saturation (closed loop: each connection sends its next
request when the last is answered), and ``benchmarks/openloop.py`` at a fixed offered rate
(open loop: requests due at fixed times, latency measured from the time each was due, so
a slow server cannot hide its delay by slowing the load down). Baselines: a bare ASGI app
answering a constant JSON under the same uvicorn settings and the same load (what the
machine and server stack can do at all; at the fixed rate also what the generator itself
adds), and, for ingestion, ``Ledger.ingest_entries`` of the same entries in-process.

Every row gives the connections and the offered rate, and the server process's CPU time
per request (user + system, every thread, from ``/proc/PID/stat`` around the run): a
figure a loaded machine changes far less than the rates. ``--old TREE`` serves the same
runs from another checkout first (its ``src`` first on ``PYTHONPATH``, this environment),
then this tree's, back to back, so the two are compared under much the same load.

    .venv/bin/python benchmarks/bench_http.py [--db URL] [--seconds 15] [--connections 64]
        [--rate 1000] [--old /tmp/oldh]

Without ``--db``, the demo database (benchmarks/.data/demo.db, built once) is used.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine

HERE = Path(__file__).resolve().parent
LUA = HERE / "checks.lua"
OPENLOOP = HERE / "openloop.py"

BARE_APP = """
import orjson
BODY = orjson.dumps({"decision": "allow", "reasons": [], "eligible_again_on": None})
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[bytes], within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {within} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def no_notices(env: dict[str, str]) -> list[str]:
    """The checks and ingestion alone: no background notices (a worker's first look at
    everyone would share the CPU with the load for minutes on the demo), where the tree
    run with ``env`` has them (``--notice-interval``; an older one has no notifier)."""
    shown = subprocess.run(
        [sys.executable, "-m", "socialcredit", "serve", "--help"],
        env={**env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
    ).stdout
    return ["--notice-interval", "0"] if "--notice-interval" in shown else []


def serve(db: str, workers: int, tree: Path | None = None) -> tuple[str, subprocess.Popen[bytes]]:
    """``socialcredit serve`` on a free port (from ``tree``'s sources if given)."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree / "src")
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "socialcredit",
            "serve",
            "--db",
            db,
            "--port",
            str(port),
            "--workers",
            str(workers),
            *no_notices(env),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    wait_up(base + "/healthz", proc)
    return base, proc


def serve_bare(tmp: Path) -> tuple[str, subprocess.Popen[bytes]]:
    (tmp / "bare_app.py").write_text(BARE_APP)
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bare_app:app",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    wait_up(base + "/", proc)
    return base, proc


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process ``pid`` has used (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(
    base: str,
    bodies: Path,
    token: str,
    *,
    path: str,
    connections: int,
    seconds: int,
    delay_ms: int = 0,
    threads: int = 1,
    pid: int | None = None,
) -> dict[str, Any]:
    """One wrk run; its RESULT line as a dict, with the achieved rate (and, given the
    server's ``pid``, the server's CPU time per request: a figure the machine's load
    changes far less than the rate)."""
    env = {
        **os.environ,
        "BODIES": str(bodies),
        "TOKEN": token,
        "CHECK_PATH": path,
        "DELAY_MS": str(delay_ms),
    }
    cpu = cpu_seconds(pid) if pid is not None else 0.0
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(LUA),
            base,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line[len("RESULT ") :])
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    if pid is not None:
        result["cpu_us"] = (cpu_seconds(pid) - cpu) / max(result["requests"], 1) * 1e6
    return result


def settle(pid: int, within: float, idle: float = 0.05) -> str:
    """Wait until the server ``pid`` is done with its start-up work in the background (the
    notifier's first look at everyone, for one): its CPU use under ``idle`` of a core over
    3 s, for at most ``within`` seconds. Says how it went."""
    start = time.monotonic()
    use = 0.0
    while time.monotonic() - start < within:
        before = cpu_seconds(pid)
        time.sleep(3)
        use = (cpu_seconds(pid) - before) / 3
        if use < idle:
            return f"idle after {time.monotonic() - start:.0f} s"
    return (
        f"STILL BUSY after {time.monotonic() - start:.0f} s ({use:.0%} of a core with no "
        "requests): its background work is measured with the checks"
    )


def openloop(
    url: str,
    bodies: Path,
    token: str,
    *,
    rate: float,
    seconds: int,
    connections: int = 64,
    pid: int | None = None,
) -> dict[str, Any]:
    """One run of ``openloop.py`` (its own process) at ``rate`` requests a second; its
    RESULT line as a dict, with the server's CPU time per request given its ``pid``."""
    cpu = cpu_seconds(pid) if pid is not None else 0.0
    out = subprocess.run(
        [
            sys.executable,
            str(OPENLOOP),
            "--url",
            url,
            "--rate",
            str(rate),
            "--seconds",
            str(seconds),
            "--bodies",
            str(bodies),
            "--token",
            token,
            "--connections",
            str(connections),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line[len("RESULT ") :])
    if pid is not None:
        result["cpu_us"] = (cpu_seconds(pid) - cpu) / max(result["answered"], 1) * 1e6
    return result


def make_key(db: str, role: str) -> str:
    from socialcredit.keys import KeyStore
    from socialcredit.ledger import Ledger

    with Ledger.open(db) as ledger:
        _, token = KeyStore(ledger).create(role, "benchmark", int(time.time()))
    return token


def make_key_with(tree: Path, db: str, role: str) -> str:
    """A key made by ``tree``'s own code (for a database at its schema)."""
    return subprocess.run(
        [sys.executable, "-m", "socialcredit", "keys", "create", "--db", db, "--role", role],
        env={**os.environ, "PYTHONPATH": str(tree / "src")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def subjects_of(db: str, n: int) -> list[str]:
    from socialcredit.ledger import Ledger

    with Ledger.open(db) as ledger:
        names = ledger.subject_names()
    random.seed(8)
    return random.sample(names, min(n, len(names)))


def fresh_ledger(kind: str, tmp: Path) -> tuple[str, Any]:
    """A new ledger under china-scs (in force from 2026-01-01): a SQLite file in ``tmp`` or
    a new PostgreSQL database; its URL and a function dropping it."""
    import uuid

    import sqlalchemy as sa

    from socialcredit.ledger import Ledger
    from socialcredit.policy import load_policy

    if kind == "sqlite":
        url = str(tmp / f"ingest-{uuid.uuid4().hex[:8]}.db")

        def drop() -> None:
            pass
    else:
        server = os.environ.get(
            "SOCIALCREDIT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
        name = f"sc_bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    loaded = load_policy(HERE.parent / "examples" / "policies" / "china-scs.yaml")
    start = 1767225600  # 2026-01-01
    with Ledger.open(url) as ledger:
        ledger.upgrade()
        ledger.activate_policy(
            loaded.text,
            loaded.policy.policy,
            loaded.policy.version,
            loaded.content_hash,
            start,
            now=start,
        )
    return url, drop


def court_entries(n: int) -> list[dict[str, Any]]:
    """``n`` court records about ``n // 2`` subjects (two each)."""
    return [
        {
            "id": f"case-{i}",
            "source": "court",
            "subject": f"S{i // 2:08d}",
            "type": "court_judgment_unfulfilled" if i % 2 else "asset_reporting_breach",
            "occurred_at": "2026-03-01",
            "amount": 1000 + i,
        }
        for i in range(n)
    ]


def bench_ingest(kind: str, tmp: Path, n: int, batch: int) -> None:
    """Entries/s over HTTP (JSON Lines, ``batch`` a request, one client) and, as the
    baseline, ``Ledger.ingest_entries`` of the same entries in-process (its own fresh
    ledger, with the same rules and source restriction)."""
    from socialcredit.ledger import IngestRules, Ledger
    from socialcredit.policy import load_policy

    entries = court_entries(n)
    url, drop = fresh_ledger(kind, tmp)
    try:
        loaded = load_policy(HERE.parent / "examples" / "policies" / "china-scs.yaml")
        rules = IngestRules.from_policy(loaded.policy)
        with Ledger.open(url) as ledger:
            start = time.perf_counter()
            result = ledger.ingest_entries(entries, "bench", rules, int(time.time()))
            base = time.perf_counter() - start
        assert result.accepted == n, result.to_json()["problems"][:3]
    finally:
        drop()
    url, drop = fresh_ledger(kind, tmp)
    try:
        token = make_key(url, "source:court")
        server, proc = serve(url, 1)
        try:
            bodies = [
                b"\n".join(orjson.dumps(e) for e in entries[i : i + batch])
                for i in range(0, n, batch)
            ]
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
            accepted = 0
            with httpx.Client(timeout=120) as client:
                start = time.perf_counter()
                for body in bodies:
                    r = client.post(server + "/v1/entries", content=body, headers=headers)
                    r.raise_for_status()
                    accepted += r.json()["accepted"]
                http = time.perf_counter() - start
            assert accepted == n
        finally:
            stop(proc)
    finally:
        drop()
    print(
        f"| ingestion into {kind}: {n:,} court records, {batch:,} per request | "
        f"HTTP {n / http:,.0f} entries/s ({http:.1f} s) | baseline in-process "
        f"{n / base:,.0f} entries/s ({base:.1f} s) | {base / http:.0%} of the baseline |",
        flush=True,
    )


def describe(label: str, r: dict[str, Any], connections: int | str, offered: str) -> str:
    """One table row (see ``HEADER``)."""
    cpu = f"{r['cpu_us']:,.0f} µs" if "cpu_us" in r else ""
    return (
        f"| {label} | {connections} | {offered} | {r['rate']:,.0f}/s | "
        f"{r['p50_us'] / 1000:.2f} | {r['p99_us'] / 1000:.2f} | {r['p999_us'] / 1000:.2f} | "
        f"{r['status_errors']} / {r['socket_errors']} | {cpu} |"
    )


HEADER = (
    "| run | connections | offered | achieved | p50 ms | p99 ms | p99.9 ms "
    "| non-2xx / socket errors | server CPU per request |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def generator_note(r: dict[str, Any]) -> str:
    """What shows the open-loop generator kept up in run ``r``."""
    return (
        f"#   generator: {r['generator_cpu_us_per_request']:.0f} µs CPU a request "
        f"({r['generator_cpu_share']:.0%} of a core); sent late by p50 "
        f"{r['late_p50_us'] / 1000:.2f} ms, p99 {r['late_p99_us'] / 1000:.2f} ms, max "
        f"{r['late_max_us'] / 1000:.2f} ms; at most {r['max_queued']} due requests waiting "
        f"for a connection; {r['connections_opened']} connections; "
        f"{r['unanswered']} unanswered of {r['due']:,}"
    )


def check_runs(
    name: str,
    base: str,
    pid: int | None,
    args: argparse.Namespace,
    token: str,
    single: Path,
    batch: Path,
) -> None:
    """Every check run against the server at ``base`` (``name``: which code it runs)."""
    c = args.connections
    wrk(base, single, token, path="/v1/checks", connections=c, seconds=3)  # warm up
    wrk(base, batch, token, path="/v1/checks/batch", connections=4, seconds=3)
    r = wrk(base, single, token, path="/v1/checks", connections=c, seconds=args.seconds, pid=pid)
    print(describe(f"{name}: POST /v1/checks", r, c, "saturation (wrk)"), flush=True)
    if pid is not None:
        # the saturation run leaves background work behind (the audit subject index catching
        # up with ~10^5 entries): the open loop measures the steady state, so wait for it,
        # and say how long it took (what a burst costs afterwards)
        print(f"# {name}: after the saturation run: {settle(pid, args.settle)}", flush=True)
    r = openloop(
        base + "/v1/checks",
        single,
        token,
        rate=args.rate,
        seconds=args.seconds,
        connections=c,
        pid=pid,
    )
    print(
        describe(
            f"{name}: POST /v1/checks", r, f"≤ {c}", f"{args.rate:,.0f}/s open loop (openloop.py)"
        ),
        flush=True,
    )
    print(generator_note(r))
    r = wrk(
        base, batch, token, path="/v1/checks/batch", connections=4, seconds=args.seconds, pid=pid
    )
    print(
        describe(f"{name}: POST /v1/checks/batch (1,000 subjects each)", r, 4, "saturation (wrk)")
        + f" → {r['rate'] * 1000:,.0f} subjects/s"
        + (f", {r['cpu_us'] / 1000:.1f} µs CPU a subject" if "cpu_us" in r else ""),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="database URL or SQLite path (default: the demo db)")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=float, default=1000, help="the open-loop offered rate")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--service", default="air_travel")
    parser.add_argument("--skip-bare", action="store_true")
    parser.add_argument(
        "--settle",
        type=float,
        default=120,
        metavar="SECONDS",
        help="wait up to this long for the server to go idle after start-up",
    )
    parser.add_argument(
        "--old", type=Path, metavar="TREE", help="also serve every run from this checkout"
    )
    parser.add_argument(
        "--old-db",
        metavar="URL",
        help="the database the --old tree serves (default: --db's; a copy made before this "
        "tree upgrades it, since an older socialcredit refuses a newer schema)",
    )
    parser.add_argument(
        "--ingest",
        type=int,
        default=0,
        metavar="N",
        help="instead: ingestion of N entries over HTTP into SQLite and PostgreSQL",
    )
    args = parser.parse_args()
    if args.ingest:
        tmp = Path(tempfile.mkdtemp(prefix="bench-http-"))
        print(
            f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {machine()}; "
            f"load average {os.getloadavg()[0]:.1f} at the start"
        )
        for kind in ("sqlite", "postgres"):
            bench_ingest(kind, tmp, args.ingest, 5000)
        shutil.rmtree(tmp, ignore_errors=True)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    if args.db:
        db = args.db
    else:
        from _common import demo_db

        db = str(demo_db())
    from socialcredit.ledger import Ledger

    old_db = args.old_db
    if old_db is not None and "://" not in old_db and not Path(old_db).exists():
        # the old tree would serve an empty database: every answer an error, nothing measured
        parser.error(f"--old-db {old_db}: no such file (omit it and a copy of --db is made)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-http-"))
    if args.old is not None and old_db is None:
        old_db = str(tmp / "old.db")
        for suffix in ("", "-wal", "-shm"):
            if Path(db + suffix).exists():
                shutil.copy(db + suffix, old_db + suffix)
    with Ledger.open(db) as ledger:
        ledger.upgrade()  # a database built by an older socialcredit (as `init` does)
    token = make_key(db, f"enforcer:{args.service}")
    subjects = subjects_of(db, 10_000)
    single = tmp / "single.jsonl"
    single.write_bytes(
        b"".join(orjson.dumps({"subject": s, "service": args.service}) + b"\n" for s in subjects)
    )
    batch = tmp / "batch.jsonl"
    batch.write_bytes(
        b"".join(
            orjson.dumps({"subjects": subjects[i : i + 1000], "service": args.service}) + b"\n"
            for i in range(0, len(subjects), 1000)
        )
    )
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {machine()}; "
        f"load average {os.getloadavg()[0]:.1f} at the start; db {db}; {args.workers} worker(s); "
        f"{args.seconds} s a run; wrk and openloop.py on 127.0.0.1, separate processes"
    )
    print(HEADER)
    c = args.connections
    if not args.skip_bare:
        base, proc = serve_bare(tmp)
        try:
            wrk(base, single, "", path="/", connections=c, seconds=3)
            r = wrk(base, single, "", path="/", connections=c, seconds=args.seconds, pid=proc.pid)
            print(
                describe("baseline: bare ASGI app, constant JSON", r, c, "saturation (wrk)"),
                flush=True,
            )
            r = openloop(
                base + "/",
                single,
                "",
                rate=args.rate,
                seconds=args.seconds,
                connections=c,
                pid=proc.pid,
            )
            print(
                describe(
                    "baseline: bare ASGI app, constant JSON",
                    r,
                    f"≤ {c}",
                    f"{args.rate:,.0f}/s open loop (openloop.py)",
                ),
                flush=True,
            )
            print(generator_note(r))
        finally:
            stop(proc)
    trees: list[tuple[str, Path | None, str, str]] = [("this tree", None, db, token)]
    if args.old is not None:
        assert old_db is not None
        old_token = make_key_with(args.old, old_db, f"enforcer:{args.service}")
        trees.insert(0, (f"old ({args.old})", args.old, old_db, old_token))
    for name, tree, served, token in trees:
        base, proc = serve(served, args.workers, tree)
        try:
            pid = proc.pid if args.workers == 1 else None
            if pid is not None:
                print(
                    f"# {name}: the server after start-up, before any load: {settle(pid, args.settle)}"
                )
            check_runs(name, base, pid, args, token, single, batch)
            metrics = httpx.get(base + "/metrics").text
            checks = [x for x in metrics.splitlines() if x.startswith("socialcredit_checks_total")]
            print("# " + "; ".join(checks))
        finally:
            stop(proc)
    shutil.rmtree(tmp, ignore_errors=True)  # the old tree's copy of the database too


if __name__ == "__main__":
    main()
