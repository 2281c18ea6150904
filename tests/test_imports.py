"""The pure core imports without storage or export libraries (issue 5, item 14).

Each case runs in a fresh interpreter, so what it finds in ``sys.modules`` is what the import
itself loaded: the simulator's workers and the service's hot path import only these.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

STORAGE = {"sqlalchemy", "alembic", "pyarrow", "psycopg"}


def loaded_after(statement: str) -> set[str]:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return {name.split(".")[0] for name in json.loads(result.stdout)} | set(
        json.loads(result.stdout)
    )


@pytest.mark.parametrize(
    "module",
    [
        "socialcredit.scoring",
        "socialcredit.policy",
        "socialcredit.explain",
        "socialcredit.enforcement",
        "socialcredit.columns",
    ],
)
def test_the_pure_core_imports_no_storage(module: str) -> None:
    assert loaded_after(f"import {module}") & STORAGE == set()


def test_the_package_itself_imports_nothing_heavy() -> None:
    # the top-level names are imported on first use
    loaded = loaded_after("import socialcredit")
    assert loaded & (STORAGE | {"numpy", "pydantic", "yaml"}) == set()
    loaded = loaded_after("from socialcredit import Prepared, standing, compile_policy")
    assert loaded & STORAGE == set()


def test_a_policy_alone_does_not_load_scoring() -> None:
    assert "socialcredit.scoring" not in loaded_after("import socialcredit.policy")


def test_the_cli_starts_without_storage_or_export() -> None:
    # `socialcredit --help`, `--version` or `policy validate` need no database and no Parquet;
    # a command that reads the ledger imports the storage layer when it runs
    loaded = loaded_after("import socialcredit.cli")
    assert loaded & STORAGE == set()
    assert "rich.progress" not in loaded


def test_the_engine_and_the_ledger_import_no_storage_library() -> None:
    # SQLAlchemy is imported when an engine is made (writes, migrations, PostgreSQL), not
    # for reading a SQLite ledger; ingestion's modules come with the first ingestion
    loaded = loaded_after("import socialcredit.engine")
    assert loaded & STORAGE == set()
    assert {"socialcredit.ledger.writing", "socialcredit.ledger.parsing"} & loaded == set()
    assert {"multiprocessing", "concurrent.futures"} & loaded == set()


def test_writing_through_a_sqlite_ledger_makes_its_engine(tmp_path: object) -> None:
    loaded = loaded_after(
        "from socialcredit.ledger import Ledger; "
        f"ledger = Ledger.open({str(tmp_path)!r} + '/x.db'); ledger.upgrade()"
    )
    assert "sqlalchemy" in loaded


def test_the_cli_starts_no_blas_threads() -> None:
    # scoring never calls BLAS; OpenBLAS's thread pool would cost every command ~50 ms
    code = (
        "import os; import socialcredit.cli, numpy; "
        "print(len(os.listdir('/proc/self/task')), os.environ['OPENBLAS_NUM_THREADS'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert result.stdout.split() == ["1", "1"]
