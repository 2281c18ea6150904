"""What every demo shares: its directory (made, marked, rebuilt; nothing else deleted),
its error and the real clock it records the load at; the set-up of its ledger (the policy
activated and the population ingested as history, a backfill); and the printing of its
heading and worked examples."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from socialcredit.errors import SocialCreditError
from socialcredit.explain_words import plural
from socialcredit.timeutil import to_iso

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from socialcredit.enforcement import Decision
    from socialcredit.engine import Engine
    from socialcredit.explain import Explanation
    from socialcredit.ledger import IngestResult, Ledger
    from socialcredit.policy import LoadedPolicy
    from socialcredit.scoring import BulkStandings

# The files the demo makes in its directory: the only ones it ever deletes.
DEMO_FILES = ("population.jsonl", "demo.db", "demo.db-wal", "demo.db-shm", "demo.db-journal")
# Written by the demo into a directory it made or found empty: the mark of a demo directory.
# Without it the demo deletes nothing, whatever the directory holds (even a file "demo.db").
DEMO_MARKER = ".socialcredit-demo"
_MARKER_TEXT = (
    "This directory holds a demo built by `socialcredit demo`. Running the demo here again\n"
    "deletes and rebuilds only these files: " + ", ".join(DEMO_FILES) + ".\n"
)


class DemoError(SocialCreditError):
    """The demo cannot be built where it was asked to be."""


def prepare_directory(directory: Path) -> None:
    """Make ``directory`` ready for a demo; never delete anything the demo did not make.

    A new directory is created, and an empty one used; either is marked as a demo directory
    (``DEMO_MARKER``). A directory so marked is a previous demo: its demo files
    (``DEMO_FILES``) are deleted for the rebuild, anything else in it is left alone. Any
    other non-empty directory, or a path that is not a directory, is refused (``DemoError``)
    and left as it is.
    """
    if directory.exists() or directory.is_symlink():
        if not directory.is_dir():
            raise DemoError(f"--dir {directory}: exists and is not a directory")
        try:
            names = sorted(p.name for p in directory.iterdir())
        except OSError as exc:
            raise DemoError(f"--dir {directory}: cannot read it ({exc.strerror})") from None
        if names and DEMO_MARKER not in names:
            shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
            raise DemoError(
                f"--dir {directory}: not empty and not a directory the demo made (it holds "
                f"{shown}); the demo deletes nothing it did not make: choose a new or empty "
                "directory"
            )
        for name in DEMO_FILES:
            made = directory / name
            if made.is_symlink() or made.is_file():
                made.unlink()
            elif made.exists():
                raise DemoError(
                    f"--dir {directory}: {name} is not a file the demo made; move it away "
                    "or choose another directory"
                )
    else:
        try:
            directory.mkdir(parents=True)
        except OSError as exc:
            raise DemoError(f"--dir {directory}: cannot create it ({exc.strerror})") from None
    try:
        (directory / DEMO_MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
    except OSError as exc:
        raise DemoError(f"--dir {directory}: cannot write to it ({exc.strerror})") from None


def wall_clock() -> int:
    """The real clock, epoch seconds: when a demo's history is loaded."""
    return int(time.time())


def check_request(
    n_subjects: int,
    clock: Callable[[], int],
    end: int,
    *,
    needs: str = "the population needs at least one subject",
    ends: str = "simulated period ends on",
) -> None:
    """Refuse (``DemoError``) a population of fewer than one, and a history that would end
    after ``clock``'s time (``end``, what the demo calls it: ``ends``) — it would be in the
    ledger's future."""
    if n_subjects < 1:
        raise DemoError(f"--subjects {n_subjects}: {needs}")
    if clock() < end:
        raise DemoError(
            f"the demo's {ends} {to_iso(end)}, after this machine's clock "
            f"({to_iso(clock())}): its history would be in the ledger's future"
        )


