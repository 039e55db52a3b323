r"""A larger model predicted before it is trained: the lab's smaller sizes fit the predictors, the largest is
predicted and written down, then trained, probed and compared.

The experiment runs the lab itself (:func:`smi.lab.settings.default_settings`: the crossed corpus, the sizes
xs, s, m and l with one learning-rate rule for every width, :func:`smi.lab.model.width_scaled_learning_rate`,
the lab's training and its rank-1 probes) on ``seeds`` corpora, in three steps:

1. every seed's smaller sizes are trained and probed (:func:`smi.lab.experiment.train_and_probe`, in
   ``OUT/lab``, resumable as in ``smi lab run``);
2. per seed, :mod:`smi.prediction`'s predictors are fitted on those sizes' per-fact accuracies and predict
   each fact's accuracy for the largest size from the corpus counts and its parameter count alone
   (:func:`smi.lab.stages.predict_before_training`); the prediction is written to
   ``OUT/predictions/SEED.csv`` with a record (its key, the CSV's SHA-256, the time, and whether the
   largest model existed at that moment) before any largest model trains;
3. every seed's largest size is trained and probed.

The summary (:func:`summarise`) judges, over seeds :math:`i`:

* **the mean**: the predicted mean accuracy :math:`\hat A_i` against the measured :math:`A_i`. The claim
  holds when the interval of :math:`\hat A_i - A_i` lies within :math:`\pm 2 s_A`, with :math:`s_A` the
  standard deviation of :math:`A_i` over seeds (fails when it lies outside);
* **each fact**: R² of each predictor on the largest size's facts (:func:`smi.regression.r_squared`),
  against an **oracle** that knows each fact's exposure (:math:`k`, the documents stating it), its
  chance (:math:`\pi_f`, :func:`smi.lab.chance.prior_chance`) and how the largest size responds to them:
  :func:`oracle_predictions`, fitted on the largest size of the *other* seeds.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from smi.errors import SmiError, check_scalar, check_seed
from smi.lab import settings as lab_settings
from smi.lab.settings import DEFAULT_SIZES, QUICK_SIZES, LabSettings, check_sizes

#: The predictors of :mod:`smi.prediction` judged here (``pred_<name>`` columns), the toolkit's choice first.
PREDICTORS = ("best", "gbm", "gbm_counts", "glm", "smi")
#: The predictor whose mean is the experiment's claim (:mod:`smi.prediction`'s ``best``) and the counts-only one.
CHOSEN = "best"
COUNTS_ONLY = "gbm_counts"
#: How many seed standard deviations the predicted mean may miss the measured one by.
SEED_SDS = 2.0
#: Where a chance of 0 or 1 is clipped before its logit (the oracle's feature).
CHANCE_CLIP = 1e-3


@dataclass(frozen=True)
class HoldoutSettings:
    """The holdout experiment's knobs: the lab's settings (``quick``: its reduced mode), the sizes (the largest is
    predicted from the others), the seeds (at least two: the oracle is fitted on the other seeds)."""

    seed: int = 0
    seeds: int = 3
    quick: bool = False
    sizes: tuple[str, ...] = DEFAULT_SIZES

    def __post_init__(self) -> None:
        check_seed(self.seed)
        check_scalar(self.seeds, "seeds", "integer", minimum=2, maximum=20)
        check_sizes(tuple(self.sizes))

    def lab(self) -> LabSettings:
        """The lab's settings of this experiment (:func:`smi.lab.settings.default_settings`)."""
        return lab_settings.default_settings(
            quick=self.quick, seed=self.seed, sizes=tuple(self.sizes), seeds=self.seeds
        )


def default_settings(seed: int = 0) -> HoldoutSettings:
    """The full-size experiment (``make experiments``) for ``seed``: the lab's default sizes and 3 seeds."""
    return HoldoutSettings(seed=seed)


