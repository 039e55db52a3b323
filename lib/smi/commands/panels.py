"""``smi panels``: notebook 04's per-model panels and the grid of every model, from the paper's release."""

from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "panels",
        help="notebook 04's per-model panels and their grid (PNG and PDF)",
        description="Fit every model of the release and write one panel per model and predictor "
        "(04_fit_<model>_<method>) and the grid of all models (04_fits_grid_all), as PNG and PDF.",
    )
    parser.add_argument("--release", type=Path, help="release folder (default: data/external/smi-release)")
    parser.add_argument("--out", type=Path, default=Path("figures"), help="folder for the figures (default: figures)")
    parser.add_argument("--bucket-width", type=float, default=0.2, help="width of log2 buckets (default 0.2)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from smi import data, formats, panels, plots, regression

    release_dir = args.release or data.release_dir()
    models = formats.load_models()
    predictors = regression.release_predictors(release_dir, models, args.bucket_width)
    predictors_without = regression.release_predictors(release_dir, models, args.bucket_width, answer_in_subject="drop")
    plots.use_style()
    paths = panels.write_fit_panels(predictors, predictors_without, args.out)
    print(f"{len(paths)} files written to {args.out}")
    return 0
