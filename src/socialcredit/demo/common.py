"""What every demo shares: its directory (made, marked, rebuilt; nothing else deleted),
its error and the real clock it records the load at."""

from __future__ import annotations

import time
from pathlib import Path

from socialcredit.errors import SocialCreditError

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
