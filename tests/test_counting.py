"""The counting engine (`smi count`): exact agreement with the paper's fact-by-fact scan,
the two match rules, corpus formats, bad input, resuming and Dask."""

from __future__ import annotations

import bisect
import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import write_jsonl
from smi import corpus_io, counting, formats, matchers
from smi.records import COUNT_FIELDS

#: Every engine, Hyperscan skipped only where it is not installed.
ENGINES = [
    "pyahocorasick",
    pytest.param(
        "hyperscan", marks=pytest.mark.skipif(matchers.hyperscan_or_none() is None, reason="hyperscan is not installed")
    ),
]


def write_triples(path: Path, pairs: list[tuple[str, str]]) -> Path:
    records = [{"idx": i, "subj": subj, "rel": "r", "obj": obj} for i, (subj, obj) in enumerate(pairs)]
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def engine_table(
    texts: list[str],
    triples: pd.DataFrame,
    match: str = "paper",
    block_chars: int = counting.DEFAULT_BLOCK_CHARS,
    engine: str = "auto",
):
    strings = counting.fact_strings(triples)
    return counting.counts_table(triples, strings, counting.count_texts(texts, strings, match, block_chars, engine))


def triples_frame(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {"idx": range(len(pairs)), "subj": [s for s, _ in pairs], "rel": "r", "obj": [o for _, o in pairs]}
    )


# ---------------------------------------------------------------------------
# the two match rules, by hand


@pytest.mark.parametrize("engine", ENGINES)
def test_paper_and_word_rules_on_hand_made_documents(engine):
    triples = triples_frame([("Paris", "France"), ("Ann", "Anna")])
    texts = [
        "Paris is the capital of France.",  # Paris at the start: no space before it
        "She loved a Parisian café in France",  # Paris inside Parisian
        "Anna went to Paris, France.",  # Anna at the start; Paris and France after spaces
        "",  # empty document
        "with Anna and Ann",  # Ann also inside " Anna" for the paper's rule
    ]
    paper = engine_table(texts, triples, "paper", engine=engine).set_index("subj")
    word = engine_table(texts, triples, "word", engine=engine).set_index("subj")
    # paper: " Paris" in docs 1, 2; " France" in 0, 1, 2; " Ann" in 4; " Anna" in 4
    assert paper.loc["Paris", ["time_seqs", "time_subj", "time_obj", "time_s1j1"]].tolist() == [5, 2, 3, 2]
    assert paper.loc["Ann", ["time_subj", "time_obj", "time_s1j1", "time_s0j0"]].tolist() == [1, 1, 1, 4]
    # word: Paris in docs 0, 2 (not Parisian); France in 0, 1, 2; Ann in 4; Anna in 2, 4
    assert word.loc["Paris", ["time_subj", "time_obj", "time_s1j1", "time_s0j1"]].tolist() == [2, 3, 2, 1]
    assert word.loc["Ann", ["time_subj", "time_obj", "time_s1j1", "time_s0j1"]].tolist() == [1, 2, 1, 1]


@pytest.mark.parametrize("engine", ENGINES)
def test_word_rule_treats_unicode_letters_and_underscore_as_word_characters(engine):
    triples = triples_frame([("Zo", "x")])
    texts = ["Zoë", "Zo_1", "Zo-", "(Zo)", "ÉZo", "𝔸Zo", "Zo𝔸", "Zo\ud800", "\udfffZo", "Zo²", "ZoＡ", "«Zo»"]
    table = engine_table(texts, triples, "word", engine=engine)
    # "Zo-", "(Zo)", the lone surrogates and the guillemets: 𝔸, ², Ａ are letters or digits (str.isalnum)
    assert table.loc[0, "time_subj"] == 5


def test_a_document_counts_once_however_often_a_name_repeats():
    triples = triples_frame([("cat", "dog")])
    table = engine_table([" cat cat cat dog", " dog dog"], triples)
    assert table.loc[0, ["time_subj", "time_obj", "time_s1j1", "time_s0j1"]].tolist() == [1, 2, 1, 1]


