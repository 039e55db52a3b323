"""``smi predict``: per-fact accuracy of a model not trained yet, from its corpus counts and its size."""

from __future__ import annotations

from pathlib import Path

from smi import formats
from smi.commands import add_answer_in_subject_option, add_fitting_options, check_fitting_options


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict", help="predict per-fact accuracy of a new model from corpus counts and size"
    )
    parser.add_argument(
        "--counts",
        type=Path,
        required=True,
        help="per-fact counts: JSON list (like merge.json), JSONL or CSV with idx, subj, rel, obj, "
        "time_subj, time_obj, time_s1j1[, time_seqs]",
    )
    parser.add_argument(
        "--params", type=float, required=True, metavar="N", help="parameters of the new model (raw count, e.g. 7e9)"
    )
    parser.add_argument(
        "--tokens",
        type=float,
        metavar="N",
        help="training tokens of the new model (raw count, e.g. 3e11); used by the level model when known",
    )
    parser.add_argument(
        "--corpus-docs", type=float, metavar="N", help="documents in the corpus (instead of a time_seqs column)"
    )
    parser.add_argument("--release", type=Path, help="release to fit on (default: data/external/smi-release)")
    parser.add_argument(
        "--models-table", type=Path, help="CSV with name, series, parameters, corpus (default: the paper's 24 models)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results/prediction/predicted.csv"),
        help="per-fact output CSV, replaced only once complete (default: results/prediction/predicted.csv)",
    )
    add_fitting_options(parser)
    add_answer_in_subject_option(parser, "drop", "a predictor would learn the release's scoring, not knowledge")
    parser.set_defaults(func=run)


def run(args) -> int:
    from smi import data, prediction  # heavy imports only when the command runs
    from smi.files import check_writable
    from smi.formats import check_parameters, check_tokens  # the models table's rules

    check_parameters(args.params)  # its errors name the parameter; smi.cli says --params
    if args.tokens is not None:
        check_tokens(args.tokens)
    check_fitting_options(args)
    check_writable(args.out)  # before any work: a folder in the way, read-only, a file as a parent
    counts = prediction.load_counts_file(args.counts, args.corpus_docs)
    release_dir = args.release or data.release_dir()
    models = formats.load_models(args.models_table)
    result = prediction.predict_new_model(
        release_dir,
        counts,
        args.params,
        models,
        args.gbm_iterations,
        str(args.counts),
        args.answer_in_subject,
        args.tokens,
        args.threads,
    )
    predicted = result.facts
    prediction.write_predicted(predicted, args.out)  # the previous file stays until the new one is complete
    print(args.out)
    means = {column[5:]: predicted[column].mean() for column in predicted.columns if column.startswith("pred_")}
    print(
        f"{len(predicted)} facts, model of {args.params:.3g} parameters: predicted mean accuracy "
        + ", ".join(f"{name} {value:.3f}" for name, value in means.items())
    )
    coverage = round(100 * prediction.COVERAGE)
    print(
        f"best: mean accuracy {result.mean:.3f} "
        f"({coverage} % interval {result.mean_lower:.3f}–{result.mean_upper:.3f}); "
        f"settings chosen by inner leave-one-corpus-out: {result.selection.settings.label()}; "
        f"per-fact {coverage} % intervals in columns best_lower, best_upper"
    )
    flagged = int(predicted["answer_in_subject"].sum())
    if flagged:
        print(
            f"{flagged} facts have their answer written in the subject's name (column answer_in_subject): "
            "predicted as if only the answer, not the prompt, is scored"
        )
    return 0
