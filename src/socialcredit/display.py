"""Text from data, made safe to show on a terminal (no Rich, no imports: cheap anywhere)."""

from __future__ import annotations

import re

# Characters that would act on the terminal rather than show: C0 and C1 controls (ESC starts
# the sequences that move the cursor, erase lines or recolour) and the bidirectional overrides
# that reorder text; newline and tab keep their meaning.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every character that would act on a terminal written as an escape
    (``\\x1b``, ``\\u202e``), so that data cannot move the cursor, erase or recolour what
    the command prints; newlines and tabs are kept."""
    return _INVISIBLE.sub(_escaped, text)
