"""The counting engines (`smi count --engine`): identical counts from Hyperscan and pyahocorasick,
the choice of `auto` and its fallback, the cached Hyperscan database, and gzip through isal."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers import write_jsonl
from smi import corpus_io, counting, formats, matchers
from smi.errors import SmiError
from test_count_robustness import PAIRS, TEXTS, write_triples  # the same small corpus and facts

LIB = Path(counting.__file__).resolve().parents[2]  # lib/smi/counting/__init__.py → lib
needs_hyperscan = pytest.mark.skipif(matchers.hyperscan_or_none() is None, reason="hyperscan is not installed")


@pytest.fixture
def small(tmp_path):
    return write_triples(tmp_path / "facts.json", PAIRS), write_jsonl(tmp_path / "corpus" / "a.jsonl", TEXTS)


@pytest.fixture
def without_hyperscan(monkeypatch):
    """Make ``import hyperscan`` fail, as on a platform without its wheel (and forget built matchers)."""
    monkeypatch.setitem(sys.modules, "hyperscan", None)
    counting.scan._SCANS.clear()
    yield
    counting.scan._SCANS.clear()


def made_up_facts(n_facts: int, seed: int = 0) -> tuple[pd.DataFrame, list[str]]:
    """``n_facts`` facts between made-up names, and a small corpus in which many of them occur.

    Names are one to three made-up words from a small stock of syllables, so that
    many are prefixes of others (" Kora" inside " Kora Tesu") and overlap in the text.
    """
    import random

    rng = random.Random(seed)
    syllables = ["ka", "to", "ri", "su", "me", "la", "no", "vi", "ze", "qu", "é", "ü"]
    words = ["".join(rng.choices(syllables, k=rng.randint(2, 4))).capitalize() for _ in range(3000)]
    names = sorted({" ".join(rng.choices(words, k=rng.randint(1, 3))) for _ in range(n_facts)})
    subj, obj = rng.choices(names, k=n_facts), rng.choices(names, k=n_facts)
    facts = pd.DataFrame({"idx": range(n_facts), "subj": subj, "rel": "r", "obj": obj})
    texts = [" ".join(rng.choices(words, k=rng.randint(0, 400))) + rng.choice(["", ".", "x"]) for _ in range(120)]
    return facts, texts


def table_of(texts, facts, match, engine, block_chars=counting.DEFAULT_BLOCK_CHARS) -> pd.DataFrame:
    strings = counting.fact_strings(facts)
    return counting.counts_table(facts, strings, counting.count_texts(texts, strings, match, block_chars, engine))


# ---------------------------------------------------------------------------
# identical counts


@needs_hyperscan
@pytest.mark.parametrize("match, n_facts", [("paper", 100_000), ("word", 20_000)])
def test_engines_agree_on_many_made_up_facts(match, n_facts):
    facts, texts = made_up_facts(n_facts)
    hyperscan = table_of(texts, facts, match, "hyperscan", block_chars=20_000)  # several blocks
    aho_corasick = table_of(texts, facts, match, "pyahocorasick")
    pd.testing.assert_frame_equal(hyperscan, aho_corasick)
    assert (hyperscan["time_s1j1"] > 0).sum() > 20  # the corpus really holds pairs of the facts
    assert (hyperscan["time_subj"] > 0).mean() > 0.03  # thousands of subjects found
    sample = facts.iloc[::250]  # a fact's counts do not depend on the other facts: check a sample fact by fact
    expected = counting.naive_counts(texts, sample.reset_index(drop=True), match)
    got = hyperscan.iloc[::250].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)


@needs_hyperscan
@pytest.mark.shared_data
@pytest.mark.parametrize("match", matchers.MATCH_MODES)
def test_engines_write_identical_tables_on_vital_articles(release_dir, tmp_path, run_cli, match):
    from smi.corpus import vital_articles

    corpus = write_jsonl(tmp_path / "vital.jsonl", [record["text"] for record in vital_articles()])
    facts_file = release_dir / "search" / "pararel_15classes.json"
    tables = {}
    for engine in ("hyperscan", "pyahocorasick"):
        out = tmp_path / f"{engine}.csv"
        code, _, err = run_cli(
            "count",
            "--facts",
            facts_file,
            "--out",
            out,
            "--match",
            match,
            "--engine",
            engine,
            "--no-progress",
            corpus,
        )
        assert code == 0 and err == "", err
        assert json.loads(counting.metadata_path(out).read_text())["engine"].startswith(engine + " ")
        tables[engine] = out.read_bytes()
    assert tables["hyperscan"] == tables["pyahocorasick"]
    counts = pd.read_csv(tmp_path / "hyperscan.csv", keep_default_na=False)
    assert counts["time_s1j1"].sum() > 1000


@needs_hyperscan
def test_overlapping_names_are_all_found():
    facts = pd.DataFrame(
        {"idx": [0, 1], "subj": ["English", "English language"], "rel": "r", "obj": ["language", "glish"]}
    )
    texts = ["in the English language", "English language"]
    table = table_of(texts, facts, "paper", "hyperscan")
    assert table["time_subj"].tolist() == [1, 1]  # " English" inside " English language" (doc 0 only)
    assert table["time_obj"].tolist() == [2, 0]  # " language" in both, " glish" in neither
    assert table["time_s1j1"].tolist() == [1, 0]
    pd.testing.assert_frame_equal(table, counting.naive_counts(texts, facts))


# ---------------------------------------------------------------------------
# choosing the engine


def test_auto_picks_hyperscan_up_to_the_crossover():
    installed = matchers.hyperscan_or_none() is not None
    engine, note = matchers.resolve_engine("auto", matchers.HYPERSCAN_MAX_NAMES)
    assert (engine, note is None) == (("hyperscan", True) if installed else ("pyahocorasick", False))
    assert matchers.resolve_engine("auto", matchers.HYPERSCAN_MAX_NAMES + 1)[0] == "pyahocorasick"
    assert matchers.resolve_engine("pyahocorasick", 10) == ("pyahocorasick", None)
    with pytest.raises(SmiError, match="unknown engine 'fast'"):
        matchers.resolve_engine("fast", 10)


def test_auto_falls_back_with_a_note_without_hyperscan(small, tmp_path, run_cli, without_hyperscan):
    triples, corpus = small
    code, _, err = run_cli("count", "--facts", triples, "--out", tmp_path / "c.csv", "--no-progress", corpus)
    assert code == 0
    assert err == "smi: note: hyperscan is not installed: counting with pyahocorasick (same counts, slower)\n"
    meta = json.loads(counting.metadata_path(tmp_path / "c.csv").read_text())
    assert meta["engine"].startswith("pyahocorasick ")
    expected = counting.naive_counts(TEXTS, formats.read_facts(triples).frame())
    got = pd.read_csv(tmp_path / "c.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(got, expected)


def test_explicit_hyperscan_without_it_is_an_error(small, tmp_path, run_cli, without_hyperscan):
    triples, corpus = small
    code, out, err = run_cli(
        "count", "--facts", triples, "--out", tmp_path / "c.csv", "--engine", "hyperscan", "--no-progress", corpus
    )
    assert code == 2 and out == ""
    assert (
        err.startswith("smi: error: --engine hyperscan: the hyperscan package is not installed")
        and err.count("\n") == 1
    )
    assert not (tmp_path / "c.csv").exists()


def test_unknown_engine_is_refused_by_the_parser(small, tmp_path, run_cli):
    triples, corpus = small
    with pytest.raises(SystemExit) as stop:
        run_cli("count", "--facts", triples, "--out", tmp_path / "c.csv", "--engine", "fast", corpus)
    assert stop.value.code == 2


# ---------------------------------------------------------------------------
# the cached Hyperscan database


@needs_hyperscan
def test_the_database_is_cached_and_reused(tmp_path, monkeypatch):
    patterns = [b" Ann", b" Anna", b" Bell"]
    _database, path = matchers.hyperscan_database(patterns, "paper", tmp_path)
    assert path.parent == tmp_path and path.name.startswith("hyperscan-") and path.exists()

    def no_compiling(*args):
        raise AssertionError("compiled again")

    monkeypatch.setattr(matchers, "compile_hyperscan", no_compiling)
    again, same_path = matchers.hyperscan_database(patterns, "paper", tmp_path)
    assert same_path == path
    found = []
    again.scan(
        b"x Anna Bell",
        match_event_handler=lambda i, s, e, f, c: found.append((i, e)),
        scratch=__import__("hyperscan").Scratch(again),
    )
    assert sorted(found) == [(0, 5), (1, 6), (2, 11)]  # id, end offset (exclusive)
    # another rule or other names: another key, another file
    other_key = matchers.hyperscan_database_key(patterns, "word")
    assert other_key != matchers.hyperscan_database_key(patterns, "paper")
    assert matchers.hyperscan_database_key(patterns[:2], "paper") != matchers.hyperscan_database_key(patterns, "paper")


@needs_hyperscan
@pytest.mark.parametrize("damage", ["truncate", "flip", "other_key", "empty"])
def test_a_damaged_cached_database_is_compiled_again_with_a_note(tmp_path, damage):
    patterns = [b" Ann", b" Bell"]
    _, path = matchers.hyperscan_database(patterns, "paper", tmp_path)
    content = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(content[: len(content) // 2])
    elif damage == "flip":
        middle = len(content) // 2
        path.write_bytes(content[:middle] + bytes([content[middle] ^ 0xFF]) + content[middle + 1 :])
    elif damage == "other_key":
        path.write_bytes(content.replace(content.split(b"\n")[1][:64], b"0" * 64, 1))
    else:
        path.write_bytes(b"")
    notes: list[str] = []
    database, again = matchers.hyperscan_database(patterns, "paper", tmp_path, notes.append)
    assert again == path and len(notes) == 1 and "compiling it again" in notes[0] and str(path) in notes[0]
    assert path.read_bytes() == content  # rewritten whole
    found = []
    database.scan(
        b" Bell",
        match_event_handler=lambda i, s, e, f, c: found.append(i),
        scratch=__import__("hyperscan").Scratch(database),
    )
    assert found == [1]


@needs_hyperscan
def test_count_caches_the_database_in_the_work_folder_and_cleans_the_default_one(small, tmp_path, run_cli):
    triples, corpus = small
    counting.scan._SCANS.clear()
    work = tmp_path / "work"
    engine = ("--engine", "hyperscan")
    code, _, err = run_cli(
        "count", "--facts", triples, "--out", tmp_path / "a.csv", "--work-dir", work, *engine, "--no-progress", corpus
    )
    assert code == 0 and err == ""
    assert len(list(work.glob("hyperscan-*.hsdb"))) == 1  # kept with the shard results for later runs
    counting.scan._SCANS.clear()
    code, _, err = run_cli("count", "--facts", triples, "--out", tmp_path / "b.csv", *engine, "--no-progress", corpus)
    assert code == 0 and err == ""
    assert not counting.default_work_dir(tmp_path / "b.csv").exists()  # shard results and database removed


@needs_hyperscan
def test_a_database_left_by_an_interrupted_run_is_removed_when_every_shard_is_reused(small, tmp_path, run_cli):
    triples, corpus = small
    out = tmp_path / "c.csv"
    parts = counting.default_work_dir(out)
    engine = ("--engine", "hyperscan")
    counting.scan._SCANS.clear()
    code, _, err = run_cli(
        "count", "--facts", triples, "--out", out, "--work-dir", parts, *engine, "--no-progress", corpus
    )
    assert code == 0 and len(list(parts.glob("hyperscan-*.hsdb"))) == 1  # as a killed run would leave them
    out.unlink()
    code, stdout, err = run_cli("count", "--facts", triples, "--out", out, *engine, "--no-progress", corpus)
    assert code == 0 and err == "" and "1 reused" in stdout
    assert not parts.exists()


@needs_hyperscan
def test_auto_compiles_hyperscan_only_for_a_large_enough_corpus_or_a_cached_database(small, tmp_path, run_cli):
    triples, corpus = small  # a few hundred bytes: far below HYPERSCAN_MIN_BYTES_PER_NAME per name

    def engine_of_run(out: Path, *extra) -> str:
        counting.scan._SCANS.clear()
        code, _, err = run_cli("count", "--facts", triples, "--out", out, *extra, "--no-progress", corpus)
        assert code == 0 and err == ""
        return json.loads(counting.metadata_path(out).read_text())["engine"].split()[0]

    assert engine_of_run(tmp_path / "a.csv") == "pyahocorasick"
    work = tmp_path / "work"
    assert engine_of_run(tmp_path / "b.csv", "--work-dir", work, "--engine", "hyperscan") == "hyperscan"
    for shard_result in work.glob("shard-*.npz"):
        shard_result.unlink()
    assert engine_of_run(tmp_path / "c.csv", "--work-dir", work) == "hyperscan"  # its database is cached there
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "c.csv").read_bytes()
    n_names = 1000
    assert matchers.resolve_engine("auto", n_names, matchers.HYPERSCAN_MIN_BYTES_PER_NAME * n_names)[0] == "hyperscan"
    assert (
        matchers.resolve_engine("auto", n_names, matchers.HYPERSCAN_MIN_BYTES_PER_NAME * n_names - 1)[0]
        == "pyahocorasick"
    )


def test_orphaned_database_temporaries_are_removed(tmp_path):
    orphan = tmp_path / f".hyperscan-{'a' * 32}.hsdb.x1y2z3_q.tmp"
    orphan.write_bytes(b"half")
    assert counting.remove_orphaned_shard_temporaries(tmp_path) == 1 and not orphan.exists()


# ---------------------------------------------------------------------------
# gzip through isal, or the standard library


def test_gzip_reads_the_same_with_and_without_isal(tmp_path, monkeypatch):
    texts = [f" doc {i} Ann é" * (i % 7) for i in range(3000)]
    path = tmp_path / "c.jsonl.gz"
    path.write_bytes(gzip.compress("".join(json.dumps({"text": t}) + "\n" for t in texts).encode("utf-8")))
    shard = corpus_io.plan_shards([path])[0]
    assert list(corpus_io.read_documents(shard)) == texts
    monkeypatch.setattr(corpus_io, "_fast_gzip", None)
    assert list(corpus_io.read_documents(shard)) == texts
    path.write_bytes(path.read_bytes()[:-40])  # truncated: the same one-line error from the standard library
    with pytest.raises(SmiError, match="truncated or corrupt compressed file"):
        list(corpus_io.read_documents(corpus_io.plan_shards([path])[0]))
