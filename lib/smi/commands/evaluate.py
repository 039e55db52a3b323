"""``smi evaluate``: held-out prediction of per-fact accuracy, one model, corpus or series at a time."""

from __future__ import annotations

from pathlib import Path

from smi import formats
from smi.commands import add_answer_in_subject_option, add_fitting_options, check_fitting_options
from smi.errors import SmiError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="out-of-sample accuracy prediction: predictions.csv and summary.csv",
        description="Hold out each model, corpus or series in turn, fit on the rest, predict the held-out facts. "
        "Finished folds are saved in OUT/folds with a key of their inputs, settings and code; rerunning "
        "resumes, and a fold whose key no longer matches is recomputed. OUT/predictions.csv, "
        "OUT/summary.csv and OUT/evaluation.json (the hashes of both tables and the run's key) are "
        "written together once everything is done. The settings of best (ranking model, question features, leaf "
        "size, size-trend threshold, training tokens) are chosen in every fold by an inner leave-one-corpus-out "
        "(series under leave-one-series-out) on the training models alone, which also calibrates the 90 % "
        "intervals; best_fixed keeps the hand-tuned settings.",
    )
    parser.add_argument("--release", type=Path, help="release folder (default: data/external/smi-release)")
    parser.add_argument(
        "--scheme",
        required=True,
        metavar="SCHEME",
        help="leave-one-model-out, leave-one-corpus-out or leave-one-series-out",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("results/prediction"), help="output folder (default: results/prediction)"
    )
    parser.add_argument("--models", nargs="+", metavar="NAME", help="use only these models (default: all)")
    parser.add_argument(
        "--models-table", type=Path, help="CSV with name, series, parameters, corpus (default: the paper's 24 models)"
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=200,
        metavar="B",
        help="bootstrap resamples of the facts for the 95%% CIs (default 200)",
    )
    add_fitting_options(parser)
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and the boosting (default 0)")
    add_answer_in_subject_option(parser, "drop", "a predictor would learn the release's scoring, not knowledge")
    parser.set_defaults(func=run)


def run(args) -> int:
    from smi import prediction  # heavy imports only when the command runs
    from smi.files import check_writable
    from smi.locks import output_lock

    prediction.scheme_column(args.scheme)  # an unknown scheme stops here, before any loading
    prediction.check_bootstrap(args.bootstrap)
    check_fitting_options(args)
    prediction.check_seed(args.seed)
    if args.out.exists() and not args.out.is_dir():
        raise SmiError(f"{args.out}: --out must be a folder, and this is a file")
    folds = args.out / "folds"
    for path in [*prediction.evaluation_paths(args.out), folds / "fold.parquet"]:
        check_writable(path)  # before any work: a folder in the way, read-only, a file as a parent
    with output_lock(args.out, "smi evaluate"):  # a second run into this folder stops here
        return _evaluate(args)


def _evaluate(args) -> int:
    """``smi evaluate`` once its options are checked, holding the output folder's lock."""
    from smi import data, prediction, release
    from smi.files import remove_orphaned_temporaries

    for path in prediction.evaluation_paths(args.out):  # what a killed run into this folder left
        remove_orphaned_temporaries(path, "smi evaluate")

    models = release.select_models(formats.load_models(args.models_table), args.models)
    result = prediction.evaluate_release(
        args.release or data.release_dir(),
        models,
        args.scheme,
        args.out,
        args.answer_in_subject,
        args.gbm_iterations,
        args.seed,
        args.bootstrap,
        args.threads,
        progress=True,
    )
    if result.dropped:
        print(
            f"left out {result.dropped} facts whose object is written inside the subject's name "
            "(--answer-in-subject keep keeps them)"
        )
    for path in result.paths:
        print(path)
    summary = result.summary
    best = summary[summary["predictor"] == "best"]
    large = best[best["parameters"] >= 1e9]
    for label, rows in (("held-out models", best), ("of them with ≥ 1B parameters", large)):
        if len(rows):
            coverage = prediction.interval_coverage(rows["mean_lower"], rows["mean_upper"], rows["mean_covered"])
            print(
                f"pred_best: per-fact R² median {rows['r2'].median():.3f} (min {rows['r2'].min():.3f}), "
                f"|mean error| median {rows['mean_error'].abs().median():.3f} over {len(rows)} {label}; "
                f"{round(100 * prediction.COVERAGE)} % interval of the mean covers {coverage['covered']} "
                f"of {coverage['informative']} informative intervals, median width {coverage['median_width']:.3f}"
                + (f" ({coverage['uninformative']} more are [0, 1])" if coverage["uninformative"] else "")
            )
    return 0