def quick_settings(seed: int = 0) -> HoldoutSettings:
    """A reduced run for the tests: the lab's quick mode (sizes xs, s, m; a smaller corpus; 10 epochs), 2 seeds."""
    return HoldoutSettings(seed=seed, seeds=2, quick=True, sizes=QUICK_SIZES)


def prediction_paths(out: Path, seed: int) -> tuple[Path, Path]:
    """The prediction of seed ``seed`` (``OUT/predictions/SEED.csv``) and its record (``SEED.json``)."""
    folder = Path(out) / "predictions"
    return folder / f"{seed}.csv", folder / f"{seed}.json"


def read_prediction(out: Path, seed: int, key: str) -> tuple[pd.DataFrame, dict] | None:
    """Seed ``seed``'s prediction and its record, when valid: the one reader of a prediction.

    Parameters
    ----------
    out : Path
        The experiment's folder.
    seed : int
        The seed's value.
    key : str
        The key the prediction must have been made for (:func:`predict_seed`).

    Returns
    -------
    tuple of (pandas.DataFrame, dict) or None
        The prediction and its record; None (predict again) when the record is missing or unreadable,
        has another key, or the CSV is missing or is not the one the record's SHA-256 describes.
    """
    from smi.hashing import file_sha256
    from smi.lab import results

    path, record_path = prediction_paths(out, seed)
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("key") != key or not path.is_file():
        return None
    if record.get("csv_sha256") != file_sha256(path):
        return None
    return results.read_table(path), record


def _say(progress: bool, line: str) -> None:
    if progress:
        print(line, file=sys.stderr)


