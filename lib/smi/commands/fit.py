"""``smi fit``: the bucketed and per-fact R² of CO-OCCUR, MI and SMI for every model."""

from __future__ import annotations

from pathlib import Path

from smi import formats
from smi.commands import add_answer_in_subject_option


def register(subparsers) -> None:
    parser = subparsers.add_parser("fit", help="R² of accuracy against CO-OCCUR, MI and SMI per model")
    parser.add_argument("--release", type=Path, help="release folder (default: data/external/smi-release)")
    parser.add_argument("--out", type=Path, default=Path("results"), help="output folder (default: results)")
    parser.add_argument("--models", nargs="+", metavar="NAME", help="fit only these models")
    parser.add_argument(
        "--models-table", type=Path, help="CSV with name, series, parameters, corpus (default: the paper's 24 models)"
    )
    parser.add_argument(
        "--outputs",
        type=Path,
        metavar="DIR",
        help="folder of per-model files <name>.json (e.g. smi probe outputs) "
        "read instead of RELEASE/infer/merge_outputs",
    )
    parser.add_argument("--bucket-width", type=float, default=0.2, help="width of log2 buckets (default 0.2)")
    add_answer_in_subject_option(parser, "keep", "the paper kept them")
    parser.add_argument(
        "--compare-paper",
        action="store_true",
        help="also print, per quantity, the largest difference from the authors' "
        "analysis/main_tables/main_table.xlsx over the models fitted",
    )
    parser.set_defaults(func=run)


def run(args) -> int:

    from smi import data, regression, release

    regression.check_fit_outputs(args.out)
    release_dir = args.release or data.release_dir()  # not read when --outputs is given
    models = release.select_models(formats.load_models(args.models_table), args.models)
    paper = None
    if args.compare_paper:  # read (and check) the authors' table before the fit, not after
        from smi import paper_tables

        paper = paper_tables.load_main_table(release_dir)
    bucketed, per_fact = regression.fit_release(
        release_dir,
        models,
        args.bucket_width,
        progress=True,
        answer_in_subject=args.answer_in_subject,
        outputs=args.outputs,
    )
    for path in regression.write_fit_outputs(bucketed, per_fact, args.out):
        print(path)
    if paper is not None:
        print_paper_comparison(bucketed, paper, paper_tables.main_table_path(release_dir))
    return 0


def print_paper_comparison(bucketed, paper, source: Path) -> None:
    """Print the largest |ours - paper| per quantity against the authors' main table."""
    from smi import paper_tables

    comparison = paper_tables.compare_with_fit(bucketed, paper)
    largest = paper_tables.largest_differences(comparison)
    n_pairs = len(comparison[["model", "method"]].drop_duplicates())
    print(f"largest |ours - paper| over {n_pairs} (model, method) rows of {source}:")
    for row in largest.itertuples(index=False):
        print(f"  {row.quantity:<12} {row.max_abs_diff:.3g}  ({row.model}, {row.method})")
