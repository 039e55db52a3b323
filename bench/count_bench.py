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
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from smi import corpus_io, counting, data  # noqa: E402
from smi.release import COUNT_FIELDS  # noqa: E402

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

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        run, seconds = timed(
            counting.count_corpus, triples, [shards_dir], work_root / f"dask{workers}", scheduler=cluster.scheduler_address, progress=False
        )
    return seconds, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short naive sample and smaller corpora (seconds, for CI)")
    parser.add_argument("--release", type=Path, default=None, help="release folder (default: data/external/smi-release)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "data" / "corpus" / "vital_en.jsonl", help="vital-article JSONL")
    args = parser.parse_args(argv)

    release_dir = args.release or data.release_dir()
    facts_file = release_dir / "search" / "pararel_15classes.json"
    triples = counting.load_triples(facts_file)
    if args.corpus.is_file():
        texts = list(corpus_io.read_documents(corpus_io.plan_shards([args.corpus])[0]))
    else:
        from smi.corpus import vital_articles

        texts = [record["text"] for record in vital_articles()]
    naive_target = 3.0 if args.quick else 25.0
    copies = 2 if args.quick else 8
    print(f"facts: {len(triples):,}; corpus: {len(texts):,} documents, {text_megabytes(texts):.1f} MB; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    strings = counting.fact_strings(triples)
    counting.cached_automaton(strings, "paper")  # built once, as on every worker
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
        for label, extra in (("serial", []), ("--processes 2", ["--processes", "2"]), ("--workers 2", ["--workers", "2"])):
            out = scratch / f"counts_{label.strip('-').replace(' ', '')}.csv"
            seconds, peak_mib = run_command([*smi, "count", "--triples", str(facts_file), "--out", str(out), "--no-progress", *extra, str(corpus_dir)])
            meta = json.loads(counting.metadata_path(out).read_text())
            outputs[label] = out.read_text()
            rows.append((f"smi count, {copies} copies, {label}", copies * len(texts), seconds, copies_mb / seconds))
            rows.append((f"  of which counting ({label})", copies * len(texts), meta["seconds"], copies_mb / meta["seconds"]))
            rows[-2] = (*rows[-2], peak_mib)
        one_copy_dir = scratch / "one"
        one_copy_dir.mkdir()
        (one_copy_dir / "copy0.jsonl").write_bytes(raw)
        _, one_peak_mib = run_command([*smi, "count", "--triples", str(facts_file), "--out", str(scratch / "one.csv"), "--no-progress", str(one_copy_dir)])
        assert outputs["serial"] == outputs["--workers 2"] == outputs["--processes 2"], "worker count changed the counts"

        # 3. Pile-length documents
        long_docs = pile_like(texts)
        long_strings_run, long_seconds = timed(counting.count_texts, long_docs, strings)
        long_mb = text_megabytes(long_docs)
        long_sample, long_naive, long_naive_seconds = naive_sample(long_docs, triples, naive_target / 2)
        long_engine = counting.counts_table(triples, strings, counting.count_texts(long_sample, strings))
        assert long_naive[list(COUNT_FIELDS)].equals(long_engine[list(COUNT_FIELDS)]), "engine and naive scan disagree (long documents)"
        long_naive_mbps = text_megabytes(long_sample) / long_naive_seconds
        rows.append((f"naive scan, ~{PILE_LENGTH // 1000} KB documents", len(long_sample), long_naive_seconds, long_naive_mbps))
        rows.append((f"engine, ~{PILE_LENGTH // 1000} KB documents, 1 core", len(long_docs), long_seconds, long_mb / long_seconds))

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
            write.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in long_docs[start : start + per_shard]), encoding="utf-8")
        dask_mb = sum(text_megabytes(corpus_io.read_documents(shard)) for shard in corpus_io.plan_shards(sorted(shards_dir.glob("*.jsonl"))))
        one_seconds, one_run = dask_seconds(triples, shards_dir, 1, scratch)
        two_seconds, two_run = dask_seconds(triples, shards_dir, 2, scratch)
        assert one_run.table.equals(two_run.table), "1 and 2 workers disagree"
        rows.append((f"Dask 1 worker, {n_shards} shards", one_run.metadata["documents"], one_seconds, dask_mb / one_seconds))
        rows.append((f"Dask 2 workers, {n_shards} shards", two_run.metadata["documents"], two_seconds, dask_mb / two_seconds))

    print(f"\n{'run':44s} {'docs':>8s} {'seconds':>8s} {'docs/s':>10s} {'MB/s':>9s}")
    for row in rows:
        label, docs, seconds, mbps = row[:4]
        print(f"{label:44s} {docs:8,d} {seconds:8.2f} {docs / seconds:10,.0f} {mbps:9.3f}" + (f"   peak {row[4]} MiB" if len(row) > 4 else ""))
    by_label = {row[0]: row for row in rows}
    whole_serial = by_label[f"smi count, {copies} copies, serial"][3]
    whole_dask = by_label[f"smi count, {copies} copies, --workers 2"][3]
    whole_processes = by_label[f"smi count, {copies} copies, --processes 2"][3]
    counting_serial = by_label["  of which counting (serial)"][3]
    print("\nratios (same run):")
    print(f"  engine (1 core) / naive, summaries:          {by_label['engine, all summaries, 1 core'][3] / naive_mbps:10,.0f}x")
    print(f"  smi count (whole command, serial) / naive:   {whole_serial / naive_mbps:10,.0f}x")
    print(f"  smi count (whole command, --processes 2) / naive:{whole_processes / naive_mbps:6,.0f}x")
    print(f"  smi count (whole command, Dask --workers 2) / naive:{whole_dask / naive_mbps:3,.0f}x")
    print(f"  smi count (counting phase, serial) / naive:  {counting_serial / naive_mbps:10,.0f}x")
    print(f"  engine / naive, ~{PILE_LENGTH // 1000} KB documents:          {by_label[f'engine, ~{PILE_LENGTH // 1000} KB documents, 1 core'][3] / long_naive_mbps:10,.0f}x")
    print(f"  Dask 2 workers / 1 worker:                   {one_seconds / two_seconds:10.2f}x")
    print(f"  `smi --help` (interpreter + imports of all sub-commands): {startup:.2f} s")
    print(f"  peak memory: 1 copy {one_peak_mib} MiB, {copies} copies {by_label[f'smi count, {copies} copies, serial'][4]} MiB")
    print(f"  load average now {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