def test_cells_of_the_table_add_up():
    triples = triples_frame([("a", "b"), ("b", "a"), ("a", "a")])
    table = engine_table([" a", " b", " a b", "", " c"], triples)
    assert (table["time_s1j1"] + table["time_s1j0"] == table["time_subj"]).all()
    assert (table["time_s1j1"] + table["time_s0j1"] == table["time_obj"]).all()
    assert (table[["time_s1j1", "time_s1j0", "time_s0j1", "time_s0j0"]].sum(axis=1) == 5).all()
    assert table.loc[2, "time_s1j1"] == table.loc[2, "time_subj"] == 2  # subject equals object


# ---------------------------------------------------------------------------
# property: the engine equals the fact-by-fact scan on random texts

PIECES = ["Ann", "Anna", "nna", "Anna Bell", "Bell", "Éva", "é", "a", "Ann Arbor", "_x", "東京", "x", "𝔸nn"]
SEPARATORS = [" ", "  ", ".", ",", "-", "\n", "\t", "_", "ü", "\x00", "𝔸", "²", "\ud800"]
names = st.one_of(st.sampled_from(PIECES), st.text(alphabet="aAnN é_-", min_size=1, max_size=4)).filter(
    lambda s: s.strip()
)
documents = st.lists(
    st.one_of(st.sampled_from(PIECES), st.sampled_from(SEPARATORS), st.text(alphabet="aAnNeé _.", max_size=4)),
    max_size=12,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(
    names=st.lists(names, min_size=1, max_size=6, unique=True),
    texts=st.lists(documents, max_size=10),
    fact_picks=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=8),
    block_chars=st.integers(1, 80),
    match=st.sampled_from(matchers.MATCH_MODES),
)
@pytest.mark.parametrize("engine", ENGINES)
def test_engine_equals_fact_by_fact_scan(engine, names, texts, fact_picks, block_chars, match):
    pairs = [(names[s % len(names)], names[o % len(names)]) for s, o in fact_picks]
    triples = triples_frame(pairs)
    expected = counting.naive_counts(texts, triples, match)
    got = engine_table(texts, triples, match, block_chars, engine)
    pd.testing.assert_frame_equal(got, expected)


# ---------------------------------------------------------------------------
# the whole vital-article corpus, every released fact


def reference_documents(texts: list[str], names: list[str]) -> dict[str, set[int]]:
    """Documents d with (" " + name) in texts[d], by the naive test on a superset of candidates.

    If " " + name occurs, the space-separated token right after that space starts
    with the part of the name before its first space. So the candidates for a name
    are the documents holding such a token (not counting a document's first token);
    the naive ``in`` test then decides each candidate.
    """
    docs_of_token: dict[str, list[int]] = {}
    for doc, text in enumerate(texts):
        for token in set(text.split(" ")[1:]):
            docs_of_token.setdefault(token, []).append(doc)
    tokens = sorted(docs_of_token)
    found = {}
    for name in names:
        head = name.split(" ")[0]
        candidates: set[int] = set()
        for position in range(bisect.bisect_left(tokens, head), len(tokens)):
            if not tokens[position].startswith(head):
                break
            candidates.update(docs_of_token[tokens[position]])
        found[name] = {doc for doc in candidates if (" " + name) in texts[doc]}
    return found


