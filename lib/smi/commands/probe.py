"""``smi probe``: measure a causal LM's per-fact accuracy with the multi-template sampled QA protocol."""

from __future__ import annotations

from pathlib import Path

from smi import choices


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "probe",
        help="per-fact accuracy of a causal LM: templates × sampled answers that contain the object",
        description="For every fact, fill each of its relation's templates with the subject, sample continuations, "
        "and report the share that contain the object (the SMI paper's protocol). Records are appended per "
        "chunk to OUT.partial.jsonl, whose first line is a key of the facts, templates, model weights "
        "and tokenizer, settings and code; rerunning the same command resumes an interrupted run, and a "
        "partial file made from other inputs is set aside and never reused.",
    )
    parser.add_argument("--model", required=True, help="folder of a Hugging Face causal LM (or a hub id)")
    parser.add_argument(
        "--facts", type=Path, required=True, help="JSON list of facts: idx, subj, rel, obj[, qus, time_*]"
    )
    parser.add_argument(
        "--templates", type=Path, required=True, help="JSON object {relation: [template with [S], ...]}"
    )
    parser.add_argument("--out", type=Path, required=True, help="output JSON list, one record per fact")
    parser.add_argument(
        "--counts", type=Path, help="counts file (e.g. search/pile/merge.json) whose time_* fields are joined by idx"
    )
    parser.add_argument(
        "--protocol",
        choices=("sample", "rank"),
        default="sample",
        help="sample (the paper's: share of sampled answers that contain the object) or rank (every object of "
        "the relation's pool scored by its log-likelihood after each prompt: acc = rank-1 accuracy, with "
        "p_true and rank; deterministic)",
    )
    parser.add_argument("--samples", type=int, default=20, help="sampled answers per template (default 20)")
    parser.add_argument("--temperature", type=float, default=0.7, help="sampling temperature (default 0.7)")
    parser.add_argument("--max-new-tokens", type=int, default=32, help="tokens generated per answer (default 32)")
    parser.add_argument("--batch-size", type=int, default=64, help="sequences generated together (default 64)")
    parser.add_argument(
        "--chunk-facts", type=int, default=8, help="facts per checkpoint written to the partial file (default 8)"
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where the model runs (default cpu)")
    parser.add_argument("--dtype", choices=choices.DTYPES, default="auto", help="weights' dtype (default: as saved)")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed; every answer is seeded by (seed, idx, template, sample)"
    )
    parser.add_argument(
        "--greedy", action="store_true", help="argmax decoding: one answer per template (samples taken as 1)"
    )
    parser.add_argument(
        "--keep-answers", action="store_true", help="store the answers, one list per template, in each record"
    )
    parser.add_argument(
        "--match",
        choices=choices.MATCH_RULES,
        default="paper",
        help="paper (the paper's rule, plain containment: 'Rome' counts inside 'Romeo') or word (whole words only)",
    )
    parser.add_argument("--ignore-case", action="store_true", help="compare object and answer case-insensitively")
    parser.add_argument(
        "--backend",
        choices=choices.BACKENDS,
        default="transformers",
        help="generation backend (vllm only if installed)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args) -> int:
    from smi import probing, release
    from smi.files import check_writable
    from smi.locks import output_lock

    settings = probing.ProbeSettings(
        samples=args.samples,
        temperature=args.temperature,
        max_new_tokens=args.max_new_tokens,
        seed=args.seed,
        greedy=args.greedy,
        match=args.match,
        ignore_case=args.ignore_case,
    )
    check_writable(args.out)  # before loading anything: a folder in the way, read-only, a file as a parent
    with output_lock(args.out, "smi probe"):  # a second run into this output stops here, before loading
        facts = probing.load_probe_facts(args.facts)
        templates = release.load_templates(args.templates)
        probing.check_templates_cover(facts, templates, args.facts, args.templates)
        counts = probing.load_counts(args.counts) if args.counts else None
        facts = probing.attach_counts(facts, counts, args.counts)
        if args.no_progress:
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
        if args.protocol == "rank":
            return _run_rank(args, facts, templates)
        generator = probing.load_generator(args.model, settings, args.backend, args.batch_size, args.device, args.dtype)
        records = probing.probe(
            facts,
            templates,
            generator,
            settings,
            args.out,
            model=args.model,
            keep_answers=args.keep_answers,
            chunk_facts=args.chunk_facts,
            progress=not args.no_progress,
        )
    mean_acc = sum(record["acc"] for record in records) / len(records)
    print(
        f"{args.out}: {len(records)} facts, {records[0]['n_answers']} answers per fact (first fact), "
        f"mean acc {mean_acc:.4f}"
    )
    return 0


def _run_rank(args, facts, templates) -> int:
    from smi.errors import SmiError
    from smi.probing import ranking

    if args.backend != "transformers":
        raise SmiError(f"--protocol rank needs --backend transformers (got {args.backend})")
    scorer = ranking.load_rank_scorer(args.model, args.batch_size, args.device, args.dtype)
    records = ranking.probe_rank(
        facts, templates, scorer, args.out, chunk_facts=args.chunk_facts, progress=not args.no_progress
    )
    mean_acc = sum(record["acc"] for record in records) / len(records)
    mean_p = sum(record["p_true"] for record in records) / len(records)
    print(f"{args.out}: {len(records)} facts ranked, rank-1 accuracy {mean_acc:.4f}, mean p_true {mean_p:.4f}")
    return 0
