"""The demos' reports in a narrow terminal (80 and 60 columns): no number, date or name is
ever split across lines — a table that cannot fit its numbers whole prints each row as a
block of ``header: value`` lines instead, and a long sentence is wrapped at spaces in a
terminal (in a pipe it stays one line)."""

from __future__ import annotations

import dataclasses
import io
import re
from typing import Any

import pytest
from rich.console import Console

from socialcredit.demo import common, load_system
from socialcredit.demo.china import DemoReport
from socialcredit.demo.electoral import ElectoralReport
from socialcredit.demo.sesame import SesameReport
from socialcredit.demo.wallets import WalletDemoReport, WalletFigures
from socialcredit.timeutil import parse_timestamp

AT = parse_timestamp("2026-11-01")
SECONDS = {"generate": 6.4, "ingest": 20.25, "score": 4.5, "explain": 0.03}

REPORTS: dict[str, Any] = {
    "china": DemoReport(
        population=107_000,
        subjects=100_584,
        records=975_248,
        entries=1_231_069,
        policy="china-scs@2026.3",
        at=AT,
        seconds=SECONDS,
        grades=[("AAA", 12_345), ("not determinable (cut-offs unpublished)", 88_239)],
        lists=[("dishonest_judgment_debtors", "black", 1_234_567)],
        services=[("public_transit_discount", 2_345_678, 7_654_321)],
    ),
    "mynumber": WalletDemoReport(
        system="mynumber",
        population=3_000,
        subjects=3_000,
        records=98_765,
        policy="mynumber-points@2020.1",
        at=AT,
        seconds=SECONDS,
        wallets=[
            WalletFigures(
                "2015 plan food-tax points",
                "yen",
                3_000,
                19_840_480,
                3_128_320,
                9_247_760,
                4_313_570,
                6_279_150,
                1_250,
            ),
            WalletFigures(
                "Mynapoint", "yen", 1_840, 8_941_680, 39_119_680, 5_473_390, 0, 3_468_290, 1_700
            ),
        ],
        redemptions_accepted=5_930,
        redemptions_rejected=40,
        first_rejection="redemptions of 2022-01-20, entry 84: redeems 1,729 yen from wallet "
        "'mynapoint' on 2022-01-20T00:00:00Z, but the balance then was 1,229.75 yen",
        services=[("mynapoint_payment", 1_840), ("tax_refund", 3_000)],
    ),
    "sesame": SesameReport(
        population=10_000,
        subjects=10_000,
        records=1_234_567,
        friendships=15_000,
        policy="sesame-style@2015.1",
        at=AT,
        grades=[("extremely good", 1_234), ("poor", 8_766)],
        perks=[("deposit-free car rental", 4_321)],
        dimensions=[("interpersonal relationships", 512.345)],
        by_friends=1_111,
        lint="SC303 friends' scores move a person's own",
        seconds=SECONDS,
    ),
    "electoral": ElectoralReport(
        citizens=100_000,
        candidates=500,
        lines=225_678,
        accepted=225_666,
        refused=["12 lines (field source), e.g. line 1,234: nobody rates themselves"],
        policy="electoral-credit@0.1",
        at=AT,
        seats=150,
        ranked=498,
        counted=190_123,
        given=199_876,
        last_seat=3.08312,
        prior_kept_out=83,
        seconds=SECONDS,
    ),
}
REPORTS["carrot"] = REPORTS["mynumber"]

# a number (with thousands separators, a decimal part or a per cent sign) or a date
WHOLE = re.compile(r"\d{4}-\d\d-\d\d(?:T[\d:]+Z)?|\d[\d,]*(?:\.\d+)?%?")


def _printed(system: str, width: int, terminal: bool) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=terminal, color_system=None)
    load_system(system).show(REPORTS[system], console)
    return console.file.getvalue()  # type: ignore[attr-defined]


