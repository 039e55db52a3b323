"""`smi count` under misuse (issue 11): resume keys that cover content and code, damaged work files,
outputs that are refused before counting, one run per output, the work folder's cleanup, clean
one-line errors, processes that die, and JSON lines with a byte order mark or blank lines."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import one_line_error, write_jsonl
from smi import corpus_io, counting, formats
from smi.records import COUNT_FIELDS

LIB = Path(counting.__file__).resolve().parents[2]  # lib/smi/counting/__init__.py → lib


def parts_of(out: Path) -> Path:
    """The default work folder of an output."""
    return out.with_name(out.name + ".parts")


def lock_of(out: Path) -> Path:
    """The lock file of an output."""
    return out.with_name(out.name + ".lock")


TEXTS = [" Ann met Bell", "Anna Bell", " Bell", "", " Ann Arbor and Bell", "nothing here", " Éva and Ann"] * 3
PAIRS = [("Ann", "Bell"), ("Anna Bell", "Ann"), ("Éva", "Ann"), ("Bell", "Arbor")]


def write_triples(path: Path, pairs=PAIRS) -> Path:
    path.write_text(
        json.dumps([{"idx": i, "subj": s, "rel": "r", "obj": o} for i, (s, o) in enumerate(pairs)]), encoding="utf-8"
    )
    return path


def expected_counts(texts: list[str], triples: Path, match: str = "paper") -> list[list[int]]:
    return (
        counting.naive_counts(texts, formats.read_facts(triples).frame(), match)[list(COUNT_FIELDS)].to_numpy().tolist()
    )


def table_counts(out: Path) -> list[list[int]]:
    return pd.read_csv(out, keep_default_na=False)[list(COUNT_FIELDS)].to_numpy().tolist()


@pytest.fixture
def small(tmp_path):
    return write_triples(tmp_path / "facts.json"), write_jsonl(tmp_path / "corpus.jsonl", TEXTS)


@pytest.fixture
def no_counting(monkeypatch):
    """Make any attempt to count a shard fail the test (for checks that must come before counting)."""

    def counted(*args):
        raise AssertionError("a shard was counted before the check")

    monkeypatch.setattr(counting.runner, "count_shard", counted)


def count_spy(monkeypatch) -> list[str]:
    """Record the label of every shard counted (not reused)."""
    counted: list[str] = []
    real = counting.count_shard

    def spy(shard, strings, settings):
        counted.append(shard.label)
        return real(shard, strings, settings)

    monkeypatch.setattr(counting.runner, "count_shard", spy)
    return counted


# ---------------------------------------------------------------------------
# saved shard results: keyed on content, settings and code; damaged ones recounted


def test_a_rewritten_file_with_the_same_size_and_mtime_is_recounted(small, tmp_path, run_cli):
    triples, corpus = small
    work, out = tmp_path / "work", tmp_path / "counts.csv"
    assert run_cli("count", "--facts", triples, "--out", out, "--work-dir", work, "--no-progress", corpus)[0] == 0
    before = os.stat(corpus)
    changed = [text.replace("Ann", "Bob") for text in TEXTS]  # same length, other names
    with open(corpus, "r+b") as handle:  # in place: same inode, same size
        handle.write("".join(json.dumps({"text": text}) + "\n" for text in changed).encode())
    os.utime(corpus, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (os.stat(corpus).st_size, os.stat(corpus).st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    code, stdout, err = run_cli("count", "--facts", triples, "--out", out, "--work-dir", work, "--no-progress", corpus)
    assert code == 0, err
    assert "0 reused" in stdout
    assert table_counts(out) == expected_counts(changed, triples)


def test_results_of_other_counting_code_are_not_reused(small, tmp_path, run_cli):
    """A counting bug fixed in the code must not survive in saved shard results of the old code."""
    triples, corpus = small
    work = tmp_path / "work"
    buggy = tmp_path / "buggy_lib"
    shutil.copytree(LIB / "smi", buggy / "smi")
    source = (buggy / "smi" / "counting" / "scan.py").read_text(encoding="utf-8")
    fixed_line = "return Counts(len(texts), n_bytes, name_docs.astype(np.int64), joint_docs.astype(np.int64))"
    assert fixed_line in source
    (buggy / "smi" / "counting" / "scan.py").write_text(
        source.replace(fixed_line, fixed_line[:-1] + " + 1)"), encoding="utf-8"
    )
    env = {**os.environ, "PYTHONPATH": str(buggy)}
    command = [
        sys.executable,
        "-m",
        "smi",
        "count",
        "--facts",
        triples,
        "--out",
        tmp_path / "buggy.csv",
        "--work-dir",
        work,
        "--no-progress",
        corpus,
    ]
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert table_counts(tmp_path / "buggy.csv") != expected_counts(TEXTS, triples)  # the bug shows
    assert len(list(work.glob("shard-*.npz"))) == 1

    out = tmp_path / "counts.csv"
    code, stdout, err = run_cli("count", "--facts", triples, "--out", out, "--work-dir", work, "--no-progress", corpus)
    assert code == 0, err
    assert "0 reused" in stdout
    assert table_counts(out) == expected_counts(TEXTS, triples)


@pytest.mark.parametrize(
    "edited",
    ["corpus_io.py", "matchers.py", "counting/runner.py"],  # the reader, the engines, a module of the package
)
def test_counting_code_version_follows_the_source(tmp_path, edited):
    copy = tmp_path / "lib"
    shutil.copytree(LIB / "smi", copy / "smi")
    probe = "from smi import counting; print(counting.counting_code_version())"

    def version() -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(copy)}
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    original = version()
    assert original == counting.counting_code_version()
    with open(copy / "smi" / edited, "a", encoding="utf-8") as handle:
        handle.write("\n# a comment is not code\n")
    assert version() == original
    with open(copy / "smi" / edited, "a", encoding="utf-8") as handle:
        handle.write("\n_EDITED = 1\n")
    assert version() != original


def damage_by(case: str, path: Path, strings: counting.FactStrings) -> None:
    """Damage a saved shard result in one of several ways."""
    stored = dict(np.load(path))
    if case == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "not_npz":
        path.write_text("shard results, as a user's note", encoding="utf-8")
    elif case == "missing_array":
        del stored["joint_docs"]
        np.savez(path.with_suffix(""), **stored)
    elif case == "other_key":
        stored["key"] = np.array("0" * 64)
        np.savez(path.with_suffix(""), **stored)
    elif case == "wrong_lengths":  # right key, but arrays that do not fit the facts
        stored["name_docs"] = stored["name_docs"][:-1]
        np.savez(path.with_suffix(""), **stored)
    elif case == "negative":
        stored["joint_docs"] = stored["joint_docs"] - 100
        np.savez(path.with_suffix(""), **stored)


@pytest.mark.parametrize(
    "case", ["truncated", "empty", "not_npz", "missing_array", "other_key", "wrong_lengths", "negative"]
)
def test_a_damaged_shard_result_is_counted_again_with_a_note(small, tmp_path, run_cli, case):
    triples, corpus = small
    work, out = tmp_path / "work", tmp_path / "counts.csv"
    args = (
        "count",
        "--facts",
        triples,
        "--out",
        out,
        "--work-dir",
        work,
        "--shard-mb",
        "0.0002",
        "--no-progress",
        corpus,
    )
    assert run_cli(*args)[0] == 0
    saved = sorted(work.glob("shard-*.npz"))
    assert len(saved) > 1
    damage_by(case, saved[0], counting.fact_strings(formats.read_facts(triples)))
    code, stdout, err = run_cli(*args)
    assert code == 0, err
    assert f"{len(saved) - 1} reused" in stdout
    assert (
        err.startswith("smi: note: ") and str(saved[0]) in err and "counting it again" in err and err.count("\n") == 1
    )
    assert table_counts(out) == expected_counts(TEXTS, triples)
    key = str(np.load(saved[0])["key"])  # the recounted result is saved again, with its key
    assert saved[0].name == f"shard-{key[:32]}.npz"


def test_a_file_changed_while_counted_is_an_error(small, tmp_path, run_cli, monkeypatch):
    triples, corpus = small
    real = counting.count_texts

    def count_then_append(texts, *args):
        counts = real(texts, *args)
        with open(corpus, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"text": " Ann"}) + "\n")
        return counts

    monkeypatch.setattr(counting.shards, "count_texts", count_then_append)
    code, _, err = run_cli(
        "count",
        "--facts",
        triples,
        "--out",
        tmp_path / "c.csv",
        "--work-dir",
        tmp_path / "w",
        "--no-progress",
        corpus,
    )
    one_line_error(code, err, str(corpus), "changed while it was being counted")
    assert not list((tmp_path / "w").glob("shard-*.npz"))


# ---------------------------------------------------------------------------
# outputs: refused before counting, one run at a time, table and metadata as a pair


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_metadata_records_the_hash_of_its_table(small, tmp_path, run_cli, suffix):
    triples, corpus = small
    out = tmp_path / f"counts{suffix}"
    assert run_cli("count", "--facts", triples, "--out", out, "--no-progress", corpus)[0] == 0
    meta = json.loads(counting.metadata_path(out).read_text(encoding="utf-8"))
    assert meta["output_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert meta["code_version"] == counting.counting_code_version()
    assert meta["facts_sha256"] == formats.read_facts(triples).sha256()
    assert not [path.name for path in tmp_path.iterdir() if path.name.endswith((".tmp", ".lock"))]


def read_only_folder(tmp_path: Path) -> Path:
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


@pytest.mark.parametrize("case", ["folder", "under_a_file", "read_only", "full_disk"])
def test_an_output_that_cannot_be_written_is_refused_before_counting(
    small, tmp_path, run_cli, monkeypatch, no_counting, case
):
    triples, corpus = small
    if case == "folder":
        out = tmp_path / "counts.csv"
        out.mkdir()
    elif case == "under_a_file":
        out = corpus / "counts.csv"
    elif case == "read_only":
        out = read_only_folder(tmp_path) / "counts.csv"
    else:
        out = tmp_path / "counts.csv"
        monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9, 0))
    # an explicit work folder elsewhere: the refusal must not wait for the counting
    code, _, err = run_cli(
        "count", "--facts", triples, "--out", out, "--work-dir", tmp_path / "work", "--no-progress", corpus
    )
    one_line_error(code, err, str(out) if case != "full_disk" else str(tmp_path))
    assert not (tmp_path / "work").exists()


@pytest.mark.parametrize("case", ["a_file", "under_a_file", "read_only", "full_disk"])
def test_a_work_folder_that_cannot_be_written_is_refused_before_counting(
    small, tmp_path, run_cli, monkeypatch, no_counting, case
):
    triples, corpus = small
    work = {"a_file": corpus, "under_a_file": corpus / "work", "full_disk": tmp_path / "work"}.get(case)
    if case == "read_only":
        work = read_only_folder(tmp_path) / "work"
    if case == "full_disk":
        real = shutil.disk_usage
        monkeypatch.setattr(
            shutil,
            "disk_usage",
            lambda path: shutil._ntuple_diskusage(10**9, 10**9, 0) if Path(path) == work else real(path),
        )
    code, _, err = run_cli(
        "count", "--facts", triples, "--out", tmp_path / "counts.csv", "--work-dir", work, "--no-progress", corpus
    )
    one_line_error(code, err, str(work))
    assert not (tmp_path / "counts.csv").exists()


def test_a_second_run_to_the_same_output_is_refused_while_the_first_works(small, tmp_path, run_cli, no_counting):
    triples, corpus = small
    out = tmp_path / "counts.csv"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from smi import counting\n"
            "with counting.count_lock(sys.argv[1]):\n print('held', flush=True); time.sleep(60)",
            out,
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(LIB)},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        code, _, err = run_cli("count", "--facts", triples, "--out", out, "--no-progress", corpus)
        one_line_error(code, err, str(out), "another smi count is writing this output", f"pid {holder.pid}")
        assert not out.exists() and not parts_of(out).exists()
    finally:
        holder.kill()
        holder.wait()
    lock = lock_of(out)
    assert lock.exists()  # left by the killed holder, whose lock died with it
    with counting.count_lock(out):
        assert f"pid {os.getpid()}" in lock.read_text()
    assert not lock.exists()


def test_ctrl_c_while_the_pair_is_written_waits_for_both_renames(small, tmp_path, monkeypatch):
    triples, corpus = small
    run = counting.count_corpus(formats.read_facts(triples), [corpus], tmp_path / "work", progress=False)
    out = tmp_path / "counts.csv"
    real_write_table = counting.output._write_table

    def interrupted_while_writing(*args):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C before the table is complete
        time.sleep(0.05)
        real_write_table(*args)

    monkeypatch.setattr(counting.output, "_write_table", interrupted_while_writing)
    with pytest.raises(KeyboardInterrupt):
        counting.write_counts(run, out)
    meta = json.loads(counting.metadata_path(out).read_text(encoding="utf-8"))
    assert meta["output_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()


def test_orphaned_temporaries_of_the_output_are_removed(small, tmp_path, run_cli):
    triples, corpus = small
    out = tmp_path / "counts.csv"
    orphans = [tmp_path / ".counts.csv.ab12cd34.tmp", tmp_path / ".counts.csv.meta.json.zz_99xyz.tmp"]
    for orphan in orphans:
        orphan.write_text("half a table")
    kept = tmp_path / ".counts.csv.mine.tmp"  # not a name smi makes
    kept.write_text("a user's file")
    assert run_cli("count", "--facts", triples, "--out", out, "--no-progress", corpus)[0] == 0
    assert not any(orphan.exists() for orphan in orphans) and kept.exists()


# ---------------------------------------------------------------------------
# the work folder: only what the tool made is removed


def test_a_users_files_in_the_default_work_folder_survive(small, tmp_path, run_cli):
    triples, corpus = small
    out = tmp_path / "counts.csv"
    work = parts_of(out)
    (work / "notes").mkdir(parents=True)
    (work / "notes" / "todo.txt").write_text("mine")
    (work / "shard-results.txt").write_text("also mine")
    code, _, err = run_cli("count", "--facts", triples, "--out", out, "--shard-mb", "0.0002", "--no-progress", corpus)
    assert code == 0
    assert (work / "notes" / "todo.txt").read_text() == "mine" and (
        work / "shard-results.txt"
    ).read_text() == "also mine"
    assert not list(work.glob("shard-*.npz"))
    assert f"{work} kept" in err


def test_the_default_work_folder_goes_with_orphaned_temporaries_and_a_named_one_stays(small, tmp_path, run_cli):
    triples, corpus = small
    out = tmp_path / "counts.csv"
    work = parts_of(out)
    work.mkdir()
    (work / f".shard-{'a' * 32}.npz.k3j_x9q2.tmp").write_bytes(b"killed while writing")
    assert run_cli("count", "--facts", triples, "--out", out, "--no-progress", corpus)[0] == 0
    assert not work.exists()

    named = tmp_path / "named"
    assert run_cli("count", "--facts", triples, "--out", out, "--work-dir", named, "--no-progress", corpus)[0] == 0
    assert len(list(named.glob("shard-*.npz"))) == 1  # kept for later runs


def test_temporaries_are_left_alone_while_another_run_uses_the_work_folder(tmp_path):
    orphan = tmp_path / f".shard-{'b' * 32}.npz.abcdefgh.tmp"
    orphan.write_bytes(b"")
    with counting.work_dir_in_use(tmp_path):  # another run counting here (flock: per open file)
        assert counting.remove_orphaned_shard_temporaries(tmp_path) == 0
    assert orphan.exists()
    assert counting.remove_orphaned_shard_temporaries(tmp_path) == 1 and not orphan.exists()


# ---------------------------------------------------------------------------
# options and input that used to end in a traceback


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1"])
def test_bad_shard_sizes_are_refused(small, tmp_path, run_cli, no_counting, value):
    triples, corpus = small
    code, _, err = run_cli(
        "count", "--facts", triples, "--out", tmp_path / "c.csv", f"--shard-mb={value}", "--no-progress", corpus
    )
    one_line_error(code, err, "--shard-mb")


def test_a_shard_size_giving_too_many_shards_is_refused(small, tmp_path, run_cli, no_counting, monkeypatch):
    triples, corpus = small
    monkeypatch.setattr(corpus_io, "MAX_SHARDS", 50, raising=False)
    code, _, err = run_cli(
        "count", "--facts", triples, "--out", tmp_path / "c.csv", "--shard-mb", "1e-300", "--no-progress", corpus
    )
    one_line_error(code, err, "shards", "--shard-mb")


@pytest.mark.parametrize(
    "address", ["tcp://host:port", "nonsense", "tcp://:8786", "xyz://host:8786", "tcp://host:99999"]
)
def test_a_malformed_scheduler_address_is_refused(small, tmp_path, run_cli, no_counting, address):
    triples, corpus = small
    started = time.perf_counter()
    code, _, err = run_cli(
        "count", "--facts", triples, "--out", tmp_path / "c.csv", "--scheduler", address, "--no-progress", corpus
    )
    one_line_error(code, err, f"--scheduler {address}")
    assert time.perf_counter() - started < 10  # no connection attempt


def nested_line(depth: int) -> str:
    return '{"text": " Ann", "deep": ' + "[" * depth + "]" * depth + "}"


def test_deeply_nested_json_is_a_bad_line(tmp_path, run_cli):
    triples = write_triples(tmp_path / "facts.json")
    corpus = tmp_path / "deep.jsonl"
    corpus.write_text(
        json.dumps({"text": " Ann Bell"}) + "\n" + nested_line(100_000) + "\n" + json.dumps({"text": " Ann"}) + "\n"
    )
    out = tmp_path / "c.csv"
    code, _, err = run_cli("count", "--facts", triples, "--out", out, "--no-progress", corpus)
    one_line_error(code, err, f"{corpus}: line 2: JSON nested too deeply")
    code, stdout, err = run_cli("count", "--facts", triples, "--out", out, "--skip-bad-lines", "--no-progress", corpus)
    assert code == 0, err
    assert "1 bad lines skipped" in stdout
    assert table_counts(out) == expected_counts([" Ann Bell", " Ann"], triples)


def test_json_nested_within_the_parsers_reach_is_read(tmp_path):
    path = tmp_path / "nested.jsonl"
    path.write_text(nested_line(200) + "\n")
    assert list(corpus_io.read_documents(corpus_io.plan_shards([path])[0])) == [" Ann"]


def test_a_lone_surrogate_in_a_name_is_refused_before_counting(tmp_path, run_cli, no_counting):
    triples = tmp_path / "facts.json"
    triples.write_text(
        '[{"idx": 1, "subj": "Ann", "rel": "r", "obj": "Bell"}, {"idx": 2, "subj": "A\\ud800", "rel": "r", "obj": "B"}]'
    )
    corpus = write_jsonl(tmp_path / "c.jsonl", [" Ann"])
    code, _, err = run_cli("count", "--facts", triples, "--out", tmp_path / "c.csv", "--no-progress", corpus)
    one_line_error(code, err, str(triples), "idx 2", "'subj'", "surrogate")


def test_a_lone_surrogate_in_a_document_or_a_file_name_is_no_problem(tmp_path, run_cli):
    triples = write_triples(tmp_path / "facts.json")
    name = os.fsdecode(b"corpus-\xff.jsonl")  # an undecodable byte in a file name: a surrogate in Python
    corpus = tmp_path / name
    corpus.write_text('{"text": " Ann \\udc80"}\n{"text": 5}\n', encoding="utf-8")
    out = tmp_path / "c.csv"
    code, _, err = run_cli("count", "--facts", triples, "--out", out, "--skip-bad-lines", "--no-progress", corpus)
    assert code == 0, err
    meta = json.loads(counting.metadata_path(out).read_text(encoding="utf-8"))
    assert meta["documents"] == 1 and meta["skipped_lines"] == 1 and name in meta["skipped_examples"][0]


# ---------------------------------------------------------------------------
# Dask: a lost scheduler or lost workers end the run in one line, and the rerun resumes


@pytest.fixture
def dask_cluster():
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50)
    yield cluster
    try:
        cluster.close()
    except Exception:
        pass


def multi_file_corpus(folder: Path, n_files: int) -> list[list[str]]:
    texts = [TEXTS[i:] + [" Ann Bell"] * i for i in range(n_files)]
    for i, part in enumerate(texts):
        write_jsonl(folder / f"part{i:02d}.jsonl", part)
    return texts


@pytest.mark.parametrize("loss", ["scheduler", "workers"])
def test_a_lost_dask_cluster_is_one_line_and_the_rerun_resumes(tmp_path, run_cli, monkeypatch, dask_cluster, loss):
    triples = write_triples(tmp_path / "facts.json")
    texts = multi_file_corpus(tmp_path / "corpus", 6)
    work, out = tmp_path / "work", tmp_path / "counts.csv"
    real_save = counting.save_shard_result

    def save_then_lose_the_cluster(*args):
        saved = real_save(*args)
        if len(list(work.glob("shard-*.npz"))) == 2:
            if loss == "scheduler":
                dask_cluster.close()
            else:  # every worker process (their nannies start new ones, which lack the scattered names)
                for nanny in list(dask_cluster.workers.values()):
                    os.kill(nanny.process.process.pid, signal.SIGKILL)
        return saved

    monkeypatch.setattr(counting.runner, "save_shard_result", save_then_lose_the_cluster)
    monkeypatch.setattr(counting.runner, "_DASK_NO_WORKER_SECONDS", 3.0, raising=False)
    address = dask_cluster.scheduler_address
    code, _, err = run_cli(
        "count",
        "--facts",
        triples,
        "--out",
        out,
        "--work-dir",
        work,
        "--scheduler",
        address,
        "--no-progress",
        tmp_path / "corpus",
    )
    one_line_error(code, err, "lost the Dask cluster", str(work), "rerun")
    assert not out.exists()
    monkeypatch.setattr(counting.runner, "save_shard_result", real_save)
    code, stdout, err = run_cli(
        "count", "--facts", triples, "--out", out, "--work-dir", work, "--no-progress", tmp_path / "corpus"
    )
    assert code == 0, err
    assert int(stdout.split(" reused")[0].rsplit(" ", 1)[1]) >= 2
    assert table_counts(out) == expected_counts([text for part in texts for text in part], triples)


def test_a_dask_scheduler_without_workers_is_one_line(tmp_path, run_cli, monkeypatch, no_counting):
    from distributed import LocalCluster

    triples = write_triples(tmp_path / "facts.json")
    corpus = write_jsonl(tmp_path / "c.jsonl", TEXTS)
    monkeypatch.setattr(counting.runner, "_DASK_NO_WORKER_SECONDS", 1.0, raising=False)
    with LocalCluster(n_workers=0, processes=True, dashboard_address=None, silence_logs=50) as cluster:
        code, _, err = run_cli(
            "count",
            "--facts",
            triples,
            "--out",
            tmp_path / "c.csv",
            "--scheduler",
            cluster.scheduler_address,
            "--no-progress",
            corpus,
        )
    one_line_error(code, err, "has no workers")


# ---------------------------------------------------------------------------
# forked processes: they die with their parent; a dead one is one line and the rerun resumes


def children_of(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def is_alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_forked_children_die_with_their_killed_parent(tmp_path):
    triples = write_triples(tmp_path / "facts.json", [("a", "b")])
    for i in range(6):  # a name on every other character, by the word rule: slow enough to catch the pool at work
        (tmp_path / "corpus").mkdir(exist_ok=True)
        write_jsonl(tmp_path / "corpus" / f"p{i}.jsonl", [" a" * 50_000] * 20)
    out = tmp_path / "c.csv"
    command = [
        "-m",
        "smi",
        "count",
        "--facts",
        triples,
        "--out",
        out,
        "--processes",
        "2",
        "--match",
        "word",
        "--no-progress",
        tmp_path / "corpus",
    ]
    parent = subprocess.Popen(
        [sys.executable, *map(str, command)], env={**os.environ, "PYTHONPATH": str(LIB)}, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    children: list[int] = []
    while len(children) < 2 and parent.poll() is None and time.monotonic() < deadline:
        children = children_of(parent.pid)
        time.sleep(0.005)
    assert len(children) == 2, "the pool was not seen at work"
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while any(map(is_alive, children)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(is_alive, children))
    with counting.count_lock(out):  # the dead run's lock died with it
        pass


def test_a_killed_counting_process_is_one_line_and_the_rerun_resumes(tmp_path, run_cli, monkeypatch):
    triples = write_triples(tmp_path / "facts.json")
    texts = multi_file_corpus(tmp_path / "corpus", 6)
    work, out = tmp_path / "work", tmp_path / "counts.csv"
    real = counting.count_shard
    test_process = os.getpid()

    def killed_on_the_last_file(shard, strings, settings):
        if os.getpid() != test_process and shard.path.endswith("part05.jsonl"):
            deadline = time.monotonic() + 30  # let the other shards finish and be saved first
            while len(list(work.glob("shard-*.npz"))) < 5 and time.monotonic() < deadline:
                time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGKILL)
        return real(shard, strings, settings)

    monkeypatch.setattr(counting.runner, "count_shard", killed_on_the_last_file)
    args = (
        "count",
        "--facts",
        triples,
        "--out",
        out,
        "--work-dir",
        work,
        "--processes",
        "2",
        "--no-progress",
        tmp_path / "corpus",
    )
    code, _, err = run_cli(*args)
    one_line_error(code, err, "a counting process died (killed by SIGKILL)", str(work), "rerun")
    assert len(list(work.glob("shard-*.npz"))) == 5 and not out.exists()
    monkeypatch.setattr(counting.runner, "count_shard", real)
    code, stdout, err = run_cli(*args)
    assert code == 0, err
    assert "5 reused" in stdout
    assert table_counts(out) == expected_counts([text for part in texts for text in part], triples)


# ---------------------------------------------------------------------------
# JSON lines: a byte order mark opening a file, and blank lines, are accepted


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_a_byte_order_mark_and_blank_lines_are_accepted(tmp_path, run_cli, suffix):
    triples = write_triples(tmp_path / "facts.json")
    lines = [json.dumps({"text": text}) for text in TEXTS]
    lines[3:3] = ["", "   ", "\t"]
    raw = b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\r\n\n"
    corpus = tmp_path / f"bom{suffix}"
    corpus.write_bytes(gzip.compress(raw) if suffix == ".jsonl.gz" else raw)
    out = tmp_path / "c.csv"
    shard_mb = ["--shard-mb", "0.0001"] if suffix == ".jsonl" else []  # byte ranges too: the mark only opens the first
    code, _stdout, err = run_cli("count", "--facts", triples, "--out", out, *shard_mb, "--no-progress", corpus)
    assert code == 0, err
    meta = json.loads(counting.metadata_path(out).read_text())
    assert meta["documents"] == len(TEXTS) and meta["skipped_lines"] == 0
    assert table_counts(out) == expected_counts(TEXTS, triples)


def test_a_byte_order_mark_inside_a_file_is_a_bad_line(tmp_path, run_cli):
    triples = write_triples(tmp_path / "facts.json")
    corpus = tmp_path / "c.jsonl"
    corpus.write_bytes(b'{"text": " Ann"}\n\xef\xbb\xbf{"text": " Bell"}\n')
    code, _, err = run_cli("count", "--facts", triples, "--out", tmp_path / "c.csv", "--no-progress", corpus)
    one_line_error(code, err, f"{corpus}: line 2")


def test_a_file_of_only_a_byte_order_mark_and_blank_lines_is_an_empty_corpus(tmp_path, run_cli):
    triples = write_triples(tmp_path / "facts.json")
    corpus = tmp_path / "c.jsonl"
    corpus.write_bytes(b"\xef\xbb\xbf\n\n  \n")
    code, _, err = run_cli("count", "--facts", triples, "--out", tmp_path / "c.csv", "--no-progress", corpus)
    one_line_error(code, err, "empty corpus")