def predict_seed(
    out: Path, entry, index: int, done: dict, sizes: tuple[str, ...], lab: LabSettings, code: str
) -> tuple[pd.DataFrame, dict]:
    """Seed ``entry``'s largest size predicted from its smaller sizes, written with its record before the largest
    trains; a prediction of the same key is kept. Either way it is read back by :func:`read_prediction`.

    Parameters
    ----------
    out : Path
        The experiment's folder.
    entry : smi.lab.stages.SeedInputs
        The seed's inputs.
    index : int
        The seed's position, from 0.
    done : dict
        The finished (seed index, size) jobs' results, every smaller size of this seed among them.
    sizes : tuple of str
        The sizes, smallest first; the last is predicted.
    lab : LabSettings
        The lab's settings (boosting iterations).
    code : str
        :func:`smi.lab.run.lab_code_sha256` (its modules make the prediction).

    Returns
    -------
    prediction : pandas.DataFrame
        The prediction as written (:func:`smi.lab.stages.predict_before_training`'s columns).
    record : dict
        ``key``, ``csv_sha256``, ``made_at``, ``largest_model_then`` (the key of the largest model that
        existed as the prediction was made, or None), ``fitted_on``, ``largest``, ``parameters``.

    Notes
    -----
    The key holds the lab's code hash, the smaller sizes' probe keys (each with its model's key), the
    largest's parameter count, the boosting iterations, the seed and the counts.
    """
    from smi.files import write_csv, write_json
    from smi.hashing import file_sha256, frame_sha256, json_sha256
    from smi.lab import stages
    from smi.lab.model import planned_parameters
    from smi.lab.resume import read_train_record
    from smi.lab.run import _accuracy_frame

    largest, small = sizes[-1], sizes[:-1]
    parameters = planned_parameters(entry.corpus, largest, entry.seed)
    probe_keys = [done[(index, size)]["outputs"][f"probe/{size}"]["key"] for size in small]
    key = json_sha256([code, probe_keys, parameters, lab.gbm_iterations, entry.seed, frame_sha256(entry.counts)])
    kept = read_prediction(out, entry.seed, key)
    if kept is not None:
        return kept
    frames = [_accuracy_frame(done, index, size) for size in small]
    predicted = stages.predict_before_training(frames, entry.counts, parameters, lab.gbm_iterations, entry.seed)
    path, record_path = prediction_paths(out, entry.seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(predicted, path, float_format="%.10g")
    existing = read_train_record(entry.folder / "models" / largest) or {}
    record = {
        "key": key,
        "csv_sha256": file_sha256(path),
        "made_at": time.time(),
        "largest_model_then": existing.get("key"),
        "fitted_on": list(small),
        "largest": largest,
        "parameters": parameters,
    }
    write_json(record, record_path)
    return read_prediction(out, entry.seed, key)


def run(settings: HoldoutSettings, out: Path, code: str, device: str = "cpu", workers: int = 2, progress=True):
    """The experiment's three steps (module docstring) in the folder ``out``; the rows of :func:`tidy`'s table.

    Parameters
    ----------
    settings : HoldoutSettings
        The experiment's settings.
    out : Path
        The experiment's folder (owned and locked by :func:`smi.lab.experiments.run.run_experiment`).
    code : str
        The experiment's code hash (unused: a prediction is keyed on the lab's code, which makes it, so that
        a change to this module's analysis does not ask for a prediction after the largest model exists).
    device : {"cpu", "cuda"}
        Where the models train.
    workers : int
        Worker processes of one torch thread each.
    progress : bool
        A line per finished job and per prediction on standard error.

    Returns
    -------
    list of dict
        One row per (seed, size, fact).
    """
    from smi.files import write_json
    from smi.lab import experiment
    from smi.lab import run as lab_run
    from smi.lab.model import smallest_first

    lab = settings.lab()
    sizes = smallest_first(lab.sizes)
    largest = sizes[-1]
    seeds = [lab.seed + index for index in range(lab.seeds)]
    inputs = lab_run._prepare_seeds(Path(out) / "lab", lab, seeds, None, lambda line: _say(progress, line))
    lab_code = lab_run.lab_code_sha256()
    done: dict[tuple[int, str], dict] = {}
    predictions: dict[int, tuple[pd.DataFrame, dict]] = {}

    def job(index: int, size: str) -> dict:
        return experiment.make_job(inputs[index], index, size, False, lab, device, lab_code)

    def on_done(result: dict) -> None:
        index, size = result["seed_index"], result["size"]
        done[(index, size)] = result
        entry = inputs[index]
        keys = entry.run_state.setdefault("probe_keys", {})
        for name, output in result["outputs"].items():
            keys[name] = output["key"]
        write_json(entry.run_state, entry.folder / "run.json")
        mean = lab_run._accuracy_frame(done, index, size)["acc"].mean()
        reused = " (reused)" if result["train"]["reused"] else ""
        _say(progress, f"seed {entry.seed} {size}: trained{reused}, mean accuracy {mean:.3f}")

    def then(_first: list[dict]) -> list[dict]:
        for index, entry in enumerate(inputs):
            predictions[index] = predict_seed(out, entry, index, done, sizes, lab, lab_code)
            mean = predictions[index][0]["predicted"].mean()
            _say(progress, f"seed {entry.seed}: {largest} predicted before training, mean {mean:.3f}")
        return [job(index, largest) for index in range(len(inputs))]

    first = [job(index, size) for index in range(len(inputs)) for size in sizes[:-1]]
    experiment.run_jobs(first, then, [], workers, on_done)
    return _rows(out, inputs, done, sizes, predictions)


def _rows(out: Path, inputs: list, done: dict, sizes: tuple[str, ...], predictions: dict[int, tuple]) -> list[dict]:
    """One row per (seed, size, fact): accuracy, shuffled-subject chance, exposure, prior chance, and for the
    largest size the predictions made before it trained and whether its model existed then."""
    from smi.lab import chance
    from smi.lab.run import _accuracy_frame

    frames = []
    for index, entry in enumerate(inputs):
        knobs = entry.truth[["idx", "stated_docs"]].rename(columns={"stated_docs": "k"})
        knobs["prior_chance"] = chance.prior_chance(entry.facts, entry.truth["stated_docs"])
        predicted, record = predictions[index]
        for size in sizes:
            frame = _accuracy_frame(done, index, size)[["idx", "rel", "acc"]]
            control = _accuracy_frame(done, index, size, "probe_control")[["idx", "acc"]]
            frame = frame.merge(control.rename(columns={"acc": "chance_acc"}), on="idx", validate="one_to_one")
            frame = frame.merge(knobs, on="idx", validate="one_to_one")
            frame.insert(0, "parameters", done[(index, size)]["train"]["parameters"])
            frame.insert(0, "size", size)
            frame.insert(0, "seed", entry.seed)
            if size == sizes[-1]:
                # 1 when this very model existed as its prediction was made (a run resumed after a changed input)
                then = record["largest_model_then"]
                frame["trained_before_prediction"] = float(then == done[(index, size)]["model_key"])
                columns = ["idx"] + [f"pred_{name}" for name in PREDICTORS]
                frame = frame.merge(predicted[columns], on="idx", how="left", validate="one_to_one")
                if frame[columns].isna().any().any():
                    raise SmiError(f"{prediction_paths(out, entry.seed)[0]}: a fact of {size} has no prediction")
            else:
                frame["trained_before_prediction"] = np.nan
            frames.append(frame)
    return pd.concat(frames, ignore_index=True).to_dict("records")


def tidy(rows: list[dict]) -> pd.DataFrame:
    """The table of every (seed, size, fact), smallest size first; the predictions are on the largest's rows."""
    from smi.lab.model import smallest_first

    table = pd.DataFrame(rows)
    order = {size: rank for rank, size in enumerate(smallest_first(table["size"].unique()))}
    table = table.assign(_order=table["size"].map(order)).sort_values(["seed", "_order", "idx"])
    return table.drop(columns="_order").reset_index(drop=True)


def oracle_predictions(largest: pd.DataFrame) -> pd.Series:
    r"""Each fact's accuracy as known to an oracle of exposure and chance, cross-fitted over seeds.

    Parameters
    ----------
    largest : pandas.DataFrame
        The largest size's rows of :func:`tidy` (``seed, k, prior_chance, acc``), two seeds or more.

    Returns
    -------
    pandas.Series
        The prediction of each row (same index).

    Notes
    -----
    For seed :math:`i`, a binomial GLM (logit link, fractional response) fitted on the other seeds' facts:
    :math:`\operatorname{logit} \hat a_f = \beta_{k_f} + \gamma \operatorname{logit} \pi_f`, one level
    :math:`\beta_k` per exposure and the logit of the prior chance :math:`\pi_f` (clipped to
    :math:`[10^{-3}, 1 - 10^{-3}]`). It knows what no predictor before training can: the truth's
    exposure and chance, and the largest size's own accuracies on corpora drawn the same way.
    """
    import warnings

    import statsmodels.api as sm

    levels = sorted(largest["k"].unique())
    dummies = pd.get_dummies(pd.Categorical(largest["k"], categories=levels), dtype=float)
    dummies.index = largest.index
    clipped = largest["prior_chance"].clip(CHANCE_CLIP, 1 - CHANCE_CLIP)
    design = dummies.assign(logit_chance=np.log(clipped / (1 - clipped)))
    predicted = pd.Series(np.nan, index=largest.index)
    for seed in largest["seed"].unique():
        held = largest["seed"] == seed
        # a level that every training fact gets right (or wrong) separates; statsmodels warns, the fit stays finite
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = sm.GLM(largest.loc[~held, "acc"], design[~held], family=sm.families.Binomial()).fit()
        predicted[held] = fitted.predict(design[held])
    return predicted


def summarise(table: pd.DataFrame) -> dict:
    """The mean and per-fact judgements of the module docstring, with intervals over seeds; the verdicts.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`tidy`'s table, two seeds or more.

    Returns
    -------
    dict
        ``largest``, ``fitted_on``, ``facts`` (per seed), ``parameters``, ``mean_accuracy`` per size,
        ``measured_sd`` and ``band`` (±2 of it), ``predicted_mean``, ``mean_error`` and ``r2`` per predictor
        (and R² of the oracle), ``oracle_minus_counts``, ``per_seed``, ``predicted_before_training`` and
        ``verdicts``; each interval a :func:`smi.lab.experiments.kit.interval_entry`.
    """
    from smi.lab.experiments import kit
    from smi.lab.model import smallest_first
    from smi.regression import r_squared

    sizes = smallest_first(table["size"].unique())
    largest = table[table["size"] == sizes[-1]].copy()
    largest["pred_oracle"] = oracle_predictions(largest)
    means = table.groupby(["size", "seed"])["acc"].mean()
    measured = means[sizes[-1]]
    spread = float(measured.std(ddof=1))
    predicted = largest.groupby("seed")[[f"pred_{name}" for name in PREDICTORS]].mean()
    r2 = {
        name: [r_squared(group["acc"], group[f"pred_{name}"]) for _, group in largest.groupby("seed")]
        for name in (*PREDICTORS, "oracle")
    }
    error = {name: kit.interval_entry(predicted[f"pred_{name}"] - measured) for name in PREDICTORS}
    oracle_gap = kit.interval_entry(np.subtract(r2["oracle"], r2[COUNTS_ONLY]))
    band = (-SEED_SDS * spread, SEED_SDS * spread)
    summary = {
        "largest": sizes[-1],
        "fitted_on": list(sizes[:-1]),
        "facts": int(largest.groupby("seed").size().iloc[0]),
        "parameters": {size: int(table.loc[table["size"] == size, "parameters"].iloc[0]) for size in sizes},
        "mean_accuracy": {size: kit.interval_entry(means[size]) for size in sizes},
        "measured_sd": spread,
        "band": list(band),
        "predicted_mean": {name: kit.interval_entry(predicted[f"pred_{name}"]) for name in PREDICTORS},
        "mean_error": error,
        "r2": {name: kit.interval_entry(values) for name, values in r2.items()},
        "oracle_minus_counts": oracle_gap,
        "per_seed": [
            {"seed": int(seed), "measured": float(measured[seed])}
            | {name: float(predicted.loc[seed, f"pred_{name}"]) for name in PREDICTORS}
            for seed in predicted.index
        ],
        "predicted_before_training": bool((largest["trained_before_prediction"] == 0).all()),
    }
    summary["verdicts"] = {
        "mean_within_two_sd": kit.verdict_band(error[CHOSEN], band),
        "counts_below_oracle": kit.verdict_band(oracle_gap, (0.0, math.inf)),
    }
    return summary


#: Each verdict of :func:`summarise`: what it claims, and the summary entry it rests on.
CLAIMS = {
    "mean_within_two_sd": (
        f"the mean accuracy predicted before training (predictor {CHOSEN}) minus the measured one lies within "
        f"±{SEED_SDS:g} seed standard deviations of the measured mean",
        ("mean_error", CHOSEN),
    ),
    "counts_below_oracle": (
        "per fact, the counts-only prediction explains less than an oracle that knows exposure and chance "
        "(R² oracle − R² counts-only > 0)",
        ("oracle_minus_counts",),
    ),
}


def predictor_table(summary: dict) -> pd.DataFrame:
    """One row per predictor (and the oracle): predicted mean, its error and per-fact R², mean [low, high]."""
    from smi.lab.experiments import kit

    rows = []
    for name in (*PREDICTORS, "oracle"):
        known = name in summary["predicted_mean"]
        rows.append(
            {
                "predictor": name,
                "predicted mean": kit.interval_text(summary["predicted_mean"][name]) if known else "",
                "predicted − measured": kit.interval_text(summary["mean_error"][name]) if known else "",
                "per-fact R²": kit.interval_text(summary["r2"][name]),
            }
        )
    return pd.DataFrame(rows)
