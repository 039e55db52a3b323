r"""The whole lab in one call: corpus → counts → training → probing → fit → prediction before training.

:func:`run_lab` runs the stages of :mod:`smi.lab.stages` for every seed, the (seed, size) jobs of
:mod:`smi.lab.experiment`, and ``smi fit``, and writes their outputs in the formats those commands
read, in the output folder ``DIR``:

==============================  ==================================================================
``corpus/``                     the lab corpus (:mod:`smi.lab.corpus`)
``counts.csv``                  ``smi count`` of the corpus (the release's columns)
``models/SIZE/``                each trained model (:mod:`smi.lab.train`), a Hugging Face folder
``models.csv``                  models table for ``smi fit --models-table``: name, series, parameters, corpus
``probe/SIZE.json``             ``smi probe`` output with the counts joined (read by ``smi fit --outputs``)
``probe_unseen/SIZE.json``      the largest size probed with ``corpus/unseen_templates.json`` (prompts no document uses)
``predicted_before_training.csv``  the largest size's per-fact accuracy predicted before it was trained
``r2_bucketed.csv`` …           ``smi fit`` outputs (``r2_bucketed.csv``, ``r2_per_fact.csv``, ``r2_table.md``)
``acquisition.csv``             per seed, size and exposure bucket: mean accuracy (``mean_acc`` = ``rank1_acc``),
                                ``chance_acc`` (shuffled-subject control), ``prior_chance`` (= ``baseline_acc``),
                                ``p_true`` (:func:`smi.lab.analysis.acquisition_with_chance`)
``accuracies.csv``              one row per seed, size and fact: acc, rank1_acc, p_true, rank, chance_acc,
                                prior_chance, the truth's knobs (k, arm levels, …), mi and cooccur
``arms.csv``                    crossed design: per size, arm, level and k the effect on accuracy against
                                level none, and R²(MI) − R²(CO-OCCUR) per arm, with 95 % intervals
                                (:func:`smi.lab.bootstrap.arm_table`)
``probe_control/SIZE.json``     the shuffled-subject control (:mod:`smi.lab.chance`)
``seeds/SEED/``                 every further seed: its own corpus/, counts.csv, models/, probe*/, models.csv
``prediction.csv``              idx, predicted, measured (and every predictor's column)
``summary.json``                ``headline`` (:func:`smi.lab.bootstrap.headline`: the checks with intervals over
                                seeds and facts), the first seed's :func:`smi.lab.analysis.learning_checks`,
                                ``arms_all_k``, ``mi_not_positive``, the prediction's scores, timings, settings
==============================  ==================================================================

The same fit from the command line::

    smi fit --models-table DIR/models.csv --outputs DIR/probe --out DIR

Prediction before training: the predictors of :mod:`smi.prediction` are fitted
on the probe outputs of every size but the largest, and predict each fact of the
largest from the corpus counts and its parameter count alone; the prediction is
written before the largest model's training starts and compared with its probe
afterwards.

Resuming: the corpus is reused when its settings match, every model resumes or
is reused by its training key (:func:`smi.lab.train.training_key`), and every
probe output is reused only when ``run.json`` records the same probe key (model
key, probe settings, templates and counts); a probe interrupted with the same
key resumes from its partial file.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from smi import formats
from smi.errors import ParameterValueError, check_scalar
from smi.files import check_writable, remove_orphaned_temporaries, write_csv, write_json
from smi.hashing import code_sha256, frame_sha256, json_sha256
from smi.lab import analysis, experiment, results, stages
from smi.lab import model as lab_model
from smi.lab.resume import TRAIN_RECORD
from smi.lab.settings import LabSettings, check_sizes
from smi.lab.stages import SeedInputs
from smi.locks import output_lock

RUN_COMMAND = "smi lab run"
#: The files the run writes at the top of its folder (a killed run's temporaries of them are removed).
TOP_FILES = (
    "counts.csv",
    "counts.csv.meta.json",
    "models.csv",
    "predicted_before_training.csv",
    "r2_bucketed.csv",
    "r2_per_fact.csv",
    "r2_table.md",
    "accuracies.csv",
    "acquisition.csv",
    "arms.csv",
    "prediction.csv",
    "summary.json",
    "run.json",
)


def lab_code_sha256() -> str:
    """SHA-256 of the lab's code (this module and every :mod:`smi` module it imports: probing, prediction,
    training…, :func:`smi.hashing.code_sha256`): part of the keys of the lab's probe outputs and prediction.

    Returns
    -------
    str
        The hex digest.
    """
    return code_sha256([__name__])


@dataclass
class LabResult:
    """Where the outputs are and the numbers of ``summary.json``."""

    out_dir: Path
    summary: dict
    acquisition: pd.DataFrame
    prediction: pd.DataFrame


def run_lab(
    out_dir: Path,
    settings: LabSettings | None = None,
    device: str = "cpu",
    corpus_dir: Path | None = None,
    progress: bool = True,
    log=print,
    threads: int | None = 1,
) -> LabResult:
    """Run every stage (module docstring); ``log`` receives one line per finished stage (None: silent).

    ``threads``: torch's CPU threads during the run (restored afterwards; None leaves torch's choice).
    One thread is the default of ``smi lab run`` too: the models are too small to gain from more, and
    the result then does not depend on the machine's core count.

    Parameters
    ----------
    out_dir : Path
        The run's folder.
    settings : LabSettings or None
        Corpus, sizes, training and probing settings; ``LabSettings()`` when None.
    device : str
        Where models train and run.
    corpus_dir : Path or None
        An existing lab corpus to use instead of generating one.
    progress : bool
        Show progress bars.
    log : callable or None
        Receives a line per stage.
    threads : int or None
        Torch's CPU threads, at least 1.

    Returns
    -------
    LabResult
        The folder, the summary and the tables written.

    Raises
    ------
    SmiError
        When ``threads`` is below 1, the settings or corpus are invalid, or a stage fails on its input.
    """
    import torch

    if threads is not None:
        check_scalar(threads, "threads", "integer", minimum=1)
    settings = LabSettings() if settings is None else settings
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _run_lab(out_dir, settings, device, corpus_dir, progress, log)
    finally:
        torch.set_num_threads(before)


def _run_lab(
    out_dir: Path, settings: LabSettings, device: str, corpus_dir: Path | None, progress: bool, log
) -> LabResult:
    """:func:`run_lab` after its checks, holding the output folder's lock."""
    from smi import probing

    say = log or (lambda *_: None)
    check_sizes(settings.sizes)
    lab_model.quiet_transformers()
    device = probing.resolve_device(device)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterValueError("out_dir", "must be a folder, and this is a file", out_dir)
    if corpus_dir is not None:
        stages.check_lab_corpus(corpus_dir)
        if settings.seeds > 1:
            raise ParameterValueError("seeds", "must be 1 with a given corpus (each seed draws its own corpus)")
    check_writable(out_dir / "summary.json")
    with output_lock(out_dir, RUN_COMMAND):  # a second run into this folder stops here
        for name in TOP_FILES:  # what a killed run into this folder left
            remove_orphaned_temporaries(out_dir / name, RUN_COMMAND)
        return _run_lab_locked(out_dir, settings, device, corpus_dir, progress, say)