@pytest.mark.parametrize("width", [80, 60])
@pytest.mark.parametrize("system", ["china", "mynumber", "carrot", "sesame", "electoral"])
def test_no_number_or_date_is_split_across_lines(system: str, width: int) -> None:
    wide = _printed(system, 400, terminal=False)
    narrow = _printed(system, width, terminal=True)
    for line in narrow.splitlines():
        assert len(line) <= width, line
    # every number and date of the wide report stands whole on one line of the narrow one
    expected = WHOLE.findall(wide)
    found = [m for line in narrow.splitlines() for m in WHOLE.findall(line)]
    missing = sorted(set(expected) - set(found))
    assert not missing, narrow
    assert "19,840,480" in found or system not in ("mynumber", "carrot")
    assert "1,234,567" in found or system not in ("china", "sesame")


def test_a_sentence_is_wrapped_at_spaces_in_a_terminal_and_whole_in_a_pipe() -> None:
    sentence = "redemptions: 5,930 accepted, 40 rejected on 2022-01-20T00:00:00Z " * 3
    for width in (60, 37):
        console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None)
        common.say(console, sentence)
        lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
        assert len(lines) > 1 and all(len(line) <= width for line in lines)
        assert " ".join(lines).split() == sentence.split()  # broken at spaces only
    piped = Console(file=io.StringIO(), width=60)
    common.say(piped, sentence)
    assert piped.file.getvalue() == sentence + "\n"  # type: ignore[attr-defined]


def test_the_services_table_says_which_denials_cover_some_requests_only() -> None:
    # china-scs bars a debtor from first and business class EMU seats only: the table's
    # "denied" count for emu_seats read as everyone counted being unable to buy any seat
    report = dataclasses.replace(
        REPORTS["china"],
        services=[("emu_seats", 2_252, 0), ("air_travel", 2_134, 0)],
        limited=["emu_seats", "ship_cabins"],
    )
    console = Console(file=io.StringIO(), width=400, color_system=None)
    load_system("china").show(report, console)
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    assert (
        "On emu_seats, ship_cabins, a denial counted here may cover only some requests (those "
        "its measure describes, e.g. by a seat class): a subject counted there may be able to "
        "use the service otherwise." in printed
    )
    console = Console(file=io.StringIO(), width=400, color_system=None)
    load_system("china").show(REPORTS["china"], console)  # none limited: no such sentence
    assert "only some requests" not in console.file.getvalue()  # type: ignore[attr-defined]


ONES: dict[str, dict[str, Any]] = {
    "china": {"subjects": 1, "records": 1, "entries": 1},
    "mynumber": {"subjects": 1, "records": 1, "redemptions_accepted": 1, "redemptions_rejected": 0},
    "sesame": {"subjects": 1, "records": 1, "friendships": 1, "by_friends": 1},
    "electoral": {"citizens": 1, "candidates": 1, "lines": 1, "refused": []},
}
SAID_OF_ONE = {
    "china": "1 subject in the ledger (of a synthetic population of 107,000), 1 record "
    "(1 ledger entry) under",
    "mynumber": "1 person in the ledger (of a synthetic population of 3,000), 1 earning record "
    "and 1 redemption asked",
    "sesame": "1 app user in the ledger (of a synthetic population of 10,000), 1 record and "
    "1 friendship",
    "electoral": "1 citizen rated 1 candidate: 1 rating line,",
}


@pytest.mark.parametrize("system", sorted(ONES))
def test_a_heading_counts_one_as_one(system: str) -> None:
    report = dataclasses.replace(REPORTS[system], **ONES[system])
    console = Console(file=io.StringIO(), width=400, color_system=None)
    load_system(system).show(report, console)
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    assert SAID_OF_ONE[system] in printed
    assert "1 user has the car-rental perk" in printed or system != "sesame"


def test_the_wallet_table_counts_one_capped_person_as_one() -> None:
    report = REPORTS["mynumber"]
    wallets = [dataclasses.replace(w, capped=1) for w in report.wallets]
    console = Console(file=io.StringIO(), width=400, color_system=None)
    load_system("mynumber").show(dataclasses.replace(report, wallets=wallets), console)
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    assert "(1 person)" in printed
    assert "1 people" not in printed
