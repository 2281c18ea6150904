"""Tables that never cut an identifier, in a terminal of any width or in a pipe.

Each column is at least as wide as its longest word, and identifier columns as wide as their
longest value, so Rich only ever wraps text at spaces. When the console is too narrow for
that, the rows are printed one block each instead (``name`` then ``field: value`` lines),
whole, for the terminal to wrap.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from socialcredit.display import visible

if TYPE_CHECKING:
    from rich.console import Console, JustifyMethod

# Rich's default box: one vertical rule per column plus one, and one space each side of a cell
_RULES_AND_PADDING = 3


def _widths(
    headers: Sequence[str], rows: Sequence[Sequence[str]], whole: Collection[int]
) -> tuple[list[int], list[int]]:
    from rich.cells import cell_len

    natural: list[int] = []
    least: list[int] = []
    for i, header in enumerate(headers):
        values = [line for row in rows for line in row[i].splitlines()]
        natural.append(max(cell_len(x) for x in [header, *values]))
        pieces = values if i in whole else [w for v in values for w in v.split()]
        least.append(max([1] + [cell_len(x) for x in pieces + header.split()]))
    return natural, least


def print_table(
    console: Console,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    whole: Collection[int] = (0,),
    label_first: bool = False,
    right: Collection[int] = (),
) -> None:
    """Print ``rows`` under ``headers``: identifier columns (``whole``) are never broken.

    Cells are plain text (no Rich markup is interpreted); a cell may hold several lines. Other
    columns wrap at spaces only. If the console cannot fit that, each row is printed as a
    block of ``header: value`` lines (a cell's lines joined by "; "; in a terminal wrapped
    at spaces), headed by the first cell alone — or by ``header: value`` too with ``label_first``, for a first column that
    is not a name (a line number). Columns in ``right`` (numbers) are aligned right. No
    rows: "TITLE: none".
    """
    from rich.table import Table
    from rich.text import Text

    title, headers = visible(title), [visible(h) for h in headers]
    rows = [[visible(cell) for cell in row] for row in rows]
    if not rows:
        console.print(Text(f"{title}: none"))
        return
    natural, least = _widths(headers, rows, whole)
    overhead = _RULES_AND_PADDING * len(headers) + 1
    room = console.width - overhead
    if sum(least) > room:
        console.print(Text(title, style="bold"))
        for row in rows:
            first = f"{headers[0]}: {row[0]}" if label_first else row[0]
            console.print(Text(f"  {first}"), soft_wrap=True)
            for header, cell in zip(headers[1:], row[1:], strict=True):
                lines = [" ".join(line.split()) for line in cell.splitlines() if line.strip()]
                if lines:  # in a terminal wrapped at spaces, as the sentences are
                    text = Text(f"      {header}: {'; '.join(lines)}")
                    console.print(text, soft_wrap=not console.is_terminal)
        return
    widths = list(least)
    spare = room - sum(widths)
    wants = [n - w for n, w in zip(natural, widths, strict=True)]
    total = sum(wants)
    if total <= spare:
        widths = list(natural)
    elif total:
        for i, want in enumerate(wants):
            widths[i] += want * spare // total
    table = Table(title=Text(title, style="table.title"))
    for i, (header, width) in enumerate(zip(headers, widths, strict=True)):
        justify: JustifyMethod = "right" if i in right else "left"
        table.add_column(Text(header), width=width, overflow="fold", justify=justify)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)


def help_text(text: str) -> str:
    """A command's help with each paragraph on one line, for Typer to wrap to the terminal.

    Typer keeps the line breaks of a docstring, which in a narrow terminal breaks lines
    twice; write the help as a docstring and pass it through this.
    """
    import inspect

    return "\n\n".join(" ".join(p.split()) for p in inspect.cleandoc(text).split("\n\n"))
