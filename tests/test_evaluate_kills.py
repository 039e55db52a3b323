"""Fault injection: ``smi evaluate`` killed with SIGKILL at random moments, then rerun (issue 11).

Each kill is followed by a rerun into the same ``--out``, which may itself be killed; a chain
ends when a run completes. At every kill, each output path is either absent or holds exactly the
file of an uninterrupted run (never a part of one); at the end of every chain the outputs are
byte-identical to that run. The runs are processes forked from a server that has already
imported the libraries (``multiprocessing``'s forkserver), so that a kill lands in the command's
work rather than in Python's start-up; the reference run is the real ``python -m smi evaluate``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smi import prediction
from synthetic_release import predict_argv, run_cli_quietly, synthetic_accuracies, write_release

KILLS = 20
PRELOAD = [
    "smi.cli",
    "smi.prediction",
    "smi.release",
    "sklearn.ensemble",
    "statsmodels.api",
    "scipy.stats",
    "pyarrow.parquet",
    "tqdm.auto",
    "synthetic_release",
]


def output_bytes(out: Path) -> dict[str, bytes | None]:
    return {name: (out / name).read_bytes() if (out / name).exists() else None for name in prediction.EVALUATION_FILES}


@pytest.fixture(scope="module")
def forkserver():
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


@pytest.mark.slow
def test_twenty_kills_never_leave_a_partial_output_and_reruns_give_identical_files(forkserver, tmp_path):
    corpora = {"alpha": 2e6, "beta": 3e7, "gamma": 4e8}
    table = write_release(synthetic_accuracies(80, corpora=corpora), tmp_path / "release")

    def argv(out: Path) -> list[str]:
        return [
            "evaluate",
            "--release",
            str(tmp_path / "release"),
            "--models-table",
            str(table),
            "--scheme",
            "leave-one-corpus-out",
            "--out",
            str(out),
            "--bootstrap",
            "10",
            "--gbm-iterations",
            "8",
        ]

    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    command = subprocess.run(
        [sys.executable, "-m", "smi", *argv(tmp_path / "reference")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert command.returncode == 0, command.stderr
    reference = output_bytes(tmp_path / "reference")

    def start(out: Path):
        process = forkserver.Process(target=run_cli_quietly, args=(argv(out),))
        process.start()
        return process

    start(tmp_path / "warm-up").join(300)  # the first process also starts the server, which imports the libraries
    began = time.monotonic()
    process = start(tmp_path / "timed")
    process.join(300)
    duration = time.monotonic() - began
    assert process.exitcode == 0 and output_bytes(tmp_path / "timed") == reference  # the forked run is the command

    rng = random.Random(20250211)
    kills, chains, moments, seen = 0, 0, [], []
    while kills < KILLS:
        out = tmp_path / f"chain-{chains}"
        while True:
            process = start(out)
            moment = rng.uniform(0, duration)
            process.join(moment)
            if process.exitcode is None:
                os.kill(process.pid, signal.SIGKILL)
            process.join(300)
            if process.exitcode == -signal.SIGKILL:
                kills += 1
                moments.append(round(moment, 2))
                found = output_bytes(out)
                for name, content in found.items():
                    assert content is None or content == reference[name], f"kill {kills}: partial or wrong {name}"
                seen.append((len(list(out.glob("folds/*.parquet"))), sum(c is not None for c in found.values())))
                continue
            assert process.exitcode == 0, f"chain {chains}: exit status {process.exitcode}"
            assert output_bytes(out) == reference, f"chain {chains}: outputs differ from an uninterrupted run"
            break
        chains += 1
    assert chains >= 2
    leftovers = sorted(path.name for path in tmp_path.glob("chain-*/**/.*.tmp"))
    print(f"temporary files left beside the outputs by the kills: {len(leftovers)}")
    print(
        f"{kills} kills at {moments} s over {chains} chains; one run takes {duration:.2f} s; "
        f"(folds saved, outputs present) at each kill: {seen}"
    )


def test_killed_predict_reruns_keep_the_previous_complete_output(forkserver, tmp_path):
    """Issue 11: a killed `smi predict` rerun emptied the previous complete output (it wrote in place)."""
    release = tmp_path / "release"
    table = write_release(synthetic_accuracies(80, corpora={"alpha": 2e6, "beta": 3e7, "gamma": 4e8}), release)
    counts = [
        {k: v for k, v in r.items() if k != "acc"}
        for r in json.loads((release / "infer" / "merge_outputs" / "gamma-9e+08.json").read_text())
    ]
    (tmp_path / "counts.json").write_text(json.dumps(counts))

    def run(out: Path, params: str):
        process = forkserver.Process(
            target=run_cli_quietly,
            args=(predict_argv(release, table, tmp_path / "counts.json", out, params, iterations=8),),
        )
        process.start()
        return process

    started = time.monotonic()
    for out, params in ((tmp_path / "previous.csv", "1e9"), (tmp_path / "new.csv", "4e9")):
        process = run(out, params)
        process.join(300)
        assert process.exitcode == 0
    duration = (time.monotonic() - started) / 2
    previous, new = (tmp_path / "previous.csv").read_bytes(), (tmp_path / "new.csv").read_bytes()
    assert previous != new
    rng = random.Random(7)
    out = tmp_path / "predicted.csv"
    kills = 0
    while kills < 8:
        out.write_bytes(previous)
        process = run(out, "4e9")
        process.join(rng.uniform(0, duration))
        if process.exitcode is None:
            os.kill(process.pid, signal.SIGKILL)
        process.join(300)
        kills += process.exitcode == -signal.SIGKILL
        assert out.read_bytes() in (previous, new)
