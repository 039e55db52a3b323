"""``smi fit``: the bucketed and per-fact R² of CO-OCCUR, MI and SMI for every model."""

from __future__ import annotations

from pathlib import Path



def register(subparsers) -> None:
    parser = subparsers.add_parser("fit", help="R² of accuracy against CO-OCCUR, MI and SMI per model")
    parser.add_argument("--release", type=Path, help="release folder (default: data/external/smi-release)")
    parser.add_argument("--out", type=Path, default=Path("results"), help="output folder (default: results)")
    parser.add_argument("--models", nargs="+", metavar="NAME", help="fit only these models")
    parser.add_argument("--models-table", type=Path, help="CSV with name, series, parameters, corpus (default: the paper's 24 models)")
    parser.add_argument("--outputs", type=Path, metavar="DIR",
                        help="folder of per-model files <name>.json (e.g. smi probe outputs) "
                             "read instead of RELEASE/infer/merge_outputs")
    parser.add_argument("--bucket-width", type=float, default=0.2, help="width of log2 buckets (default 0.2)")
    parser.add_argument("--drop-answer-in-subject", action="store_true",
                        help="leave out the facts whose object is written inside the subject's name (their release accuracy is a scoring artefact; the paper kept them)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from smi import data, regression, release

    release_dir = args.release or data.release_dir()  # not read when --outputs is given
    models = release.select_models(release.load_models(args.models_table), args.models)
    bucketed, per_fact = regression.fit_release(release_dir, models, args.bucket_width, progress=True,
                                                drop_answer_in_subject=args.drop_answer_in_subject,
                                                outputs=args.outputs)
    for path in regression.write_fit_outputs(bucketed, per_fact, args.out):
        print(path)
    return 0