@pytest.mark.shared_data
def test_count_command_equals_naive_scan_on_vital_articles(release_dir, tmp_path, run_cli):
    from smi.corpus import vital_articles

    texts = [record["text"] for record in vital_articles()]
    corpus = write_jsonl(tmp_path / "vital.jsonl", texts)
    facts_file = release_dir / "search" / "pararel_15classes.json"
    code, _out, err = run_cli("count", "--facts", facts_file, "--out", tmp_path / "counts.csv", "--no-progress", corpus)
    assert code == 0, err
    got = pd.read_csv(tmp_path / "counts.csv", keep_default_na=False)
    facts = formats.read_facts(facts_file).frame()
    assert len(got) == len(facts) == 12671

    found = reference_documents(texts, sorted(set(facts["subj"]) | set(facts["obj"])))
    subj_docs = facts["subj"].map(found)
    obj_docs = facts["obj"].map(found)
    assert got["time_seqs"].eq(len(texts)).all()
    assert got["time_subj"].tolist() == subj_docs.map(len).tolist()
    assert got["time_obj"].tolist() == obj_docs.map(len).tolist()
    assert got["time_s1j1"].tolist() == [len(s & o) for s, o in zip(subj_docs, obj_docs)]
    assert got["time_s1j1"].sum() > 1000  # the corpus really exercises co-occurrence


@pytest.mark.shared_data
def test_reference_superset_agrees_with_plain_naive_scan_on_a_sample(release_dir):
    from smi.corpus import vital_articles

    texts = [record["text"] for record in vital_articles()[:40]]
    facts = formats.read_facts(release_dir / "search" / "pararel_15classes.json").frame().iloc[::7]
    naive = counting.naive_counts(texts, facts)
    found = reference_documents(texts, sorted(set(facts["subj"]) | set(facts["obj"])))
    assert naive["time_subj"].tolist() == facts["subj"].map(lambda name: len(found[name])).tolist()
    assert naive["time_obj"].tolist() == facts["obj"].map(lambda name: len(found[name])).tolist()


# ---------------------------------------------------------------------------
# the command: formats, outputs, shards

TEXTS = [" Ann met Bell", "Anna Bell", " Bell", "", " Ann Arbor and Bell", "nothing here", " Éva and Ann"] * 3
PAIRS = [("Ann", "Bell"), ("Anna Bell", "Ann"), ("Éva", "Ann"), ("Bell", "Arbor")]


@pytest.fixture
def small(tmp_path):
    triples = write_triples(tmp_path / "facts.json", PAIRS)
    corpus = write_jsonl(tmp_path / "corpus" / "a.jsonl", TEXTS)
    expected = counting.naive_counts(TEXTS, formats.read_facts(triples).frame())
    return triples, corpus, expected


