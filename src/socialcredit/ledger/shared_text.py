"""One ``str`` object for each of the few texts that many lines of an ingest repeat
(the sources, record types and attribute names of the fast paths' rows).

Each decoded line holds its own copies of them; the parsed rows hold one object per
distinct text instead (the values are the same text): fewer distinct objects to touch,
most likely kept in the processor's cache, when the rows are sorted and sent. That made the parsing
of the demo population's records about 12 % cheaper, and of its attribute lines about 9 %
(the parsing worker's CPU, ``decode_jsonl`` to ``_to_wire``).
"""

from __future__ import annotations

SHARED: dict[str, str] = {}
SHARED_MAX = 4096  # texts kept at most beyond the end of a chunk (see ``let_go``)
share = SHARED.setdefault  # share(text, text): the object for that text


def let_go() -> None:
    """Forget the texts once there are more than ``SHARED_MAX`` of them (a file whose
    sources or names are mostly distinct); called at the end of each chunk."""
    if len(SHARED) > SHARED_MAX:
        SHARED.clear()
