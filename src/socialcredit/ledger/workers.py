"""Parsing large files in child processes while the parent writes (see ``parse_in_children``).

Chunks travel through pipes in ``marshal`` form; the children use the same ``IngestRules``
as the parent (they are forked with them), so every line gets the outcome it would get in
one process.
"""

from __future__ import annotations

import ctypes
import gc
import marshal
import multiprocessing as mp
import os
import signal
import sys
from collections import deque
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import fields
from itertools import count, islice
from typing import Any

from socialcredit.errors import SocialCreditError
from socialcredit.ledger import parsing
from socialcredit.ledger.files import (
    CsvOptions,
    FileFormatError,
    decode_jsonl,
    detect_format,
    read_lines,
)
from socialcredit.ledger.parsing import IngestProblem, PreparedChunk, prepare_chunks
from socialcredit.ledger.rules import IngestRules


class IngestWorkerError(RuntimeError):
    """The process reading the file failed."""


def parts_for(name: str, fmt: str | None) -> int:
    """How many processes parse a large file: two for JSON Lines on a multi-core machine
    (parsing costs more than writing), one for CSV (read as one text stream)."""
    return 2 if detect_format(name, fmt) == "jsonl" and (os.cpu_count() or 1) > 1 else 1


_CHUNK_FIELDS = [f.name for f in fields(PreparedChunk)]


def _to_wire(chunk: PreparedChunk) -> bytes:
    # marshal, not pickle: the rows are plain tuples of str/int/float/None, which marshal
    # writes about ten times faster than pickle (no memo of every object)
    values: list[Any] = [getattr(chunk, name) for name in _CHUNK_FIELDS]
    values[_CHUNK_FIELDS.index("problems")] = [
        (p.file, p.line, p.field, p.message) for p in chunk.problems
    ]
    # version 2 keeps no table of shared objects, which makes it twice as fast here
    return marshal.dumps(tuple(values), 2)


def _from_wire(data: bytes | memoryview) -> PreparedChunk:
    values = list(marshal.loads(data))
    at = _CHUNK_FIELDS.index("problems")
    values[at] = [IngestProblem(*p) for p in values[at]]
    return PreparedChunk(*values)


def _die_with(parent: int) -> None:
    """Make this forked process end when ``parent`` does (or already has)."""
    if sys.platform.startswith("linux"):
        # the kernel sends SIGKILL to this process when the thread that forked it ends
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the pipe below still ends this one
            pass
    # the parent may have died before the request above: then this one was re-parented
    if os.getppid() != parent:
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def _produce(
    name: str,
    fmt: str | None,
    csv_options: CsvOptions | None,
    rules: IngestRules | None,
    now: int,
    out: Any,
    part: int,
    parts: int,
    backfill: bool = False,
    parent: int = 0,
    inherited: tuple[Any, ...] = (),
) -> None:
    # Read ends of the pipes (this one's and the earlier workers'), inherited by fork:
    # closed, so that when the parent is gone nothing reads them and a send fails with a
    # broken pipe instead of blocking forever. On Linux the kernel also ends this process
    # with its parent; elsewhere that broken pipe, at the next chunk, does.
    for end in inherited:
        end.close()
    if parent:
        _die_with(parent)
    # Chunks are serialised here, in the main thread, and written straight to the pipe: a
    # multiprocessing.Queue would pickle in a feeder thread that competes for the GIL.
    # This forked process only builds short-lived tuples and exits: the cycle collector
    # would only rescan them.
    gc.disable()
    try:
        if parts == 1:
            lines = read_lines(name, fmt, csv_options)
            for chunk in prepare_chunks(lines, name, rules, now, None, backfill):
                out.send_bytes(b"C" + _to_wire(chunk))
        else:
            # JSON Lines split between processes: block b (CHUNK physical lines) is this
            # process's when b % parts == part; exactly one chunk is sent per own block
            seen: set[str] = set()
            for block in _own_blocks(name, part, parts):
                chunks = list(prepare_chunks(decode_jsonl(block), name, rules, now, seen, backfill))
                assert len(chunks) <= 1
                out.send_bytes(b"C" + _to_wire(chunks[0] if chunks else PreparedChunk()))
        out.send_bytes(b"E")
    except SocialCreditError as exc:  # a problem with the file: the parent reports it as such
        out.send_bytes(b"U" + exc.message.encode())
    except BaseException as exc:  # reported by the parent
        out.send_bytes(b"X" + f"{type(exc).__name__}: {exc}".encode())
    finally:
        out.close()


def _own_blocks(name: str, part: int, parts: int) -> Iterator[list[tuple[int, bytes]]]:
    """The numbered raw lines of every ``part``-th block of ``CHUNK`` lines of a file."""
    size = parsing.CHUNK
    with open(name, "rb") as stream:
        for index in count():
            if index % parts != part:
                # another process's block: read past it without a Python step per line
                if not deque(islice(stream, size), maxlen=1):
                    return
                continue
            lines = list(islice(stream, size))
            if not lines:
                return
            yield list(zip(count(index * size + 1), lines))


PIPE_BYTES = 1 << 20  # Linux's default largest pipe (/proc/sys/fs/pipe-max-size)


def _widen(end: Any) -> None:
    """Let a pipe hold ``PIPE_BYTES`` instead of 64 KiB (Linux), so that a chunk of several
    megabytes crosses it in a few large reads and writes rather than hundreds of small
    ones, each a system call and often a switch between processes. Where the system
    refuses (another platform, a user's pipe quota used up) the pipe keeps its size."""
    try:
        import fcntl  # not on Windows
    except ImportError:
        return
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setsize is None:
        return
    with suppress(OSError):
        fcntl.fcntl(end.fileno(), setsize, PIPE_BYTES)


def parse_in_children(
    name: str,
    fmt: str | None,
    csv_options: CsvOptions | None,
    rules: IngestRules | None,
    now: int,
    parts: int = 1,
    backfill: bool = False,
) -> Iterator[PreparedChunk]:
    """``prepare_chunks`` over a file, computed in child processes, yielded here in order.

    With ``parts`` > 1 (JSON Lines only) the file's blocks of ``CHUNK`` lines are shared
    out in turn between that many processes, and taken back in turn, so the chunks arrive
    in file order and every line gets the outcome it would get with one process.
    ``backfill``: as ``prepare_chunks``'s.
    """
    # fork: the child needs nothing but this module and the file, and unlike spawn it does
    # not re-run the caller's main script
    ctx = mp.get_context("fork")
    receivers: list[Any] = []
    workers = []
    parent = os.getpid()
    for part in range(parts):
        receiver, sender = ctx.Pipe(duplex=False)
        _widen(receiver)
        worker = ctx.Process(
            target=_produce,
            args=(name, fmt, csv_options, rules, now, sender, part, parts, backfill, parent),
            kwargs={"inherited": (*receivers, receiver)},
            daemon=True,
        )
        worker.start()
        sender.close()
        receivers.append(receiver)
        workers.append(worker)
    try:
        turn = 0
        while True:
            try:
                item = receivers[turn % parts].recv_bytes()
            except EOFError:
                raise IngestWorkerError(f"the process reading {name} ended unexpectedly") from None
            turn += 1
            tag = item[:1]
            if tag == b"E":
                break  # the block due next does not exist, so no later one does
            if tag == b"U":
                raise FileFormatError(item[1:].decode())
            if tag == b"X":
                raise IngestWorkerError(f"reading {name} failed: {item[1:].decode()}")
            yield _from_wire(memoryview(item)[1:])  # without copying the chunk's bytes
        for worker in workers:
            worker.join()
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                worker.join()
