"""`smi count` as a separate process, killed at random moments and run twice at once into one output
(issue 11): the output path only ever holds a complete table, a rerun finishes the interrupted work with
byte-identical results, and two runs never mix their tables."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smi import counting

LIB = Path(counting.__file__).resolve().parents[2]  # lib/smi/counting/__init__.py → lib


def parts_of(out: Path) -> Path:
    """The default work folder of an output."""
    return out.with_name(out.name + ".parts")


def lock_of(out: Path) -> Path:
    """The lock file of an output."""
    return out.with_name(out.name + ".lock")


#: Metadata fields that vary between equally correct runs: the time taken and how many shards were reused.
RUN_FIELDS = ("seconds", "shards_counted", "shards_reused")
PAIRS = [("Ann", "Bell"), ("Anna Bell", "Ann"), ("Éva", "Ann"), ("Bell", "Arbor"), ("Arbor", "Éva")]


def write_corpus(path: Path, n_docs: int, seed: int) -> Path:
    rng = random.Random(seed)
    words = ["Ann", "Bell", "Anna", "Arbor", "Éva", "and", "the", "of", "x"]
    lines = [
        json.dumps({"text": " ".join(rng.choice(words) for _ in range(rng.randint(5, 60)))}) for _ in range(n_docs)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def facts(tmp_path) -> Path:
    path = tmp_path / "facts.json"
    path.write_text(
        json.dumps([{"idx": i, "subj": s, "rel": "r", "obj": o} for i, (s, o) in enumerate(PAIRS)]), encoding="utf-8"
    )
    return path


def start(facts: Path, out: Path, corpus: Path, *extra: str) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "smi",
        "count",
        "--facts",
        str(facts),
        "--out",
        str(out),
        "--shard-mb",
        "0.004",
        "--no-progress",
        *extra,
        str(corpus),
    ]
    return subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(LIB)},
    )


def finish(process: subprocess.Popen) -> tuple[int, str]:
    _, err = process.communicate(timeout=120)
    return process.returncode, err


def wait_until_holding(process: subprocess.Popen, lock: Path, limit: float = 30.0) -> None:
    """Return once ``process`` has ``lock`` open (its own code is running), or it ended.

    Before that, a SIGINT lands in CPython's own start-up (site, runpy, numpy's C
    extensions), whose tracebacks and, rarely, crashes are not the command's to handle.
    """
    deadline = time.monotonic() + limit
    fds = Path(f"/proc/{process.pid}/fd")
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if any(os.readlink(fd) == str(lock) for fd in fds.iterdir()):
                return
        except OSError:  # a descriptor closed while listed, or the process just ended
            pass
        time.sleep(0.001)


def counting_fields(meta: dict) -> dict:
    return {name: value for name, value in meta.items() if name not in RUN_FIELDS}


def reference(facts: Path, corpus: Path, out: Path) -> tuple[bytes, dict, float]:
    started = time.perf_counter()
    code, err = finish(start(facts, out, corpus))
    assert code == 0, err
    meta = json.loads(counting.metadata_path(out).read_text(encoding="utf-8"))
    assert meta["shards"] >= 10  # many shards, so kills land between them
    return out.read_bytes(), meta, time.perf_counter() - started


def wait_for_shards(process: subprocess.Popen, work: Path, n_shards: int, limit: float = 30.0) -> None:
    """Return once ``work`` holds ``n_shards`` saved shard results, or the process ended."""
    deadline = time.monotonic() + limit
    while process.poll() is None and time.monotonic() < deadline:
        if work.is_dir() and len(list(work.glob("shard-*.npz"))) >= n_shards:
            return
        time.sleep(0.002)


@pytest.mark.slow
def test_kills_at_random_moments_never_leave_a_partial_output_and_reruns_finish_the_work(tmp_path, facts):
    corpus = write_corpus(tmp_path / "corpus.jsonl", 300, seed=1)
    table, meta, seconds = reference(facts, corpus, tmp_path / "reference" / "counts.csv")
    out = tmp_path / "out" / "counts.csv"
    meta_path, work = counting.metadata_path(out), parts_of(out)
    rng = random.Random(11)
    kills = {signal.SIGKILL: 0, signal.SIGINT: 0}
    mid_count = 0  # kills that left some, not all, shards saved

    def check_output_path() -> None:
        if out.exists():
            assert out.read_bytes() == table
        if meta_path.exists():
            assert counting_fields(json.loads(meta_path.read_text(encoding="utf-8"))) == counting_fields(meta)

    def complete_run() -> None:
        code, err = finish(start(facts, out, corpus))
        assert code == 0, err
        assert out.read_bytes() == table
        assert counting_fields(json.loads(meta_path.read_text(encoding="utf-8"))) == counting_fields(meta)
        assert not work.exists()
        assert sorted(path.name for path in out.parent.iterdir()) == [out.name, meta_path.name]  # no temporary, lock
        out.unlink()
        meta_path.unlink()  # the next cycle starts from nothing again

    while sum(kills.values()) < 24:
        extra = ("--processes", "2") if rng.random() < 0.3 else ()
        process = start(facts, out, corpus, *extra)
        chosen = signal.SIGINT if rng.random() < 0.3 else signal.SIGKILL
        if chosen == signal.SIGINT:  # Ctrl-C is the command's to handle once its own code runs, not CPython's start-up
            wait_until_holding(process, lock_of(out))
        if rng.random() < 0.5:  # any moment: start-up, planning, counting, writing, cleaning up
            time.sleep(rng.uniform(0, 1.1 * seconds))
        else:  # while counting: once some shards more are saved
            wait_for_shards(process, work, rng.randint(1, meta["shards"] - 1))
        sent = None
        if process.poll() is None:
            sent = chosen
            process.send_signal(sent)
            kills[sent] += 1
        code, err = finish(process)
        if sent is None:
            assert code == 0, err
        elif sent == signal.SIGKILL:
            assert code in (0, -signal.SIGKILL), err  # 0: it ended just before the signal
        else:  # 130: `smi: interrupted`
            assert code in (0, 130, -signal.SIGINT), err
        check_output_path()
        saved = len(list(work.glob("shard-*.npz"))) if work.exists() else 0
        mid_count += 0 < saved < meta["shards"]
        if sum(kills.values()) % 4 == 0 and code != 0:
            complete_run()
    complete_run()
    assert kills[signal.SIGKILL] >= 10 and kills[signal.SIGINT] >= 3
    assert mid_count >= 1


@pytest.mark.slow
def test_two_runs_into_one_output_never_mix(tmp_path, facts):
    corpora = {
        name: write_corpus(tmp_path / f"{name}.jsonl", n_docs, seed)
        for name, n_docs, seed in (("a", 300, 2), ("b", 240, 3))
    }
    references = {
        name: reference(facts, corpus, tmp_path / f"reference-{name}" / "counts.csv")[:2]
        for name, corpus in corpora.items()
    }
    assert references["a"][0] != references["b"][0]
    out = tmp_path / "out" / "counts.csv"
    meta_path = counting.metadata_path(out)
    refusals = 0
    for _ in range(10):
        processes = {name: start(facts, out, corpus) for name, corpus in corpora.items()}
        endings = {name: finish(process) for name, process in processes.items()}
        finished = [name for name, (code, _) in endings.items() if code == 0]
        for _name, (code, err) in endings.items():
            if code != 0:
                assert code == 2 and err.count("\n") == 1 and "another smi count is writing this output" in err, err
                refusals += 1
        assert finished
        table = out.read_bytes()
        owners = [name for name, (reference_table, _) in references.items() if reference_table == table]
        assert len(owners) == 1, "the output is neither corpus's table"
        owner = owners[0]
        assert owner in finished
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        assert meta["output_sha256"] == hashlib.sha256(table).hexdigest()
        assert counting_fields(meta) == counting_fields(references[owner][1])
        assert not lock_of(out).exists() and not parts_of(out).exists()
        out.unlink()
        meta_path.unlink()
    assert refusals >= 1  # the runs did overlap