def read_counts(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, keep_default_na=False)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.DataFrame(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_outputs_hold_the_release_columns(small, tmp_path, run_cli, suffix):
    triples, corpus, expected = small
    out = tmp_path / f"counts{suffix}"
    code, _stdout, err = run_cli("count", "--facts", triples, "--out", out, "--no-progress", corpus)
    assert code == 0, err
    got = read_counts(out)
    assert list(got.columns) == ["idx", "subj", "rel", "obj", *COUNT_FIELDS]
    assert got[list(COUNT_FIELDS)].to_numpy().tolist() == expected[list(COUNT_FIELDS)].to_numpy().tolist()
    meta = json.loads(counting.metadata_path(out).read_text())
    assert meta["documents"] == len(TEXTS) and meta["skipped_lines"] == 0
    assert not (tmp_path / f"counts{suffix}.parts").exists()  # default work folder removed after success


def test_json_output_loads_like_the_release(small, tmp_path, run_cli):
    from smi import release

    triples, corpus, _ = small
    (tmp_path / "rel" / "search" / "mine").mkdir(parents=True)
    out = tmp_path / "rel" / "search" / "mine" / "merge.json"
    assert run_cli("count", "--facts", triples, "--out", out, "--no-progress", corpus)[0] == 0
    loaded = release.load_corpus_counts(tmp_path / "rel", "mine")
    assert loaded["time_seqs"].eq(len(TEXTS)).all()


def test_every_input_format_gives_the_same_counts(small, tmp_path, run_cli):
    import pyarrow as pa
    import pyarrow.parquet as pq
    import zstandard

    triples, corpus, expected = small
    raw = corpus.read_bytes()
    folder = tmp_path / "formats"
    folder.mkdir()
    (folder / "b.jsonl.gz").write_bytes(gzip.compress(raw))
    compressor = zstandard.ZstdCompressor()
    half = raw.index(b"\n", len(raw) // 2) + 1
    (folder / "c.jsonl.zst").write_bytes(
        compressor.compress(raw[:half]) + compressor.compress(raw[half:])
    )  # two frames
    pq.write_table(pa.table({"text": TEXTS}), folder / "d.parquet", row_group_size=5)
    (folder / "ignored.txt").write_text("not a corpus file")
    out = tmp_path / "counts.csv"
    code, _, err = run_cli("count", "--facts", triples, "--out", out, "--no-progress", corpus, folder)
    assert code == 0, err
    got = read_counts(out)
    assert (
        got[list(COUNT_FIELDS[1:4])].to_numpy().tolist() == (expected[list(COUNT_FIELDS[1:4])] * 4).to_numpy().tolist()
    )
    assert got["time_seqs"].eq(4 * len(TEXTS)).all()


def test_byte_range_shards_give_the_same_counts_and_line_numbers(small, tmp_path, run_cli):
    triples, corpus, expected = small
    out = tmp_path / "counts.csv"
    code, _stdout, err = run_cli(
        "count", "--facts", triples, "--out", out, "--shard-mb", "0.00005", "--no-progress", corpus
    )
    assert code == 0, err
    assert json.loads(counting.metadata_path(out).read_text())["shards"] > 5
    assert read_counts(out)[list(COUNT_FIELDS)].to_numpy().tolist() == expected[list(COUNT_FIELDS)].to_numpy().tolist()
    lines = corpus.read_text().splitlines()
    lines[15] = '{"text": "broken'
    corpus.write_text("\n".join(lines) + "\n")
    code, _, err = run_cli("count", "--facts", triples, "--out", out, "--shard-mb", "0.00005", "--no-progress", corpus)
    assert code == 2 and "line 16" in err and str(corpus) in err


def test_word_rule_from_the_command(small, tmp_path, run_cli):
    triples, corpus, _ = small
    out = tmp_path / "counts.csv"
    assert run_cli("count", "--facts", triples, "--out", out, "--match", "word", "--no-progress", corpus)[0] == 0
    expected = counting.naive_counts(TEXTS, formats.read_facts(triples).frame(), "word")
    assert read_counts(out)[list(COUNT_FIELDS)].to_numpy().tolist() == expected[list(COUNT_FIELDS)].to_numpy().tolist()


def test_triples_from_csv_keep_names_pandas_would_read_as_missing(tmp_path, run_cli):
    triples = tmp_path / "facts.csv"
    pd.DataFrame(
        {"idx": [1, 2], "subj": ["NA", "None"], "rel": ["r", "r"], "obj": ["null", "NA"], "pid": ["P1", "P1"]}
    ).to_csv(triples, index=False)
    corpus = write_jsonl(tmp_path / "c.jsonl", ["x NA null", " None"])
    out = tmp_path / "counts.csv"
    assert run_cli("count", "--facts", triples, "--out", out, "--no-progress", corpus)[0] == 0
    got = read_counts(out)
    assert got["time_subj"].tolist() == [1, 1] and got["time_s1j1"].tolist() == [1, 0]


# ---------------------------------------------------------------------------
# bad input: one line naming file and line, exit 2, no output


def bad_lines_cases(folder: Path) -> dict[str, tuple[Path, str]]:
    """One file per kind of bad line, each with good lines " Ann" around it: (path, expected message)."""
    good = json.dumps({"text": " Ann"}) + "\n"
    cases = {
        "malformed": ((good * 2 + '{"text": "Ann"\n' + good).encode(), "line 3: malformed JSON"),
        "missing_field": ((good + '{"body": "Ann"}\n').encode(), "line 2: missing field 'text'"),
        "invalid_utf8": (good.encode() + b'{"text": "\xff\xfe"}\n', "line 2: invalid UTF-8"),
        "not_string": ((good + '{"text": 5}\n').encode(), "line 2: field 'text' is not a string"),
    }
    files = {}
    for name, (content, message) in cases.items():
        path = folder / f"{name}.jsonl"
        path.write_bytes(content)
        files[name] = (path, message)
    return files


@pytest.mark.parametrize("case", ["malformed", "missing_field", "invalid_utf8", "not_string"])
def test_bad_lines_stop_with_file_and_line(tmp_path, run_cli, case):
    triples = write_triples(tmp_path / "facts.json", PAIRS)
    path, message = bad_lines_cases(tmp_path)[case]
    out = tmp_path / "counts.csv"
    code, _, err = run_cli("count", "--facts", triples, "--out", out, "--no-progress", path)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("smi: error: ") and str(path) in err and message in err
    assert not out.exists()


def test_skip_bad_lines_counts_them_in_the_metadata(tmp_path, run_cli):
    triples = write_triples(tmp_path / "facts.json", PAIRS)
    folder = tmp_path / "bad"
    folder.mkdir()
    bad_lines_cases(folder)  # 4 files: 6 good lines " Ann", 4 bad ones
    out = tmp_path / "counts.json"
    code, stdout, err = run_cli("count", "--facts", triples, "--out", out, "--skip-bad-lines", "--no-progress", folder)
    assert code == 0, err
    meta = json.loads(counting.metadata_path(out).read_text())
    assert meta["skipped_lines"] == 4 and len(meta["skipped_examples"]) == 4
    assert any("malformed.jsonl:3: malformed JSON" in example for example in meta["skipped_examples"])
    assert "4 bad lines skipped" in stdout
    got = read_counts(out)
    assert got["time_seqs"].eq(6).all() and got.loc[0, "time_subj"] == 6


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst"])
def test_truncated_compressed_file_is_an_error(tmp_path, run_cli, suffix):
    import zstandard

    raw = "".join(json.dumps({"text": f" Ann {i}"}) + "\n" for i in range(3000)).encode()
    packed = gzip.compress(raw) if suffix == ".jsonl.gz" else zstandard.ZstdCompressor().compress(raw)
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(packed[: len(packed) // 2])
    triples = write_triples(tmp_path / "facts.json", PAIRS)
    code, _, err = run_cli("count", "--facts", triples, "--out", tmp_path / "c.csv", "--no-progress", path)
    assert code == 2 and "truncated or corrupt" in err and str(path) in err
    assert not (tmp_path / "c.csv").exists()


def test_empty_corpus_is_an_error(tmp_path, run_cli):
    triples = write_triples(tmp_path / "facts.json", PAIRS)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    code, _, err = run_cli("count", "--facts", triples, "--out", tmp_path / "c.csv", "--no-progress", empty)
    assert code == 2 and "empty corpus" in err
    code, _, err = run_cli(
        "count", "--facts", triples, "--out", tmp_path / "c.csv", "--no-progress", tmp_path / "nothing-*.jsonl"
    )
    assert code == 2 and "nothing-*.jsonl" in err


@pytest.mark.parametrize(
    ("records", "message"),
    [
        (
            [{"idx": 1, "subj": "a", "rel": "r", "obj": "b"}, {"idx": 1, "subj": "c", "rel": "r", "obj": "d"}],
            "duplicate idx 1",
        ),
        (
            [{"idx": 1, "subj": "a", "rel": "r", "obj": "b"}, {"idx": 2, "subj": " ", "rel": "r", "obj": "d"}],
            "record 1 (idx 2): field 'subj'",
        ),
        ([{"idx": 1, "subj": "a", "rel": "r", "obj": ""}], "record 0 (idx 1): field 'obj'"),
    ],
)
def test_bad_triples_are_named(tmp_path, run_cli, records, message):
    triples = tmp_path / "facts.json"
    triples.write_text(json.dumps(records))
    corpus = write_jsonl(tmp_path / "c.jsonl", [" a b"])
    code, _, err = run_cli("count", "--facts", triples, "--out", tmp_path / "c.csv", "--no-progress", corpus)
    assert code == 2 and message in err and str(triples) in err


def test_unsupported_output_is_refused_before_counting(small, tmp_path, run_cli):
    triples, corpus, _ = small
    code, _, err = run_cli("count", "--facts", triples, "--out", tmp_path / "c.xlsx", corpus)
    assert code == 2 and "c.xlsx" in err


# ---------------------------------------------------------------------------
# resuming, and Dask


def shard_corpus(folder: Path, n_files: int) -> list[Path]:
    return [write_jsonl(folder / f"part{i}.jsonl", TEXTS[i:] + [" Ann Bell"] * i) for i in range(n_files)]


def test_killed_run_resumes_without_recounting_finished_shards(tmp_path, run_cli, monkeypatch):
    triples = write_triples(tmp_path / "facts.json", PAIRS)
    corpus = tmp_path / "corpus"
    shard_corpus(corpus, 5)
    work = tmp_path / "work"
    out = tmp_path / "counts.csv"
    real_count_shard = counting.count_shard
    counted: list[str] = []

    def killed_after_two(shard, strings, settings):
        if len(counted) == 2:
            raise KeyboardInterrupt
        counted.append(Path(shard.path).name)
        return real_count_shard(shard, strings, settings)

    monkeypatch.setattr(counting.runner, "count_shard", killed_after_two)
    code, _, err = run_cli("count", "--facts", triples, "--out", out, "--work-dir", work, "--no-progress", corpus)
    assert code == 130 and not out.exists()
    assert len(list(work.glob("shard-*.npz"))) == 2 and not list(work.glob("*.tmp"))

    first_two = list(counted)

    def spy(shard, strings, settings):
        counted.append(Path(shard.path).name)
        return real_count_shard(shard, strings, settings)

    monkeypatch.setattr(counting.runner, "count_shard", spy)
    code, stdout, err = run_cli("count", "--facts", triples, "--out", out, "--work-dir", work, "--no-progress", corpus)
    assert code == 0, err
    recounted = counted[2:]
    assert sorted(recounted) == sorted({f"part{i}.jsonl" for i in range(5)} - set(first_two))
    assert "2 reused" in stdout

    fresh = tmp_path / "fresh.csv"
    assert run_cli("count", "--facts", triples, "--out", fresh, "--no-progress", corpus)[0] == 0
    assert out.read_text() == fresh.read_text()


def test_changed_file_is_recounted(tmp_path, run_cli):
    triples = write_triples(tmp_path / "facts.json", PAIRS)
    corpus = write_jsonl(tmp_path / "c.jsonl", [" Ann"])
    work, out = tmp_path / "work", tmp_path / "counts.csv"
    assert run_cli("count", "--facts", triples, "--out", out, "--work-dir", work, "--no-progress", corpus)[0] == 0
    write_jsonl(corpus, [" Ann", " Ann Bell"])
    assert run_cli("count", "--facts", triples, "--out", out, "--work-dir", work, "--no-progress", corpus)[0] == 0
    assert read_counts(out).loc[0, ["time_seqs", "time_subj", "time_s1j1"]].tolist() == [2, 2, 1]


def test_dask_workers_give_the_same_totals(tmp_path, run_cli):
    triples = write_triples(tmp_path / "facts.json", PAIRS)
    corpus = tmp_path / "corpus"
    shard_corpus(corpus, 8)
    serial, parallel = tmp_path / "serial.csv", tmp_path / "dask.csv"
    assert run_cli("count", "--facts", triples, "--out", serial, "--no-progress", corpus)[0] == 0
    code, _, err = run_cli("count", "--facts", triples, "--out", parallel, "--workers", "2", "--no-progress", corpus)
    assert code == 0, err
    assert serial.read_text() == parallel.read_text()


# ---------------------------------------------------------------------------
# readers


def test_zst_reader_reports_a_cut_in_the_middle_of_a_frame(tmp_path):
    import zstandard

    raw = b"".join(json.dumps({"text": "x" * i}).encode() + b"\n" for i in range(200))
    packed = zstandard.ZstdCompressor().compress(raw)
    whole = tmp_path / "whole.jsonl.zst"
    whole.write_bytes(packed)
    shard = corpus_io.plan_shards([whole])[0]
    assert list(corpus_io.read_documents(shard)) == ["x" * i for i in range(200)]
    whole.write_bytes(packed[:-5])
    with pytest.raises(Exception, match="truncated"):
        list(corpus_io.read_documents(corpus_io.plan_shards([whole])[0]))


def test_byte_ranges_cover_every_line_once(tmp_path):
    texts = [f"doc {i} " + "é" * (i % 7) for i in range(300)]
    path = write_jsonl(tmp_path / "c.jsonl", texts)
    for shard_bytes in (1, 17, 100, 4096, 10**9):
        shards = corpus_io.plan_shards([path], shard_bytes)
        assert [text for shard in shards for text in corpus_io.read_documents(shard)] == texts


def test_local_processes_give_the_same_totals_and_resume(tmp_path, run_cli):
    triples = write_triples(tmp_path / "facts.json", PAIRS)
    corpus = tmp_path / "corpus"
    shard_corpus(corpus, 6)
    serial, forked, work = tmp_path / "serial.csv", tmp_path / "forked.csv", tmp_path / "work"
    assert run_cli("count", "--facts", triples, "--out", serial, "--no-progress", corpus)[0] == 0
    code, stdout, err = run_cli(
        "count", "--facts", triples, "--out", forked, "--processes", "2", "--work-dir", work, "--no-progress", corpus
    )
    assert code == 0, err
    assert serial.read_text() == forked.read_text()
    assert len(list(work.glob("shard-*.npz"))) == 6  # each shard's partial counts saved by the parent
    forked.unlink()
    code, stdout, err = run_cli(
        "count", "--facts", triples, "--out", forked, "--processes", "2", "--work-dir", work, "--no-progress", corpus
    )
    assert code == 0 and "6 reused" in stdout
    assert serial.read_text() == forked.read_text()


def test_processes_and_a_dask_cluster_are_exclusive(tmp_path, run_cli):
    triples = write_triples(tmp_path / "facts.json", PAIRS)
    corpus = write_jsonl(tmp_path / "c.jsonl", [" Ann"])
    code, _, err = run_cli("count", "--facts", triples, "--out", tmp_path / "o.csv", "--processes", "0", corpus)
    assert code == 2 and "--processes must be at least 1" in err


# ---------------------------------------------------------------------------
# start-up and output writers without pandas


def test_count_command_path_does_not_import_pandas():
    import subprocess
    import sys

    code = (
        "import sys; from smi import cli, counting; cli.build_parser(); "
        "assert 'pandas' not in sys.modules, 'pandas imported'"
    )
    lib = str(Path(counting.__file__).resolve().parents[2])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": lib})
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_plain_writers_write_what_pandas_writes(tmp_path, suffix):
    facts = formats.Facts([3, 1, "x7"], ["a/b", 'q"x', "line\nbreak"], ["r,1", "é東", "\t"], ["Ann", "\\path", "cr\rx"])
    counts = {name: np.arange(3, dtype=np.int64) * (i + 1) for i, name in enumerate(COUNT_FIELDS)}
    run = counting.CountRun(facts, counts, {"documents": 3})
    out = counting.write_counts(run, tmp_path / f"counts{suffix}")[0]
    expected = (
        run.table.to_csv(index=False)
        if suffix == ".csv"
        else run.table.to_json(orient="records", force_ascii=False, indent=1)
    )
    assert out.read_bytes() == expected.encode("utf-8")
