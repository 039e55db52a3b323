"""Speed of `smi count` against the paper's fact-by-fact scan, measured side by side in one run.

    .venv/bin/python bench/count_bench.py [--quick] [--release DIR] [--corpus FILE]

1. The naive scan (for each document, for each of the 12,671 facts,
   ``(" " + subj) in text`` and ``(" " + obj) in text``) on a sample of
   vital-article summaries sized to run ~25 s, and the engine on the same
   documents; their counts must be equal.
2. ``smi count`` as a whole command (a subprocess: interpreter start, imports,
   reading JSONL, counting, writing CSV) over 8 copies of the vital-article
   corpus: serially, with ``--processes 2`` (forked local processes) and with
   ``--workers 2`` (a local Dask cluster); MB/s against the naive scan's.
3. Pile-length documents (~5 KB: consecutive summaries joined): engine MB/s
   per core, and the naive scan's on the same kind of documents.
4. 1 vs 2 Dask workers on 48 shards of Pile-length documents, ~4.6 MB each
   (clusters started before the clock starts).

MB are 10^6 bytes of UTF-8 document text. Other processes on the machine slow
the multi-worker figures most; the script prints the load average.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from smi import corpus_io, counting, data, formats, matchers  # noqa: E402
from smi.records import COUNT_FIELDS  # noqa: E402

PILE_LENGTH = 5000  # characters per Pile-like document


def text_megabytes(texts: list[str]) -> float:
    return sum(len(text.encode("utf-8")) for text in texts) / 1e6


def pile_like(texts: list[str], length: int = PILE_LENGTH) -> list[str]:
    """Consecutive summaries joined by blank lines until each document reaches ``length`` characters."""
    documents, current = [], []
    size = 0
    for text in texts:
        current.append(text)
        size += len(text) + 2
        if size >= length:
            documents.append("\n\n".join(current))
            current, size = [], 0
    return documents


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def naive_sample(texts: list[str], triples, target_seconds: float):
    """Run the naive scan on as many documents as fit in about ``target_seconds``."""
    _, probe_seconds = timed(counting.naive_counts, texts[:8], triples)
    n_docs = max(8, min(len(texts), int(target_seconds / (probe_seconds / 8))))
    sample = texts[:n_docs]
    table, seconds = timed(counting.naive_counts, sample, triples)
    return sample, table, seconds


def run_command(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak memory (MiB) of a subprocess."""
    wrapper = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "code = subprocess.run(sys.argv[1:]).returncode; s = time.perf_counter() - t; "
        "print(s, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)"
    )
    done = subprocess.run([sys.executable, "-c", wrapper, *argv], capture_output=True, text=True, check=True)
    seconds, max_rss_kib, code = done.stdout.split()[-3:]
    if int(code) != 0:
        raise SystemExit(f"command failed: {' '.join(argv)}\n{done.stderr}")
    return float(seconds), int(max_rss_kib) // 1024


def dask_seconds(triples, shards_dir: Path, workers: int, work_root: Path) -> float:
    """Seconds to count ``shards_dir`` on an already running local cluster of ``workers`` processes."""
    import logging

    from distributed import LocalCluster

    with LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        run, seconds = timed(
            counting.count_corpus,
            triples,
            [shards_dir],
            work_root / f"dask{workers}",
            scheduler=cluster.scheduler_address,
            progress=False,
        )
    return seconds, run


