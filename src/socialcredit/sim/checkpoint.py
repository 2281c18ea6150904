"""A simulation's progress on disk, so that a long run (the national one takes hours) that
is stopped or dies goes on from where it was rather than from the start.

A checkpoint holds the measurements of the run's first ``chunks_done`` chunks, added up
(``PolicyMetrics.merge``), and what identifies the run: the policies' and the scenario's
content hashes, population, days, seed, start, chunk size, evaluator and a hash of
socialcredit's own source (another version may measure differently). Chunks are added up
in chunk order and every measurement is an integer count, so a run resumed from a
checkpoint gives the very figures of a run never stopped (a test compares them bit for
bit). It is one ``.npz`` file (NumPy arrays, no pickles), replaced whole each time
(written aside, then renamed): a run killed while saving leaves the previous one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from socialcredit.errors import SocialCreditError
from socialcredit.sim.metrics import PolicyMetrics

FORMAT = 1


class CheckpointError(SocialCreditError):
    """A checkpoint that cannot be read, or that belongs to another run."""


_CODE_HASH: str | None = None


def code_hash() -> str:
    """The SHA-256 of socialcredit's Python source as installed (file names and bytes)."""
    global _CODE_HASH
    if _CODE_HASH is None:
        root = Path(__file__).resolve().parent.parent
        digest = hashlib.sha256()
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
        _CODE_HASH = digest.hexdigest()
    return _CODE_HASH


def run_identity(
    policy_hashes: list[str],
    scenario_hash: str,
    spec: tuple[int, int, int, int],
    chunk_size: int,
    evaluator: str,
) -> dict[str, Any]:
    """What a checkpoint must match to be resumed: the run's inputs and the code."""
    population, days, seed, start = spec
    return {
        "format": FORMAT,
        "policies": list(policy_hashes),
        "scenario": scenario_hash,
        "population": population,
        "days": days,
        "seed": seed,
        "start": start,
        "chunk_size": chunk_size,
        "evaluator": evaluator,
        "code": code_hash(),
    }


@dataclass
class Checkpoint:
    """A run's first ``chunks_done`` chunks, measured and added up (one ``PolicyMetrics``
    per policy), and the cost of the parts of the run that got that far."""

    identity: dict[str, Any]
    chunks_done: int
    metrics: list[PolicyMetrics]
    # one per run that worked on it: wall and CPU seconds of its own process, chunks done
    parts: list[dict[str, Any]] = field(default_factory=list)

    def save(self, path: Path) -> None:
        """Write the checkpoint to ``path``, replacing the one there whole."""
        arrays: dict[str, np.ndarray] = {}
        read_by = []
        for i, m in enumerate(self.metrics):
            for name, values in m.counts.items():
                arrays[f"{i}/count/{name}"] = values
            for name, values in m.spells.items():
                arrays[f"{i}/spell/{name}"] = values
            for name, values in m.censored.items():
                arrays[f"{i}/censored/{name}"] = values
            arrays[f"{i}/score_keys"] = m.score_keys
            arrays[f"{i}/score_counts"] = m.score_counts
            read_by.append(m.read_by)
        header = {
            "identity": self.identity,
            "chunks_done": self.chunks_done,
            "parts": self.parts,
            "metrics": [{"days": m.days, "groups": m.groups} for m in self.metrics],
            "read_by": read_by,
        }
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, allow_pickle=False, **arrays)
                fh.flush()
                os.fsync(fh.fileno())
            mask = os.umask(0)  # read by setting it and setting it back
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)  # mkstemp's 0600: as any new file instead
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        """The checkpoint in ``path``; ``CheckpointError`` saying what is wrong when it
        cannot be read as one."""
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(bytes(data["header"]).decode())
                metrics = []
                for i, shape in enumerate(header["metrics"]):
                    m = PolicyMetrics(int(shape["days"]), int(shape["groups"]))
                    m.read_by = {str(k): int(v) for k, v in header["read_by"][i].items()}
                    prefix = f"{i}/"
                    for key in data.files:
                        if not key.startswith(prefix):
                            continue
                        kind, _, name = key[len(prefix) :].partition("/")
                        table = {"count": m.counts, "spell": m.spells, "censored": m.censored}
                        if kind in table:
                            table[kind][name] = data[key].astype(np.int64, copy=False)
                    m.score_keys = data[f"{i}/score_keys"].astype(np.int64, copy=False)
                    m.score_counts = data[f"{i}/score_counts"].astype(np.int64, copy=False)
                    metrics.append(m)
                return cls(
                    dict(header["identity"]),
                    int(header["chunks_done"]),
                    metrics,
                    list(header.get("parts", [])),
                )
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            raise CheckpointError(
                f"{path}: not a simulation checkpoint that can be read ({exc})"
            ) from None

    def check_matches(self, identity: dict[str, Any], path: Path) -> None:
        """``CheckpointError`` naming what differs when the checkpoint is of another run."""
        for key, wanted in identity.items():
            have = self.identity.get(key)
            if have != wanted:
                what = {
                    "code": "socialcredit source (another version, or a file changed)",
                    "policies": "policies (content hashes)",
                    "scenario": "scenario (content hash)",
                }.get(key, key.replace("_", " "))
                verb = "differ" if key == "policies" else "differs"
                raise CheckpointError(
                    f"{path}: a checkpoint of another run: its {what} {verb} ({_short(have)} "
                    f"there, {_short(wanted)} here); give another --checkpoint file, or delete "
                    "this one to start afresh"
                )


def _short(value: Any) -> str:
    """A value of a run's identity for a message: hashes cut to 12 characters."""
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, str) and len(value) == 64:
        return value[:12]
    return repr(value) if isinstance(value, str) else str(value)
