"""``smi lab``: a corpus whose knowledge is known, small models pre-trained on it, and the whole SMI loop."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

CORPUS_HELP = {
    "people": "made-up people (5 facts each)",
    "organisations": "made-up organisations (1 fact each)",
    "zero_share": "share of facts stated in no document",
    "max_stated": "most documents stating one fact",
    "exposure_exponent": "alpha of P(k) ~ k^-alpha, the documents stating a fact",
    "mention_share": "share of facts whose object is also named in a document about the subject without the fact",
    "max_mentions": "most co-mention documents of one fact",
    "max_extra_docs": "most extra documents about a subject alone",
    "popularity_exponent": "Zipf exponent of object popularity within a relation",
    "max_background": "most documents about an object alone",
    "filler_rate": "mean filler sentences per document",
    "filler_vocabulary": "filler sentences use only this many most frequent words of the vital articles",
}


#: Library parameters whose ``smi lab`` option has another name (any other is ``--`` + its name with dashes).
OPTION_OF_PARAMETER = {"corpus_design": "design"}


@contextmanager
def _parameters_as_options():
    """Errors of the library's parameters named as this command's options (:data:`OPTION_OF_PARAMETER`)."""
    from smi.errors import ParameterValueError

    try:
        yield
    except ParameterValueError as error:
        if error.parameter not in OPTION_OF_PARAMETER:
            raise
        raise ParameterValueError(OPTION_OF_PARAMETER[error.parameter], error.problem, error.where) from None


def default_threads() -> int:
    """Threads for torch: 1. The lab's models are so small that a second thread gains little on an idle
    machine and loses much on a busy one; one thread also makes the run independent of the core count."""
    return 1


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "lab",
        help="knowledge-retention lab: generate a corpus with known facts, pre-train small models, test SMI",
        description="Generate documents about made-up entities whose facts and counts are known, pre-train small "
        "GPT-NeoX models on them, and run count → probe → fit → prediction before training.",
    )
    commands = parser.add_subparsers(dest="lab_command", metavar="STEP", required=True)
    threads_help = f"CPU threads for torch (default {default_threads()})"

    corpus = commands.add_parser(
        "corpus", help="write a lab corpus folder: corpus.jsonl, facts.json, templates, truth.csv, lab.json"
    )
    corpus.add_argument("--out", type=Path, required=True, help="output folder")
    corpus.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    corpus.add_argument(
        "--design",
        choices=("power", "crossed"),
        default="power",
        help="power: power-law exposure and the knobs below; crossed: stating counts k in {0,2,4,8,16} crossed "
        "with competitor, subject and object arms at fixed co-occurrence (smi.lab.design) (default power)",
    )
    corpus.add_argument(
        "--facts-per-relation",
        type=int,
        default=90,
        help="crossed design: facts of each relation, a multiple of 15 (default 90)",
    )
    _corpus_options(corpus)
    corpus.set_defaults(func=run_corpus)

    train = commands.add_parser("train", help="pre-train one model size on a lab corpus (resumes when killed)")
    train.add_argument("--corpus", type=Path, required=True, help="lab corpus folder (from smi lab corpus)")
    train.add_argument("--size", required=True, help="model size: xs, s, m, l, xl or xxl")
    train.add_argument("--out", type=Path, required=True, help="output folder: a Hugging Face model for smi probe")
    train.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where to train (default cpu)")
    train.add_argument("--seed", type=int, default=0, help="seed of the initial weights and the data order (default 0)")
    length = train.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=float, help="passes over the corpus (default 8)")
    length.add_argument("--tokens", type=int, help="training tokens instead of --epochs (rounded to whole batches)")
    train.add_argument("--batch-size", type=int, default=4, help="blocks per optimiser step (default 4)")
    train.add_argument("--block-size", type=int, default=128, help="tokens per block (default 128)")
    train.add_argument(
        "--learning-rate",
        type=float,
        help="peak learning rate (default: the size's, 0.01 for xs, s and m, 0.005 for l)",
    )
    train.add_argument("--threads", type=int, default=default_threads(), help=threads_help)
    train.add_argument(
        "--checkpoint-seconds", type=float, default=30.0, help="seconds between checkpoints (default 30)"
    )
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(func=run_train)

    run = commands.add_parser(
        "run",
        help="the whole loop: corpus → smi count → train sizes → smi probe → smi fit → prediction before training",
    )
    run.add_argument("--out", type=Path, required=True, help="output folder (its files: see smi.lab.run)")
    run.add_argument("--quick", action="store_true", help="a small corpus, three small sizes (tests)")
    run.add_argument(
        "--sizes", nargs="+", metavar="SIZE", help="model sizes, at least three (default: xs s m l; quick: xs s m)"
    )
    run.add_argument("--corpus", type=Path, help="use this lab corpus folder instead of generating DIR/corpus")
    run.add_argument("--epochs", type=float, help="training epochs of every size (default 8; quick 10)")
    run.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where to train and probe (default cpu)")
    run.add_argument("--seed", type=int, default=0, help="seed of corpus, training and sampling (default 0)")
    run.add_argument("--threads", type=int, default=default_threads(), help=threads_help)
    run.add_argument(
        "--seeds",
        type=int,
        help="corpora drawn and models trained per size, seeds SEED, SEED+1, ... (default 3; quick 2; 1 with --corpus)",
    )
    run.add_argument(
        "--design",
        choices=("crossed", "power"),
        default="crossed",
        help="corpus design: crossed (k x competitor/subject/object arms) or power (power-law exposure) "
        "(default crossed)",
    )
    run.add_argument(
        "--protocol",
        choices=("rank", "sample"),
        default="rank",
        help="probe protocol: rank (rank-1 over the relation's objects) or sample (default rank)",
    )
    run.add_argument(
        "--jobs", type=int, default=2, help="worker processes of one thread each for the (seed, size) jobs (default 2)"
    )
    run.add_argument(
        "--export",
        type=Path,
        help="also copy the tables notebook 07 reads into this folder, stamped with the hash of the lab's code "
        "(make labrun: notebooks/results/lab)",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    run.set_defaults(func=run_run)

    from smi.lab.experiments import EXPERIMENTS

    experiment = commands.add_parser(
        "experiment",
        help="a controlled experiment on small models: " + ", ".join(EXPERIMENTS) + " (see notebook 08)",
        description="Train small models on word-level facts in controlled conditions and write a tidy table, "
        "a summary with intervals over seeds and verdicts, and a figure into --out (resumes when killed).",
    )
    experiment.add_argument(
        "name", choices=EXPERIMENTS, metavar="NAME", help="the experiment: " + ", ".join(EXPERIMENTS)
    )
    experiment.add_argument("--out", type=Path, required=True, help="output folder (table.csv, summary.json, figure)")
    experiment.add_argument("--seeds", type=int, help="seeds SEED, SEED+1, ... (default 3; quick 2)")
    experiment.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    experiment.add_argument(
        "--workers", type=int, default=2, help="worker processes of one torch thread each (default 2; 1 on cuda)"
    )
    experiment.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        default="cpu",
        help="where to train (default cpu; on cuda the capacity experiment states each fact 1,000 times)",
    )
    experiment.add_argument("--quick", action="store_true", help="the reduced size the tests run")
    experiment.add_argument(
        "--export",
        type=Path,
        help="also copy the table and summary, stamped with the code's hash, into this folder "
        "(make experiments: notebooks/results/experiments/NAME)",
    )
    experiment.add_argument("--no-progress", action="store_true", help="no line per finished job")
    experiment.set_defaults(func=run_experiment)


def _corpus_options(parser) -> None:
    from smi.lab.settings import CorpusSettings

    defaults = CorpusSettings()
    for spec in fields(CorpusSettings):
        if spec.name == "seed":
            continue
        default = getattr(defaults, spec.name)
        parser.add_argument(
            f"--{spec.name.replace('_', '-')}",
            type=type(default),
            default=default,
            help=f"{CORPUS_HELP[spec.name]} (default {default})",
        )


def _set_threads(count: int) -> None:
    from smi.errors import SmiError

    if count < 1:
        raise SmiError(f"--threads must be at least 1 (got {count})")
    import torch

    torch.set_num_threads(count)


def run_corpus(args) -> int:
    from smi.errors import SmiError
    from smi.lab import corpus, design
    from smi.lab.settings import CorpusSettings

    if args.design == "crossed":
        settings = design.DesignSettings(seed=args.seed, facts_per_relation=args.facts_per_relation)
    else:
        settings = CorpusSettings(**{spec.name: getattr(args, spec.name) for spec in fields(CorpusSettings)})
    if args.out.exists() and not args.out.is_dir():
        raise SmiError(f"{args.out}: --out must be a folder, and this is a file")
    generated = design.generate(settings)
    corpus.write_corpus(generated, args.out)
    stated = generated.truth["stated_docs"]
    print(
        f"{args.out}: {len(generated.documents):,} documents, {len(generated.facts)} facts "
        f"(stated in no document: {int((stated == 0).sum())}, in 16 or more: {int((stated >= 16).sum())})"
    )
    return 0


def run_train(args) -> int:
    from smi.lab import corpus, train
    from smi.lab import model as lab_model

    lab_model.model_size(args.size)
    corpus.check_corpus_dir(args.corpus)
    settings = train.TrainSettings(
        seed=args.seed,
        epochs=args.epochs if args.epochs is not None else 8.0,
        block_size=args.block_size,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        tokens=args.tokens,
    )
    _set_threads(args.threads)
    if args.no_progress:
        lab_model.quiet_transformers()
    result = train.train_model(
        args.corpus, args.size, args.out, settings, args.device, args.checkpoint_seconds, progress=not args.no_progress
    )
    if result.reused:
        state = "already trained"
    elif result.resumed_from_step:
        state = f"resumed at step {result.resumed_from_step}"
    else:
        state = "trained"
    print(
        f"{result.path}: {state}; {result.parameters:,} parameters, {result.steps} steps, {result.tokens:,} tokens, "
        f"final loss {result.final_loss:.3f}, {result.tokens_per_second:,.0f} tokens/s"
    )
    return 0


def run_run(args) -> int:
    from smi.lab import model as lab_model
    from smi.lab import run
    from smi.lab.settings import default_settings

    with _parameters_as_options():
        settings = default_settings(
            args.quick,
            args.seed,
            tuple(args.sizes) if args.sizes else None,
            args.epochs,
            args.seeds if args.seeds is not None or args.corpus is None else 1,  # a given corpus is one seed's
            args.design,
            args.protocol,
            args.jobs,
        )
        lab_model.quiet_transformers()
        result = run.run_lab(
            args.out, settings, args.device, args.corpus, progress=not args.no_progress, threads=args.threads
        )
    head = result.summary["headline"]

    def show(entry: dict) -> str:
        return f"{entry['value']:.3f} [{entry['lo']:.3f}, {entry['hi']:.3f}]"

    print(
        f"largest size {head['size']} over {head['seeds']} seeds: accuracy {show(head['well_known_acc'])} on facts "
        f"stated in >= 16 documents, {show(head['unstated_acc'])} on facts stated in none (shuffled-subject chance "
        f"{show(head['unstated_chance_acc'])}), Spearman {show(head['spearman'])} of accuracy minus chance over "
        "exposure buckets"
    )
    if args.export is not None:
        from smi.lab import results

        written = results.export_results(args.out, args.export)
        print(f"{args.export}: {len(written) - 1} tables and {written[-1].name}")
    return 0


def run_experiment(args) -> int:
    from smi.lab.experiments import results
    from smi.lab.experiments.run import experiment_settings, run_experiment

    settings = experiment_settings(args.name, args.quick, args.seeds, args.seed, args.device)
    summary = run_experiment(args.name, args.out, settings, args.device, args.workers, progress=not args.no_progress)
    verdicts = ", ".join(f"{claim}: {verdict}" for claim, verdict in summary["verdicts"].items())
    print(f"{args.out}: {args.name} in {summary['seconds']:.0f} s; {verdicts}")
    if args.export is not None:
        written = results.export_results(args.out, args.export)
        print(f"{args.export}: {', '.join(path.name for path in written)}")
    return 0