class _Clock:
    """The seconds each part of a run took (``summary.json``'s ``timings_s``)."""

    def __init__(self) -> None:
        self.started = self.since = time.perf_counter()
        self.timings: dict[str, float] = {}

    def lap(self, name: str) -> None:
        self.timings[name] = round(time.perf_counter() - self.since, 2)
        self.since = time.perf_counter()

    def total(self) -> dict[str, float]:
        self.timings["total"] = round(time.perf_counter() - self.started, 2)
        return self.timings


def _run_lab_locked(
    out_dir: Path, settings: LabSettings, device: str, corpus_dir: Path | None, progress: bool, say
) -> LabResult:
    """:func:`run_lab`'s steps: every seed's corpus and counts, the (seed, size) jobs with the prediction made
    before the largest size trains, the fit, the tables and the summary."""
    clock = _Clock()
    sizes = lab_model.smallest_first(settings.sizes)
    seeds = [settings.seed + index for index in range(settings.seeds)]
    inputs = _prepare_seeds(out_dir, settings, seeds, corpus_dir, say)
    clock.lap("corpus_and_count")
    done, predicted = _train_and_probe(out_dir, settings, device, inputs, sizes, say)
    clock.lap("train_and_probe")
    bucketed, per_fact = _write_models_and_fit(out_dir, inputs, done, sizes)
    accuracies, acquisition, arms = _write_accuracy_tables(out_dir, settings, inputs, done, sizes)
    prediction_frame = _write_prediction(out_dir, predicted, done, sizes[-1])
    clock.lap("fit_and_tables")
    first_seed = accuracies[accuracies["seed"] == settings.seed]
    summary = analysis.lab_summary(
        first_seed,
        analysis.acquisition_table(first_seed),
        bucketed,
        per_fact,
        prediction_frame,
        sizes[-1],
        settings.bootstrap,
        settings.seed,
    )
    summary.update(_run_record(settings, inputs, done, accuracies, arms, sizes))
    summary.update(
        {
            "training": {f"{seeds[i]}/{s}": done[(i, s)]["train"] for i in range(len(seeds)) for s in sizes},
            "timings_s": clock.total(),
            "threads": 1,
            "jobs": settings.jobs,
            "load_average_at_end": list(os.getloadavg()),
            "device": device,
            "settings": asdict(settings),
            "seeds": seeds,
            "corpus_dir": str(inputs[0].corpus),
            "prediction_made": inputs[0].run_state.get("prediction"),
        }
    )
    write_json(summary, out_dir / "summary.json")
    say(f"done in {summary['timings_s']['total']:.0f} s: {out_dir / 'summary.json'}")
    return LabResult(out_dir, summary, acquisition, prediction_frame)


