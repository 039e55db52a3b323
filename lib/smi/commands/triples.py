"""``smi triples``: rebuild the probe facts from ParaRel, their prompt templates, and sentence-level counts.

* ``smi triples build --pararel DIR --out FILE`` — facts (idx, subj, rel, obj, pid, uuid) as CSV or Parquet;
* ``smi triples templates --pararel DIR --out FILE.json`` — object-last prompts per class;
* ``smi triples sentences --facts FILE --corpus JSONL --out FILE`` — per-fact sentence counts.
"""

from __future__ import annotations

from pathlib import Path

from smi import formats
from smi.errors import SmiError

# Library modules are imported inside each run_* so that `smi --help` and other
# sub-commands start without loading NLTK and pandas.


def register(subparsers) -> None:
    parser = subparsers.add_parser("triples", help="probe facts from ParaRel, prompt templates, sentence-level counts")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    build = actions.add_parser("build", help="rebuild the 15-class probe set from ParaRel's T-REx facts")
    build.add_argument("--pararel", type=Path, help="ParaRel folder (default: data/external/pararel)")
    build.add_argument("--out", type=Path, required=True, help="output .csv or .parquet")
    build.add_argument("--mapping", type=Path, help="CSV rel,pid (default: the paper's 15 classes over 17 relations)")
    build.add_argument(
        "--release-filter", action="store_true", help="drop ambiguous prompts and pairs as the released set does"
    )
    build.add_argument(
        "--capital-city-first",
        action="store_true",
        help="swap P36 so every capital fact reads '[subj] is the capital of [obj]'",
    )
    build.add_argument(
        "--compare",
        type=Path,
        metavar="FACTS_JSON",
        help="released facts to compare with (default: the release's pararel_15classes.json if present)",
    )
    build.add_argument("--skip-bad-lines", action="store_true", help="skip malformed ParaRel lines and report how many")
    build.set_defaults(func=run_build)

    templates = actions.add_parser("templates", help="prompt prefixes (object slot last) from ParaRel's patterns")
    templates.add_argument("--pararel", type=Path, help="ParaRel folder (default: data/external/pararel)")
    templates.add_argument("--out", type=Path, required=True, help="output JSON {class: [template with [S], ...]}")
    templates.add_argument("--mapping", type=Path, help="CSV rel,pid (default: the paper's 15 classes)")
    templates.add_argument("--capital-city-first", action="store_true", help="swap P36's slots (see build)")
    templates.set_defaults(func=run_templates)

    sentences = actions.add_parser(
        "sentences", help="per fact: sentences mentioning and stating it in a corpus (NLTK Punkt)"
    )
    sentences.add_argument(
        "--facts", type=Path, help="probe set: release .json or built .csv/.parquet (default: the release's)"
    )
    sentences.add_argument(
        "--corpus",
        type=Path,
        default=Path("data/corpus/vital_en.jsonl"),
        help='JSONL of {"text": ...} (default: data/corpus/vital_en.jsonl)',
    )
    sentences.add_argument(
        "--pararel", type=Path, help="ParaRel folder for the patterns (default: data/external/pararel)"
    )
    sentences.add_argument("--out", type=Path, required=True, help="output .csv or .parquet")
    sentences.add_argument(
        "--skip-bad-lines", action="store_true", help="skip corpus lines without text and report how many"
    )
    sentences.set_defaults(func=run_sentences)


def _mapping(args) -> dict[str, tuple[str, ...]]:
    from smi import triples

    return triples.read_mapping(args.mapping) if args.mapping else triples.RELATION_CLASSES


def run_build(args) -> int:
    from smi import data, release, triples

    pararel_root = args.pararel or data.pararel_dir()
    mapping = _mapping(args)
    triples.check_table_output(args.out)
    compare_path = args.compare or release.facts_path(data.release_dir())
    released = formats.load_facts(compare_path) if args.compare or Path(compare_path).is_file() else None
    facts, report = triples.build_probe_set(
        pararel_root, mapping, args.release_filter, args.capital_city_first, args.skip_bad_lines
    )
    triples.write_table(facts, args.out)
    print(
        f"{args.out}: {report.kept} facts in {facts['rel'].nunique()} classes "
        f"(read {report.read}, repeated {report.duplicates}, ambiguous prompt {report.ambiguous_prompt}, "
        f"ambiguous pair {report.ambiguous_pair}, skipped lines {report.skipped_lines})"
    )
    if released is not None:
        table = triples.compare_with_release(facts, released)
        overall = table.set_index("rel").loc["all"]
        print(
            f"vs {compare_path}: shared {int(overall['shared'])} of {int(overall['released'])} released facts "
            f"(recall {overall['recall']:.4%}), precision {overall['precision']:.4%}"
        )
    return 0


def run_templates(args) -> int:
    from smi import data, triples
    from smi.files import check_writable

    pararel_root = args.pararel or data.pararel_dir()
    mapping = _mapping(args)
    check_writable(args.out)
    triples.check_mapping(mapping, pararel_root)
    patterns = triples.relation_patterns(pararel_root, mapping, args.capital_city_first)
    templates = triples.prompt_templates(patterns)
    triples.write_templates(templates, args.out)
    dropped = int(patterns["prompt"].isna().sum())
    print(
        f"{args.out}: {sum(map(len, templates.values()))} templates for {len(templates)} classes "
        f"from {len(patterns)} patterns ({dropped} dropped: object slot not last)"
    )
    return 0


def run_sentences(args) -> int:
    from smi import data, release, sentences, triples

    pararel_root = args.pararel or data.pararel_dir()
    triples.check_table_output(args.out)
    facts_path = args.facts or release.facts_path(data.release_dir())
    facts = formats.load_facts(facts_path)
    sentences.check_classes(facts, triples.RELATION_CLASSES)
    used = set(facts["rel"])
    triples.check_mapping({rel: pids for rel, pids in triples.RELATION_CLASSES.items() if rel in used}, pararel_root)
    if args.corpus.is_dir():
        raise SmiError(f'{args.corpus}: the corpus is a folder; give a JSONL file of {{"text": ...}} lines')
    if not args.corpus.is_file():
        raise SmiError(f"{args.corpus}: corpus not found (write the default with `smi corpus vital-articles`)")
    counts, summary = sentences.sentence_counts(facts, args.corpus, pararel_root, args.skip_bad_lines, progress=True)
    triples.write_table(counts, args.out)
    print(
        f"{args.out}: {summary['facts']} facts over {summary['documents']} documents, {summary['sentences']} sentences "
        f"(skipped lines {summary['skipped_lines']}); "
        f"mentioned together in a sentence: {summary['facts_cooccurring']}, "
        f"stated: {summary['facts_stated']}"
    )
    return 0