def run_classic(args, facts_file: Path, triples, texts: list[str]) -> None:
    """Sections 1-4 (``--sections classic``): the naive scan, processes and Dask, with the default engine."""
    naive_target = 3.0 if args.quick else 25.0
    copies = 2 if args.quick else 8
    strings = counting.fact_strings(triples)
    counting.prepared_scan(strings, "paper")  # built once, as on every worker
    rows = []

    # 1. naive against engine on the same short documents
    sample, naive_table, naive_seconds = naive_sample(texts, triples, naive_target)
    engine_table = counting.counts_table(triples, strings, counting.count_texts(sample, strings))
    assert naive_table[list(COUNT_FIELDS)].equals(engine_table[list(COUNT_FIELDS)]), "engine and naive scan disagree"
    naive_mbps = text_megabytes(sample) / naive_seconds
    _, engine_seconds = timed(counting.count_texts, texts, strings)  # all summaries: a sample is too short to time
    rows.append(("naive scan, summaries", len(sample), naive_seconds, naive_mbps))
    rows.append(("engine, all summaries, 1 core", len(texts), engine_seconds, text_megabytes(texts) / engine_seconds))

    with tempfile.TemporaryDirectory(prefix="count_bench_") as scratch:
        scratch = Path(scratch)
        # 2. whole command over copies of the corpus
        corpus_dir = scratch / "copies"
        corpus_dir.mkdir()
        raw = "".join(json.dumps({"text": text}, ensure_ascii=False) + "\n" for text in texts).encode("utf-8")
        for copy in range(copies):
            (corpus_dir / f"copy{copy}.jsonl").write_bytes(raw)
        copies_mb = copies * text_megabytes(texts)
        smi = [sys.executable, "-m", "smi"]
        startup, _ = run_command([*smi, "--help"])
        outputs = {}
        for label, extra in (
            ("serial", []),
            ("--processes 2", ["--processes", "2"]),
            ("--workers 2", ["--workers", "2"]),
        ):
            out = scratch / f"counts_{label.strip('-').replace(' ', '')}.csv"
            seconds, peak_mib = run_command(
                [
                    *smi,
                    "count",
                    "--facts",
                    str(facts_file),
                    "--out",
                    str(out),
                    "--no-progress",
                    *extra,
                    str(corpus_dir),
                ]
            )
            meta = json.loads(counting.metadata_path(out).read_text())
            outputs[label] = out.read_text()
            rows.append((f"smi count, {copies} copies, {label}", copies * len(texts), seconds, copies_mb / seconds))
            rows.append(
                (f"  of which counting ({label})", copies * len(texts), meta["seconds"], copies_mb / meta["seconds"])
            )
            rows[-2] = (*rows[-2], peak_mib)
        one_copy_dir = scratch / "one"
        one_copy_dir.mkdir()
        (one_copy_dir / "copy0.jsonl").write_bytes(raw)
        _, one_peak_mib = run_command(
            [
                *smi,
                "count",
                "--facts",
                str(facts_file),
                "--out",
                str(scratch / "one.csv"),
                "--no-progress",
                str(one_copy_dir),
            ]
        )
        assert outputs["serial"] == outputs["--workers 2"] == outputs["--processes 2"], (
            "worker count changed the counts"
        )

        # 3. Pile-length documents
        long_docs = pile_like(texts)
        _long_strings_run, long_seconds = timed(counting.count_texts, long_docs, strings)
        long_mb = text_megabytes(long_docs)
        long_sample, long_naive, long_naive_seconds = naive_sample(long_docs, triples, naive_target / 2)
        long_engine = counting.counts_table(triples, strings, counting.count_texts(long_sample, strings))
        assert long_naive[list(COUNT_FIELDS)].equals(long_engine[list(COUNT_FIELDS)]), (
            "engine and naive scan disagree (long documents)"
        )
        long_naive_mbps = text_megabytes(long_sample) / long_naive_seconds
        rows.append(
            (f"naive scan, ~{PILE_LENGTH // 1000} KB documents", len(long_sample), long_naive_seconds, long_naive_mbps)
        )
        rows.append(
            (
                f"engine, ~{PILE_LENGTH // 1000} KB documents, 1 core",
                len(long_docs),
                long_seconds,
                long_mb / long_seconds,
            )
        )

        # 4. Dask: 1 against 2 workers on shards of Pile-length documents. Each shard is a
        #    full pass over the long documents (~4.6 MB) so that the cluster's fixed costs
        #    (scheduling, gathering the per-shard arrays) do not dominate the comparison.
        shards_dir = scratch / "shards"
        n_shards = 8 if args.quick else 48
        per_shard = max(1, len(long_docs) // 8) if args.quick else len(long_docs)
        for shard in range(n_shards):
            start = (shard * per_shard) % (len(long_docs) - per_shard + 1)
            write = shards_dir / f"shard{shard:02d}.jsonl"
            write.parent.mkdir(exist_ok=True)
            write.write_text(
                "".join(
                    json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in long_docs[start : start + per_shard]
                ),
                encoding="utf-8",
            )
        dask_mb = sum(
            text_megabytes(corpus_io.read_documents(shard))
            for shard in corpus_io.plan_shards(sorted(shards_dir.glob("*.jsonl")))
        )
        one_seconds, one_run = dask_seconds(triples, shards_dir, 1, scratch)
        two_seconds, two_run = dask_seconds(triples, shards_dir, 2, scratch)
        assert one_run.table.equals(two_run.table), "1 and 2 workers disagree"
        rows.append(
            (f"Dask 1 worker, {n_shards} shards", one_run.metadata["documents"], one_seconds, dask_mb / one_seconds)
        )
        rows.append(
            (f"Dask 2 workers, {n_shards} shards", two_run.metadata["documents"], two_seconds, dask_mb / two_seconds)
        )

    print(f"\n{'run':44s} {'docs':>8s} {'seconds':>8s} {'docs/s':>10s} {'MB/s':>9s}")
    for row in rows:
        label, docs, seconds, mbps = row[:4]
        print(
            f"{label:44s} {docs:8,d} {seconds:8.2f} {docs / seconds:10,.0f} {mbps:9.3f}"
            + (f"   peak {row[4]} MiB" if len(row) > 4 else "")
        )
    by_label = {row[0]: row for row in rows}
    whole_serial = by_label[f"smi count, {copies} copies, serial"][3]
    whole_dask = by_label[f"smi count, {copies} copies, --workers 2"][3]
    whole_processes = by_label[f"smi count, {copies} copies, --processes 2"][3]
    counting_serial = by_label["  of which counting (serial)"][3]
    print("\nratios (same run):")
    print(
        "  engine (1 core) / naive, summaries:          "
        f"{by_label['engine, all summaries, 1 core'][3] / naive_mbps:10,.0f}x"
    )
    print(f"  smi count (whole command, serial) / naive:   {whole_serial / naive_mbps:10,.0f}x")
    print(f"  smi count (whole command, --processes 2) / naive:{whole_processes / naive_mbps:6,.0f}x")
    print(f"  smi count (whole command, Dask --workers 2) / naive:{whole_dask / naive_mbps:3,.0f}x")
    print(f"  smi count (counting phase, serial) / naive:  {counting_serial / naive_mbps:10,.0f}x")
    print(
        f"  engine / naive, ~{PILE_LENGTH // 1000} KB documents:          "
        f"{by_label[f'engine, ~{PILE_LENGTH // 1000} KB documents, 1 core'][3] / long_naive_mbps:10,.0f}x"
    )
    print(f"  Dask 2 workers / 1 worker:                   {one_seconds / two_seconds:10.2f}x")
    print(f"  `smi --help` (interpreter + imports of all sub-commands): {startup:.2f} s")
    print(
        f"  peak memory: 1 copy {one_peak_mib} MiB, {copies} copies "
        f"{by_label[f'smi count, {copies} copies, serial'][4]} MiB"
    )
    print(f"  load average now {os.getloadavg()[0]:.1f}")


# ---------------------------------------------------------------------------
# engines: Hyperscan against pyahocorasick (issue #12)

ENGINES = ("hyperscan", "pyahocorasick")


def write_copies(folder: Path, documents: list[str], copies: int) -> float:
    """``copies`` JSONL files of ``documents`` in ``folder``; MB of text in all."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = "".join(json.dumps({"text": text}, ensure_ascii=False) + "\n" for text in documents).encode("utf-8")
    for copy in range(copies):
        (folder / f"copy{copy:02d}.jsonl").write_bytes(raw)
    return copies * text_megabytes(documents)


def count_command(facts_file: Path, corpus: Path, out: Path, engine: str, extra=(), lib: Path | None = None):
    """Wall seconds and peak MiB of one serial ``smi count`` (``lib``: another copy of the package)."""
    argv = [sys.executable, "-m", "smi", "count", "--facts", str(facts_file), "--out", str(out), "--no-progress"]
    if engine is not None:
        argv += ["--engine", engine]
    env_lib = str(lib or ROOT / "lib")
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = env_lib
    try:
        return run_command([*argv, *extra, str(corpus)])
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = old


def best_of(repeats: int, function, *args):
    """The shortest of ``repeats`` timings of ``function(*args)`` (the least disturbed by other processes)."""
    return min(timed(function, *args)[1] for _ in range(repeats))


def stage_costs(texts: list[str], path: Path, strings, repeats: int) -> dict[str, float]:
    """Seconds of each stage on one file, best of ``repeats``: read + parse, match (each engine), count."""
    shard = corpus_io.plan_shards([path])[0]
    costs = {"read + parse": best_of(repeats, lambda: list(corpus_io.read_documents(shard)))}
    for engine in ENGINES:
        scan = counting.prepared_scan(strings, "paper", engine)
        costs[f"match ({engine})"] = best_of(repeats, scan.matcher.find, texts)
    found = scan.matcher.find(texts)

    class Found:  # a matcher that hands back what was found, so that only the counting is timed
        name = "found"

        def find(self, block):
            return found

    costs["count"] = best_of(repeats, counting.count_block, texts, dataclasses.replace(scan, matcher=Found()))
    return costs


def run_engines(args, facts_file: Path, triples, texts: list[str]) -> None:
    """Both engines as a whole serial command side by side, stage costs and the per-core ceiling."""
    strings = counting.fact_strings(triples)
    copies = 2 if args.quick else args.copies
    with tempfile.TemporaryDirectory(prefix="count_bench_") as scratch:
        scratch = Path(scratch)
        for label, documents in (
            ("vital-article summaries", texts),
            (f"~{PILE_LENGTH // 1000} KB documents", pile_like(texts)),
        ):
            corpus = scratch / label.split()[0].strip("~")
            megabytes = write_copies(corpus, documents, copies)
            print(
                f"\n== {label}: {copies} copies, {megabytes:.1f} MB, {len(documents) * copies:,} documents, "
                f"{len(strings.strings):,} names; load average {os.getloadavg()[0]:.1f}"
            )
            # the cached database a --work-dir keeps: measured both cold (compiled in the run) and warm
            warm_dir = scratch / "warm"
            counting.prepare_work_dir(warm_dir)
            counting.prepared_scan(strings, "paper", "hyperscan", cache_dir=warm_dir)
            database = next(warm_dir.glob("hyperscan-*.hsdb"))
            seconds = {engine: [] for engine in ("hyperscan", "hyperscan, cached database", "pyahocorasick")}
            outputs = {}
            for repeat in range(args.repeats):  # interleaved, so that load changes hit every engine alike
                for engine in seconds:
                    out = scratch / f"out_{engine.split(',')[0]}_{repeat}.csv"
                    extra = []
                    if engine.endswith("cached database"):
                        work = Path(tempfile.mkdtemp(prefix="work", dir=scratch))
                        shutil.copy(database, work / database.name)
                        extra = ["--work-dir", str(work)]
                    took, _peak = count_command(facts_file, corpus, out, engine.split(",")[0], extra)
                    seconds[engine].append(took)
                    outputs[engine] = out.read_bytes()
            assert len(set(outputs.values())) == 1, "the engines wrote different tables"
            costs = stage_costs(documents, next(corpus.glob("*.jsonl")), strings, args.repeats)
            one_copy = megabytes / copies
            for engine, times in seconds.items():
                best = min(times)
                print(
                    f"  smi count --engine {engine:28s} best {best:6.2f} s  {megabytes / best:6.1f} MB/s  "
                    f"(runs: {', '.join(f'{t:.2f}' for t in times)})"
                )
            for stage, cost in costs.items():
                print(
                    f"  stage {stage:26s} {cost * 1000:8.1f} ms per copy  "
                    f"{one_copy / cost if cost else float('inf'):8.1f} MB/s"
                )
            ceiling = one_copy / (costs["read + parse"] + costs["match (hyperscan)"] + costs["count"])
            hyperscan_best = megabytes / min(seconds["hyperscan"])
            print(f"  per-core ceiling (read + parse + Hyperscan match + count, no start-up): {ceiling:.1f} MB/s")
            print(
                "  ratio hyperscan / pyahocorasick, whole command:        "
                f"{min(seconds['pyahocorasick']) / min(seconds['hyperscan']):.2f}x"
            )
            print(
                f"  ratio hyperscan (cached database) / pyahocorasick:     "
                f"{min(seconds['pyahocorasick']) / min(seconds['hyperscan, cached database']):.2f}x"
            )
            print(f"  whole command (hyperscan) / ceiling:                   {hyperscan_best / ceiling:.2f}")
            print(
                f"  whole command (hyperscan, cached database) / ceiling:  "
                f"{megabytes / min(seconds['hyperscan, cached database']) / ceiling:.2f}"
            )
            print(
                f"  matching alone hyperscan / pyahocorasick:              "
                f"{costs['match (pyahocorasick)'] / costs['match (hyperscan)']:.2f}x"
            )


# ---------------------------------------------------------------------------
# large fact sets


def made_up_names(texts: list[str], n_names: int, seed: int = 0) -> list[str]:
    """``n_names`` distinct names like entity names: runs of one to three words of the corpus that start with a
    capitalised word of at least four letters (so many occur in it), then made-up ones ("Xq<number>") if the
    corpus has too few."""
    import random

    rng = random.Random(seed)
    words = [word.strip(".,;:()\"'") for text in texts for word in text.split()]
    starts = [i for i, word in enumerate(words[:-3]) if len(word) >= 4 and word[0].isupper() and word.isalpha()]
    names: set[str] = set()
    for _ in range(4 * n_names):
        if len(names) >= n_names:
            break
        start = rng.choice(starts)
        names.add(" ".join(word for word in words[start : start + rng.randint(1, 3)] if word))
    filler = 0
    while len(names) < n_names:
        names.add(f"Xq{filler}")
        filler += 1
    return sorted(names)


def write_made_up_facts(path: Path, names: list[str], seed: int = 1) -> Path:
    """As many facts as names, subject and object drawn from the names; written as the release's JSON list."""
    import random

    rng = random.Random(seed)
    records = [{"idx": i, "subj": rng.choice(names), "rel": "r", "obj": rng.choice(names)} for i in range(len(names))]
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


_BUILD_PROBE = """
import resource, sys, time
from smi import counting
facts = formats.read_facts(sys.argv[1]).frame()
strings = counting.fact_strings(facts)
def status(field):
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) // 1024 for line in handle if line.startswith(field))
with open("/proc/self/clear_refs", "w") as handle:  # reset the peak (VmHWM) to the current size
    handle.write("5")
before = status("VmRSS:")
started = time.perf_counter()
counting.prepared_scan(strings, "paper", sys.argv[2])
print(time.perf_counter() - started, before, status("VmHWM:"))
"""


def build_cost(facts_file: Path, engine: str) -> tuple[float, int, int]:
    """Seconds to build the matcher, and the process's peak MiB before and after (a fresh process)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib")}
    done = subprocess.run(
        [sys.executable, "-c", _BUILD_PROBE, str(facts_file), engine],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    seconds, before, after = done.stdout.split()
    return float(seconds), int(before), int(after)


def run_names(args, texts: list[str], baseline_lib: Path | None) -> None:
    """Fact sets of made-up names: build time, peak memory and whole-command MB/s of each engine and the old code."""
    copies = 1 if args.quick else 4
    with tempfile.TemporaryDirectory(prefix="count_bench_names_") as scratch:
        scratch = Path(scratch)
        corpus = scratch / "corpus"
        megabytes = write_copies(corpus, texts, copies)
        print(
            f"\n== made-up fact sets over {copies} copies of the summaries "
            f"({megabytes:.1f} MB); load average {os.getloadavg()[0]:.1f}"
        )
        for n_names in args.names:
            started = time.perf_counter()
            facts_file = write_made_up_facts(scratch / f"facts_{n_names}.json", made_up_names(texts, n_names))
            print(f"  {n_names:,} names ({time.perf_counter() - started:.1f} s to make them)")
            engines = [
                engine for engine in ENGINES if not (engine == "hyperscan" and n_names > args.hyperscan_max_names)
            ]
            for engine in engines:
                build, before, after = build_cost(facts_file, engine)
                print(f"    {engine:14s} build {build:7.2f} s, peak {after:6,d} MiB while building (from {before:,})")
            runs = {engine: [] for engine in engines}
            if baseline_lib is not None:
                runs["old code"] = []
            tables = {}
            for _repeat in range(args.repeats):  # interleaved, so that load changes hit every variant alike
                for variant in runs:
                    out = scratch / f"out_{variant.replace(' ', '_')}_{n_names}.csv"
                    if variant == "old code":
                        seconds, peak = count_command(facts_file, corpus, out, None, lib=baseline_lib)
                    else:
                        seconds, peak = count_command(facts_file, corpus, out, variant)
                    counting_seconds = json.loads(counting.metadata_path(out).read_text())["seconds"]
                    runs[variant].append((seconds, counting_seconds, peak))
                    tables[variant] = out.read_bytes()
            for variant, results in runs.items():
                whole = min(result[0] for result in results)
                counting_only = min(result[1] for result in results)
                print(
                    f"    {variant:14s} smi count best {whole:7.2f} s = "
                    f"{megabytes / whole:6.1f} MB/s; counting phase best "
                    f"{counting_only:6.2f} s = {megabytes / counting_only:6.1f} "
                    f"MB/s; peak {max(result[2] for result in results):,} MiB "
                    f"(runs: {', '.join(f'{result[0]:.2f}' for result in results)})"
                )
            if "old code" in runs:
                old_whole = min(result[0] for result in runs["old code"])
                old_counting = min(result[1] for result in runs["old code"])
                for engine in engines:
                    print(
                        f"    new ({engine}) / old: whole command {old_whole / min(r[0] for r in runs[engine]):.2f}x, "
                        f"counting phase {old_counting / min(r[1] for r in runs[engine]):.2f}x"
                    )
            assert len(set(tables.values())) == 1, f"tables differ at {n_names:,} names"


def run_crossover(args, texts: list[str]) -> None:
    """Where ``auto`` should stop choosing Hyperscan: both engines, build included, over a range of name counts."""
    copies = 1 if args.quick else args.copies
    corpus = texts * copies
    megabytes = copies * text_megabytes(texts)
    print(
        f"\n== crossover: build + count over {copies} copies ({megabytes:.1f} "
        f"MB, in memory); load average {os.getloadavg()[0]:.1f}"
    )
    for n_names in args.crossover:
        import pandas as pd

        names = made_up_names(texts, n_names)
        facts = pd.DataFrame({"idx": range(n_names), "subj": names, "rel": "r", "obj": names[::-1]})
        strings = counting.fact_strings(facts)
        results = {}
        for engine in ENGINES:
            counting.scan._SCANS.clear()
            (_, build) = timed(counting.prepared_scan, strings, "paper", engine)
            counts, count_seconds = timed(
                counting.count_texts, corpus, strings, "paper", counting.DEFAULT_BLOCK_CHARS, engine
            )
            results[engine] = (build, count_seconds, counts)
        assert (results["hyperscan"][2].name_docs == results["pyahocorasick"][2].name_docs).all()
        total = {engine: build + seconds for engine, (build, seconds, _) in results.items()}
        print(
            f"  {n_names:9,d} names: "
            + "; ".join(
                f"{engine} build {build:.2f} s + count {seconds:.2f} s ({megabytes / seconds:.1f} MB/s)"
                for engine, (build, seconds, _) in results.items()
            )
            + f"; hyperscan / pyahocorasick (build included) {total['pyahocorasick'] / total['hyperscan']:.2f}x"
        )
    counting.scan._SCANS.clear()


SECTIONS = ("engines", "names", "crossover", "classic")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short naive sample and smaller corpora (seconds, for CI)")
    parser.add_argument(
        "--release", type=Path, default=None, help="release folder (default: data/external/smi-release)"
    )
    parser.add_argument(
        "--corpus", type=Path, default=ROOT / "data" / "corpus" / "vital_en.jsonl", help="vital-article JSONL"
    )
    parser.add_argument(
        "--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="which sections to run (default: all)"
    )
    parser.add_argument(
        "--copies",
        type=int,
        default=20,
        help="copies of the corpus for the engines and crossover sections (default 20)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of each whole command, interleaved; the best counts (default 3)"
    )
    parser.add_argument(
        "--names",
        type=int,
        nargs="+",
        default=[12_671, 100_000, 1_000_000],
        help="made-up fact set sizes (names section)",
    )
    parser.add_argument(
        "--hyperscan-max-names", type=int, default=10**9, help="names section: no Hyperscan above this many names"
    )
    parser.add_argument(
        "--crossover",
        type=int,
        nargs="+",
        default=[12_671, 25_000, 50_000, 100_000],
        help="name counts of the crossover section",
    )
    parser.add_argument(
        "--baseline-lib",
        type=Path,
        default=None,
        help="names section: also time the `lib` folder of older code (e.g. from `git archive main lib`)",
    )
    args = parser.parse_args(argv)

    release_dir = args.release or data.release_dir()
    facts_file = release_dir / "search" / "pararel_15classes.json"
    triples = formats.read_facts(facts_file).frame()
    if args.corpus.is_file():
        texts = list(corpus_io.read_documents(corpus_io.plan_shards([args.corpus])[0]))
    else:
        from smi.corpus import vital_articles

        texts = [record["text"] for record in vital_articles()]
    print(
        f"facts: {len(triples):,}; corpus: {len(texts):,} documents, {text_megabytes(texts):.1f} MB; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; hyperscan "
        f"{'installed' if matchers.hyperscan_or_none() else 'NOT installed'}; "
        f"auto uses it up to {matchers.HYPERSCAN_MAX_NAMES:,} names"
    )
    if "engines" in args.sections:
        run_engines(args, facts_file, triples, texts)
    if "crossover" in args.sections:
        run_crossover(args, texts)
    if "names" in args.sections:
        run_names(args, texts, args.baseline_lib)
    if "classic" in args.sections:
        run_classic(args, facts_file, triples, texts)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
