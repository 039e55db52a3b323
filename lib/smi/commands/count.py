"""``smi count``: the paper's document counts of every fact's subject and object over a corpus."""

from __future__ import annotations

from pathlib import Path

from smi import formats


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "count",
        help="count documents holding each fact's subject, object and both over a text corpus",
        description=(
            "Count, for every fact, the documents of CORPUS that contain its subject, its object and both "
            "(the release's time_seqs, time_subj, time_obj, time_s1j1, time_s1j0, time_s0j1, time_s0j0). "
            "Finished shards are kept in the work folder, so an interrupted run resumes."
        ),
    )
    parser.add_argument(
        "corpus", nargs="+", metavar="CORPUS", help="files, folders or globs of .jsonl, .jsonl.gz, .jsonl.zst, .parquet"
    )
    parser.add_argument(
        "--facts",
        type=Path,
        required=True,
        help="facts: the release's JSON list (idx, subj, rel, obj) or a CSV/parquet table",
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="output table: .csv, .parquet or .json (metadata goes to OUT.meta.json)"
    )
    parser.add_argument(
        "--text-field", default="text", help="field or column holding the document text (default: text)"
    )
    parser.add_argument(
        "--match",
        choices=("paper", "word"),
        default="paper",
        help="paper: ' ' + name occurs (the release's rule, default); word: name between word boundaries",
    )
    parser.add_argument(
        "--engine",
        choices=("auto", "hyperscan", "pyahocorasick"),
        default="auto",
        help="matching engine; the counts are identical (auto, default: Hyperscan where installed and the names are "
        "few enough for it to be faster, else pyahocorasick)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="count shards on N forked local processes, no cluster (default 1)",
    )
    where.add_argument("--workers", type=int, metavar="N", help="count on a local Dask cluster of N worker processes")
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="count on an existing Dask cluster (e.g. tcp://host:8786); workers must see the corpus files",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="folder for finished shards' partial counts, kept for reuse "
        "(default: OUT.parts, whose shard files are removed after success)",
    )
    parser.add_argument(
        "--shard-mb",
        type=float,
        default=256,
        help="cut uncompressed .jsonl files into shards of this many MB (default 256)",
    )
    parser.add_argument(
        "--skip-bad-lines",
        action="store_true",
        help="leave out unreadable lines, counting them in the metadata, instead of stopping",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def shard_bytes_of(megabytes: float) -> int:
    """``--shard-mb`` in bytes; a number that is not finite and positive is refused."""
    from smi.errors import check_scalar

    return max(1, int(check_scalar(megabytes, "shard_mb", above=0) * 2**20))


def run(args) -> int:
    from smi import counting

    out = counting.check_output_path(args.out)
    if args.engine == "hyperscan":  # an explicit request is refused at once where the package is missing
        from smi import matchers

        matchers.resolve_engine(args.engine, 0)
    shard_bytes = shard_bytes_of(args.shard_mb)
    if args.scheduler:
        counting.check_scheduler_address(args.scheduler)
    counting.check_output_writable(out)
    triples = formats.read_facts(args.facts)
    counting.check_output_writable(out, triples)
    settings = counting.CountSettings(
        match=args.match, text_field=args.text_field, skip_bad_lines=args.skip_bad_lines, engine=args.engine
    )
    work_dir = args.work_dir or counting.default_work_dir(out)
    with counting.count_lock(out):
        counting.remove_orphaned_output_temporaries(out)
        result = counting.count_corpus(
            triples,
            args.corpus,
            work_dir,
            settings,
            workers=args.workers,
            scheduler=args.scheduler,
            processes=args.processes,
            shard_bytes=shard_bytes,
            progress=False if args.no_progress else None,
        )
        counting.write_counts(result, out)
        counting.clean_work_dir(work_dir, result.shard_files, remove_results=args.work_dir is None)
    meta = result.metadata
    print(
        f"{out}: {len(result.facts)} facts over {meta['documents']:,} documents "
        f"({meta['text_bytes'] / 1e6:,.1f} MB of text, {meta['shards']} shards, {meta['shards_reused']} reused) "
        f"in {meta['seconds']:.1f} s; {meta['skipped_lines']} bad lines skipped"
    )
    return 0