def _prepare_seeds(
    out_dir: Path, settings: LabSettings, seeds: list[int], corpus_dir: Path | None, say
) -> list[SeedInputs]:
    """Every seed's corpus, counts and probe inputs (:func:`smi.lab.stages.prepare_seed`), with its ``run.json``."""
    inputs = []
    for index, seed in enumerate(seeds):
        entry = stages.prepare_seed(out_dir, index, seed, settings.corpus, corpus_dir)
        try:
            run_state = json.loads((entry.folder / "run.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            run_state = {}
        entry.run_state = run_state if isinstance(run_state, dict) else {}
        inputs.append(entry)
        say(f"seed {seed}: corpus {entry.corpus} ({len(entry.facts)} facts), counts {entry.folder / 'counts.csv'}")
    return inputs


def _accuracy_frame(done: dict, index: int, size: str, name: str = "probe") -> pd.DataFrame:
    """The probe ``name`` of the job (seed ``index``, ``size``) as :func:`smi.lab.stages.accuracy_frame`."""
    result = done[(index, size)]
    return stages.accuracy_frame(result["outputs"][f"{name}/{size}"]["records"], size, result["train"]["parameters"])


def _train_and_probe(
    out_dir: Path, settings: LabSettings, device: str, inputs: list[SeedInputs], sizes: tuple[str, ...], say
) -> tuple[dict, pd.DataFrame]:
    """Every (seed, size) job (:func:`smi.lab.experiment.run_jobs`): the first seed's smaller sizes first, then
    the prediction before training (:func:`_predict`), then the first seed's largest size; the other seeds
    meanwhile. Returns the jobs' results by (seed index, size) and the prediction."""
    code = lab_code_sha256()
    done: dict[tuple[int, str], dict] = {}
    predicted: list[pd.DataFrame] = []

    def job(index: int, size: str) -> dict:
        return experiment.make_job(inputs[index], index, size, size == sizes[-1], settings, device, code)

    def record(result: dict) -> None:
        done[(result["seed_index"], result["size"])] = result
        entry = inputs[result["seed_index"]]
        keys = entry.run_state.setdefault("probe_keys", {})
        for name, output in result["outputs"].items():
            keys[name] = output["key"]
        write_json(entry.run_state, entry.folder / "run.json")
        acc = np.mean([r["acc"] for r in result["outputs"][f"probe/{result['size']}"]["records"]])
        train_info = result["train"]
        say(
            f"seed {entry.seed} {result['size']}: {train_info['parameters']:,} parameters, loss "
            f"{train_info['final_loss']:.3f}, {train_info['tokens_per_second']:,.0f} tokens/s"
            f"{' (reused)' if train_info['reused'] else ''}, mean accuracy {acc:.3f}"
        )

    def then(_first: list[dict]) -> list[dict]:
        predicted.append(_predict(out_dir, settings, inputs[0], done, sizes, code))
        say(
            f"prediction before training: {out_dir / 'predicted_before_training.csv'} "
            f"(mean {predicted[0]['predicted'].mean():.3f})"
        )
        return [job(0, sizes[-1])]

    first = [job(0, size) for size in sizes[:-1]]
    rest = [job(index, size) for size in reversed(sizes) for index in range(1, len(inputs))]
    experiment.run_jobs(first, then, rest, settings.jobs, record)
    return done, predicted[0]


def _predict(
    out_dir: Path, settings: LabSettings, entry: SeedInputs, done: dict, sizes: tuple[str, ...], code: str
) -> pd.DataFrame:
    """The first seed's largest size predicted from its smaller sizes (:func:`smi.lab.stages.predict_before_training`),
    written to ``predicted_before_training.csv`` and recorded in ``run.json`` before it trains; a prediction of
    the same key (code, smaller sizes' probes, parameters, settings, counts) is kept."""
    largest = sizes[-1]
    parameters = lab_model.planned_parameters(entry.corpus, largest, settings.seed)
    path = out_dir / "predicted_before_training.csv"
    small_keys = [entry.run_state.get("probe_keys", {}).get(f"probe/{s}") for s in sizes[:-1]]
    key = json_sha256(
        [code, small_keys, parameters, settings.gbm_iterations, settings.seed, frame_sha256(entry.counts)]
    )
    made = entry.run_state.get("prediction") or {}
    if made.get("key") != key or not path.is_file():
        fresh = stages.predict_before_training(
            [_accuracy_frame(done, 0, s) for s in sizes[:-1]],
            entry.counts,
            parameters,
            settings.gbm_iterations,
            settings.seed,
        )
        write_csv(fresh, path, float_format="%.10g")
        entry.run_state["prediction"] = {
            "key": key,
            "made_at": time.time(),
            "largest_already_trained": (out_dir / "models" / largest / TRAIN_RECORD).is_file(),
            "fitted_on": list(sizes[:-1]),
            "parameters": parameters,
        }
        write_json(entry.run_state, out_dir / "run.json")
    return results.read_table(path)


def _models_table(done: dict, index: int, sizes: tuple[str, ...]) -> pd.DataFrame:
    """``models.csv`` of seed ``index``: name, series, parameters, corpus (``smi fit --models-table``)."""
    return pd.DataFrame(
        [
            {
                "name": s,
                "series": stages.SERIES,
                "parameters": done[(index, s)]["train"]["parameters"],
                "corpus": stages.SERIES,
            }
            for s in sizes
        ]
    )


def _write_models_and_fit(
    out_dir: Path, inputs: list[SeedInputs], done: dict, sizes: tuple[str, ...]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every seed's ``models.csv``, and ``smi fit`` of the first seed (its R² tables, written and returned)."""
    from smi import regression

    for index, entry in enumerate(inputs):
        write_csv(_models_table(done, index, sizes), entry.folder / "models.csv")
    models = formats.load_models(out_dir / "models.csv")
    bucketed, per_fact = regression.fit_release(out_dir, models, outputs=out_dir / "probe")
    regression.write_fit_outputs(bucketed, per_fact, out_dir)
    return bucketed, per_fact


def _seed_accuracies(index: int, entry: SeedInputs, done: dict, sizes: tuple[str, ...]) -> list[pd.DataFrame]:
    """One seed's rows of ``accuracies.csv``, size by size: accuracy, the shuffled-subject chance, the prior
    chance, the truth's knobs, MI and co-occurrence."""
    from smi import metrics
    from smi.lab import chance

    knobs = entry.truth.copy()
    if "k" not in knobs.columns:
        knobs["k"] = knobs["stated_docs"]
    knobs["prior_chance"] = chance.prior_chance(entry.facts, entry.truth["stated_docs"])
    counts = entry.counts.set_index("idx").reindex(entry.truth["idx"]).reset_index()
    knobs["mi"] = metrics.mutual_information(counts).to_numpy()
    knobs["cooccur"] = counts["time_s1j1"].to_numpy()
    knobs["baseline"] = knobs["prior_chance"]
    parts = []
    for size in sizes:
        main = _accuracy_frame(done, index, size)
        control = _accuracy_frame(done, index, size, "probe_control")[["idx", "acc"]]
        columns = ["model", "parameters", "idx", "acc"] + [c for c in ("p_true", "rank") if c in main.columns]
        part = main[columns].rename(columns={"model": "size"})
        part = part.merge(control.rename(columns={"acc": "chance_acc"}), on="idx", how="left")
        part.insert(0, "seed", entry.seed)
        parts.append(part.merge(knobs, on="idx", how="left"))
    return parts


def _write_accuracy_tables(
    out_dir: Path, settings: LabSettings, inputs: list[SeedInputs], done: dict, sizes: tuple[str, ...]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """``accuracies.csv`` (every seed), ``acquisition.csv`` and, for the crossed design, ``arms.csv``."""
    from smi.lab import bootstrap

    parts = [part for index, entry in enumerate(inputs) for part in _seed_accuracies(index, entry, done, sizes)]
    accuracies = pd.concat(parts, ignore_index=True)
    accuracies["rank1_acc"] = accuracies["acc"]
    write_csv(accuracies, out_dir / "accuracies.csv")
    acquisition = analysis.acquisition_with_chance(accuracies)
    write_csv(acquisition, out_dir / "acquisition.csv")
    arms = None
    if all(column in accuracies.columns for column in bootstrap.ARM_LEVEL_COLUMNS.values()):
        arms = bootstrap.arm_table(accuracies, settings.bootstrap, settings.seed)
        write_csv(arms, out_dir / "arms.csv")
    return accuracies, acquisition, arms


def _write_prediction(out_dir: Path, predicted: pd.DataFrame, done: dict, largest: str) -> pd.DataFrame:
    """``prediction.csv``: the prediction made before training next to the largest size's measured accuracy."""
    measured = _accuracy_frame(done, 0, largest)[["idx", "acc"]].rename(columns={"acc": "measured"})
    frame = predicted.merge(measured, on="idx", how="left")
    frame = frame[stages.BEFORE_TRAINING_COLUMNS + [c for c in frame.columns if c.startswith("pred_")]]
    write_csv(frame, out_dir / "prediction.csv")
    return frame


def _run_record(
    settings: LabSettings,
    inputs: list[SeedInputs],
    done: dict,
    accuracies: pd.DataFrame,
    arms: pd.DataFrame | None,
    sizes: tuple[str, ...],
) -> dict:
    """The summary's checks over every seed: the headline, the counts against the truth, the arms over all k."""
    from smi.lab import bootstrap

    record = {
        "headline": bootstrap.headline(accuracies, sizes[-1], n_boot=settings.bootstrap, random_seed=settings.seed),
        "counts_equal_truth": {str(e.seed): stages.counts_agreement(e.counts, e.truth) for e in inputs},
    }
    if arms is not None:
        record["arms_all_k"] = arms[arms["k"] == "all"].to_dict(orient="records")
        record["mi_not_positive"] = {
            size: int((frame["mi"] <= 0).sum()) for size, frame in accuracies.groupby("size", sort=False)
        }
    return record