@contextmanager
def timed(seconds: dict[str, float], step: str) -> Iterator[None]:
    """Add the wall-clock seconds the block takes to ``seconds[step]`` (the report's
    ``time:`` line)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds[step] = seconds.get(step, 0.0) + time.perf_counter() - started


def write_population(
    path: Path, entries: Iterable[dict[str, Any]], progress: Progress, what: str
) -> tuple[int, int]:
    """Write ``entries`` to ``path`` as JSON Lines, showing ``what`` is being generated;
    returns how many lines, and how many of them have a ``kind`` (relations, appeals: the
    lines that are not records)."""
    task = progress.add_task(f"generating {what}", total=None)
    count = kinds = 0
    with path.open("wb") as fh:
        for entry in entries:
            fh.write(orjson.dumps(entry) + b"\n")
            count += 1
            kinds += "kind" in entry
            if count % 50_000 == 0:
                progress.update(task, completed=count)
    progress.update(task, completed=count, total=count)
    return count, kinds


def write_blocks(
    path: Path, blocks: Iterable[tuple[bytes, int, int]], progress: Progress, what: str
) -> tuple[int, int]:
    """Write JSON Lines made in blocks (each: its text, how many lines, how many of them are
    records) to ``path``, showing ``what`` is being generated; returns how many lines, and
    how many of them are not records (relations, attributes, corrections), as
    ``write_population`` does."""
    task = progress.add_task(f"generating {what}", total=None)
    count = records = 0
    with path.open("wb") as fh:
        for text, lines, recs in blocks:
            fh.write(text)
            count += lines
            records += recs
            progress.update(task, completed=count)
    progress.update(task, completed=count, total=count)
    return count, count - records


def open_history(
    directory: Path, loaded: LoadedPolicy, start: int, clock: Callable[[], int]
) -> Ledger:
    """The demo's ledger (``demo.db`` in ``directory``), its schema made, with ``loaded``
    activated from ``start`` as history (a backfill: the rule the simulated population lived
    under throughout, recorded at ``clock``'s time). The caller closes it."""
    from socialcredit.ledger import Ledger

    ledger = Ledger.open(f"sqlite:///{directory / 'demo.db'}")
    try:
        ledger.upgrade()
        ledger.activate_policy(
            loaded.text,
            loaded.policy.policy,
            loaded.policy.version,
            loaded.content_hash,
            start,
            "demo",
            now=clock(),
            backfill=True,
        )
    except BaseException:
        ledger.close()
        raise
    return ledger


def ingest_history(
    ledger: Ledger,
    data: Path,
    lines: int,
    loaded: LoadedPolicy,
    path: Path,
    progress: Progress,
    clock: Callable[[], int],
    *,
    refuse_rejected: bool = True,
) -> IngestResult:
    """Ingest the population file ``data`` (``lines`` lines) under ``loaded`` (read from
    ``path``) as history: a backfill batch recorded at ``clock``'s time, each entry counting
    from its own recorded_at. A rejected line is a ``DemoError`` (the policy does not fit
    the demo) unless ``refuse_rejected`` is False (a demo that shows what ingestion
    refuses)."""
    from socialcredit.ledger import IngestRules

    task = progress.add_task("ingesting into SQLite", total=lines)
    result = ledger.ingest_file(
        str(data),
        rules=IngestRules.from_policy(loaded.policy),
        now=clock(),
        progress=lambda done: progress.update(task, completed=done),
        backfill=True,
    )
    progress.update(task, completed=lines)
    if refuse_rejected and result.rejected:
        first = "; ".join(f"line {p.line}: {p.message}" for p in result.problems[:3])
        raise DemoError(
            f"{path}: {plural(result.rejected, 'line')} of the demo population "
            f"{'was' if result.rejected == 1 else 'were'} rejected under this policy ({first})"
        )
    return result


def recompute(
    ledger: Ledger, at: int, progress: Progress, what: str
) -> tuple[Engine, BulkStandings]:
    """Everyone's standing at ``at`` in bulk (``what`` is shown while it runs), with the
    engine that answers about it (its clock: ``at``)."""
    from socialcredit.engine import Engine

    task = progress.add_task(what, total=1)
    engine = Engine.open(ledger, lambda: at)
    bulk = engine.recompute(at)
    progress.update(task, completed=1)
    return engine, bulk


def history_note(engine: Engine, at: int) -> str | None:
    """The sentence said once of every figure and example about ``at`` when they count
    history loaded after it (the demo loads it at the real clock's time), else None."""
    from socialcredit.ledger.backfills import sentence

    return sentence(at, engine.backfills_crossed(at), "in the ledger", every=True)


def say(console: Console, *parts: str | tuple[str, str]) -> None:
    """Print one paragraph of plain text (``(text, style)`` for a styled part), never read
    as Rich markup. In a terminal it is wrapped at spaces to the terminal's width, so that
    no number, date or name is cut by the terminal's own wrapping; elsewhere (a pipe, a
    file) it stays one line."""
    from rich.text import Text

    from socialcredit.display import visible

    text = Text.assemble(*((visible(p), "") if isinstance(p, str) else p for p in parts))
    console.print(text, soft_wrap=not console.is_terminal)


def print_heading(
    console: Console, headline: str, notes: Iterable[str | None], seconds: dict[str, float]
) -> None:
    """The report's first lines: ``headline`` in bold, each note given, and the time each
    step took (``say``)."""
    console.print()
    say(console, (headline, "bold"))
    for note in notes:
        if note:
            say(console, note)
    say(
        console,
        "time: "
        + ", ".join(f"{k} {v:.1f}s" for k, v in seconds.items())
        + f" (total {sum(seconds.values()):.1f}s)",
    )


def print_table(
    console: Console,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    names: Collection[int] = (0,),
    numbers: Collection[int] | None = None,
) -> None:
    """A demo's table of names and numbers: no number, date or name (the columns in
    ``names``) is ever broken across lines, in a terminal of any width (text wraps at
    spaces; when even that cannot fit, each row is printed as a block of ``header: value``
    lines). The columns in ``numbers`` (by default every one after the first) are aligned
    right. No text is read as Rich markup."""
    from socialcredit.cli.tables import print_table as print_whole

    right = range(1, len(headers)) if numbers is None else numbers
    print_whole(console, title, headers, rows, whole=names, right=right)


def decided(decision: Decision) -> str:
    """What a decision was: allow or deny."""
    return decision.decision


def benefited(decision: Decision) -> str:
    """What a decision gave: the benefits, or none."""
    if decision.benefits:
        return "benefit " + ", ".join(decision.benefits)
    return "no benefit"


def print_examples(
    console: Console,
    examples: Iterable[tuple[str, Explanation]],
    outcome: Callable[[Decision], str] = decided,
) -> None:
    """Each worked example: its title, the service and the ``outcome`` of the decision in
    one line, then the explanation (``say``)."""
    for title, ex in examples:
        console.print()
        say(console, (title, "bold"), f" — {ex.decision.service}: {outcome(ex.decision)}")
        for line in ex.text.splitlines():
            say(console, line)
