r"""The whole lab in one call: corpus → counts → training → probing → fit → prediction before training.

:func:`run_lab` calls the library functions behind ``smi count``, ``smi probe``
and ``smi fit`` and writes their outputs in the formats those commands read, in
the output folder ``DIR``:

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
                                ``p_true`` (:func:`acquisition_with_chance`)
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

import hashlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from smi import formats
from smi.errors import ParameterValueError, SmiError
from smi.files import atomic_output, check_writable, code_sha256, output_lock, remove_orphaned_temporaries
from smi.lab import analysis, design, train
from smi.lab import corpus as lab_corpus
from smi.records import COUNT_FIELDS

DEFAULT_SIZES = ("xs", "s", "m", "l")
QUICK_SIZES = ("xs", "s", "m")
SERIES = "lab"
PREDICTION_COLUMNS = ["idx", "subj", "rel", "obj", "predicted", "measured"]
COMMAND = "smi lab run"
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


@dataclass(frozen=True)
class ProbeOptions:
    """The lab's probe protocol (the paper's, with fewer samples and short answers)."""

    samples: int = 5
    temperature: float = 0.7
    max_new_tokens: int = 4
    batch_size: int = 256


PROTOCOLS = ("rank", "sample")


@dataclass(frozen=True)
class LabSettings:
    """Everything ``smi lab run`` decides: sizes, corpus knobs, training and probe settings, seeds.

    ``corpus`` is a :class:`smi.lab.design.DesignSettings` (the crossed design, default) or a
    :class:`smi.lab.settings.CorpusSettings` (the power-law design); seed :math:`i` of ``seeds``
    uses ``seed + i`` for its corpus, training and probe. ``jobs`` worker processes of one
    thread each train and probe the (seed, size) jobs (:mod:`smi.lab.experiment`).
    """

    sizes: tuple[str, ...] = DEFAULT_SIZES
    seed: int = 0
    corpus: object = field(default_factory=design.DesignSettings)
    training: train.TrainSettings = field(default_factory=lambda: train.TrainSettings(batch_size=8))
    probe: ProbeOptions = ProbeOptions()
    gbm_iterations: int = 200
    bootstrap: int = 200
    seeds: int = 3
    protocol: str = "rank"
    jobs: int = 2

    def __post_init__(self) -> None:
        if isinstance(self.seeds, bool) or not isinstance(self.seeds, int) or not 1 <= self.seeds <= 20:
            raise ParameterValueError("seeds", f"must be a whole number from 1 to 20 (got {self.seeds!r})")
        if self.protocol not in PROTOCOLS:
            raise ParameterValueError("protocol", f"must be one of {', '.join(PROTOCOLS)} (got {self.protocol!r})")
        if isinstance(self.jobs, bool) or not isinstance(self.jobs, int) or not 1 <= self.jobs <= 64:
            raise ParameterValueError("jobs", f"must be a whole number from 1 to 64 (got {self.jobs!r})")


def default_settings(
    quick: bool = False,
    seed: int = 0,
    sizes: tuple[str, ...] | None = None,
    epochs: float | None = None,
    seeds: int | None = None,
    corpus_design: str = "crossed",
    protocol: str = "rank",
    jobs: int = 2,
) -> LabSettings:
    """The default lab (``quick=False``) or the small one the tests run (``quick=True``), for ``seed``.

    Parameters
    ----------
    quick : bool
        The small lab of the tests and the notebook's quick mode.
    seed : int
        Seed of the corpus, training and probing.
    sizes : tuple of str or None
        Model sizes to train; the mode's default when None.
    epochs : float or None
        Training epochs; the mode's default when None.
    seeds : int or None
        Corpora (and trainings) per size; 3 when None (2 in quick mode).
    corpus_design : {"crossed", "power"}
        The corpus design (:mod:`smi.lab.design` or :mod:`smi.lab.corpus`).
    protocol : {"rank", "sample"}
        How the models are probed.
    jobs : int
        Worker processes.

    Returns
    -------
    LabSettings
        The settings.

    Raises
    ------
    SmiError
        When ``sizes`` is invalid (:func:`check_sizes`), or a design, protocol, seeds or jobs is.
    """
    if corpus_design not in ("crossed", "power"):
        raise ParameterValueError("corpus_design", f"must be crossed or power (got {corpus_design!r})")
    base = LabSettings(protocol=protocol, jobs=jobs)
    if corpus_design == "power":
        base = replace(base, corpus=lab_corpus.CorpusSettings())
    if quick:
        if corpus_design == "power":
            corpus = replace(base.corpus, people=24, organisations=6, max_stated=64, max_extra_docs=8, max_background=8)
        else:
            corpus = replace(base.corpus, facts_per_relation=15, background_docs=(0, 4, 16))
        base = replace(
            base,
            sizes=QUICK_SIZES,
            corpus=corpus,
            training=replace(base.training, epochs=10),
            probe=replace(base.probe, samples=3),
            gbm_iterations=40,
            bootstrap=50,
            seeds=2,
        )
    if seeds is not None:
        base = replace(base, seeds=seeds)
    base = replace(base, seed=seed, corpus=replace(base.corpus, seed=seed), training=replace(base.training, seed=seed))
    if sizes is not None:
        base = replace(base, sizes=tuple(sizes))
    if epochs is not None:
        base = replace(base, training=replace(base.training, epochs=epochs))
    check_sizes(base.sizes)
    return base


def check_sizes(sizes: tuple[str, ...]) -> tuple[str, ...]:
    """At least three distinct known sizes (the prediction fits on all but the largest).

    Parameters
    ----------
    sizes : tuple of str
        Model size names.

    Returns
    -------
    tuple of str
        ``sizes``.

    Raises
    ------
    SmiError
        When a size is unknown or repeated, or there are fewer than three.
    """
    for name in sizes:
        train.model_size(name)
    if len(set(sizes)) != len(sizes):
        raise ParameterValueError("sizes", f"gives a size twice ({', '.join(sizes)})")
    if len(sizes) < 3:
        raise SmiError(
            f"--sizes needs at least three sizes (got {', '.join(sizes)}): the prediction fits on all but the largest"
        )
    return sizes


def lab_code_sha256() -> str:
    """SHA-256 of the lab's code (this module and every :mod:`smi` module it imports: probing, prediction,
    training…, :func:`smi.files.code_sha256`): part of the keys of the lab's probe outputs and prediction.

    Returns
    -------
    str
        The hex digest.
    """
    return code_sha256([__name__])


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- stages


def prepare_corpus(out_dir: Path, settings: lab_corpus.CorpusSettings, corpus_dir: Path | None = None) -> Path:
    """The corpus folder: ``corpus_dir`` when given (checked), else ``DIR/corpus``, generated unless
    the one there was made by this generator version with these settings.

    Parameters
    ----------
    out_dir : Path
        The lab run's folder.
    settings : CorpusSettings
        The corpus settings.
    corpus_dir : Path or None
        An existing lab corpus folder to use.

    Returns
    -------
    Path
        The corpus folder.

    Raises
    ------
    SmiError
        When ``corpus_dir`` is not a valid lab folder, or the corpus cannot be written.
    """
    if corpus_dir is not None:
        check_lab_corpus(corpus_dir)
        return Path(corpus_dir)
    target = Path(out_dir) / "corpus"
    if (target / "lab.json").is_file():
        try:
            meta = lab_corpus.read_meta(target)
            same = meta.get("settings") == json.loads(json.dumps(asdict(settings)))
            if meta.get("generator_version") == lab_corpus.GENERATOR_VERSION and same:
                lab_corpus.corpus_fingerprint(target)
                return target
        except SmiError:
            pass
    from smi.lab import design

    lab_corpus.write_corpus(design.generate(settings), target)
    return target


def check_lab_corpus(corpus_dir: Path) -> dict[str, list[str]]:
    """Check a lab folder before anything is written: every file present, templates with ``[S]``,
    facts readable, files unchanged since ``lab.json``; return the templates.

    Parameters
    ----------
    corpus_dir : Path
        The lab folder.

    Returns
    -------
    dict of str to list of str
        The templates by relation.

    Raises
    ------
    SmiError
        When a file is missing, invalid or changed.
    """
    from smi import probing, release

    corpus_dir = lab_corpus.check_corpus_dir(corpus_dir)
    facts = probing.load_probe_facts(corpus_dir / "facts.json")
    found = {}
    for name in ("templates.json", "unseen_templates.json"):
        found[name] = release.load_templates(corpus_dir / name)
        probing.check_templates_cover(facts, found[name], corpus_dir / "facts.json", corpus_dir / name)
    lab_corpus.corpus_fingerprint(corpus_dir)
    return found["templates.json"]


def counts_agreement(counts: pd.DataFrame, truth: pd.DataFrame) -> list[int]:
    """How many facts ``smi count`` counted exactly as the generator wrote them down, of how many.

    Parameters
    ----------
    counts : pandas.DataFrame
        ``smi count``'s table of the corpus (``idx``, ``time_subj``, ``time_obj``, ``time_s1j1``).
    truth : pandas.DataFrame
        The corpus's ``truth.csv`` (``idx``, ``subj_docs``, ``obj_docs``, ``both_docs``).

    Returns
    -------
    list of int
        ``[agreeing facts, facts in the truth]``.
    """
    both = truth.merge(counts, on="idx", how="left")
    agree = (
        (both["time_subj"] == both["subj_docs"])
        & (both["time_obj"] == both["obj_docs"])
        & (both["time_s1j1"] == both["both_docs"])
    )
    return [int(agree.sum()), len(truth)]


def count_lab_corpus(corpus_dir: Path, out: Path) -> pd.DataFrame:
    """``smi count --triples corpus/facts.json --out counts.csv corpus/corpus.jsonl``; returns the table.

    Parameters
    ----------
    corpus_dir : Path
        The lab folder.
    out : Path
        The counts table written.

    Returns
    -------
    pandas.DataFrame
        The per-fact counts.

    Raises
    ------
    SmiError
        When counting fails on invalid input.
    """
    from smi import counting

    triples = formats.read_facts(Path(corpus_dir) / "facts.json")
    counting.check_output_writable(out, triples)
    work_dir = counting.default_work_dir(out)
    with counting.output_lock(out):  # as `smi count` does: one writer, its own shard files removed after
        result = counting.count_corpus(triples, [str(Path(corpus_dir) / "corpus.jsonl")], work_dir, progress=False)
        counting.write_counts(result, out)
        counting.clean_work_dir(work_dir, result.shard_files)
    return result.table


def probe_size(
    model_dir: Path,
    model_key: str,
    facts: pd.DataFrame,
    templates: dict[str, list[str]],
    options: ProbeOptions,
    seed: int,
    out: Path,
    device: str,
    progress: bool,
) -> list[dict]:
    """``smi probe --counts`` of one trained model into ``out``; a partial file of the same inputs resumes.

    Parameters
    ----------
    model_dir : Path
        The trained model's folder.
    model_key : str
        The model's training key, labelling the probe.
    facts : pandas.DataFrame
        The facts with their counts.
    templates : dict of str to list of str
        Templates by relation.
    options : ProbeOptions
        Samples, temperature, tokens and batch size.
    seed : int
        The probe's seed.
    out : Path
        The probe output.
    device : str
        Where the model runs.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of dict
        One record per fact (:func:`smi.probing.probe`).
    """
    from smi import probing

    settings = probing.ProbeSettings(
        samples=options.samples, temperature=options.temperature, max_new_tokens=options.max_new_tokens, seed=seed
    )
    model_label = f"{model_dir.name}@{model_key[:16]}"
    # probe() keys its partial file on the facts, templates, weights and settings: it resumes or sets it aside
    generator = probing.load_transformers_generator(model_dir, settings, options.batch_size, device)
    return probing.probe(
        facts, templates, generator, settings, out, model=model_label, chunk_facts=64, progress=progress
    )


def accuracy_frame(records: list[dict] | pd.DataFrame, size: str, parameters: int) -> pd.DataFrame:
    """A probe output as rows of the long frame :mod:`smi.prediction` fits on (model, corpus, series,
    parameters, …).

    Parameters
    ----------
    records : list of dict or pandas.DataFrame
        Probe records with counts.
    size : str
        The model size, used as the model's name.
    parameters : int
        Its parameter count.

    Returns
    -------
    pandas.DataFrame
        One row per fact.
    """
    frame = pd.DataFrame(records).copy()
    frame.insert(0, "model", size)
    frame["corpus"] = SERIES
    frame["series"] = SERIES
    frame["parameters"] = int(parameters)
    return frame


def predict_before_training(
    small: list[pd.DataFrame], counts: pd.DataFrame, parameters: int, gbm_iterations: int, seed: int
) -> pd.DataFrame:
    """Fit :mod:`smi.prediction`'s predictors on the smaller sizes' accuracies; predict every fact of a
    model of ``parameters`` parameters trained on the corpus of ``counts``. Columns idx, subj, rel, obj,
    ``predicted`` (the ``best`` predictor) and one ``pred_<name>`` per predictor.

    Parameters
    ----------
    small : list of pandas.DataFrame
        :func:`accuracy_frame` of each smaller size.
    counts : pandas.DataFrame
        The corpus's per-fact counts.
    parameters : int
        The parameter count of the model predicted.
    gbm_iterations : int
        Boosting iterations of the gradient-boosted predictor.
    seed : int
        Seed of the fits.

    Returns
    -------
    pandas.DataFrame
        One row per fact with the columns above.
    """
    import warnings

    from smi import prediction

    training = pd.concat(small, ignore_index=True)
    with warnings.catch_warnings():
        # the GLM's design is rank-deficient when a question feature is constant over the lab's facts
        # (e.g. no answer written in a subject's name); statsmodels then warns and fits the minimum-norm solution
        warnings.simplefilter("ignore")
        fitted = prediction.fit_predictors(training, "model", gbm_iterations, seed)
        predicted = prediction.predict_model(fitted, counts, float(parameters), "counts.csv")
    facts = counts[["idx", "subj", "rel", "obj"]].reset_index(drop=True)
    frame = pd.concat([facts, predicted.reset_index(drop=True)], axis=1)
    frame.insert(4, "predicted", frame["pred_best"])
    return frame


def write_csv(frame: pd.DataFrame, path: Path, float_format: str = "%.6g") -> Path:
    """A table written atomically as CSV.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    path : Path
        The CSV file.
    float_format : str
        How floats are written.

    Returns
    -------
    Path
        ``path``.
    """
    with atomic_output(path) as temporary:
        frame.to_csv(temporary, index=False, float_format=float_format)
    return path


def write_json(value, path: Path) -> Path:
    """A JSON value written atomically.

    Parameters
    ----------
    value : object
        A JSON-serialisable value.
    path : Path
        The JSON file.

    Returns
    -------
    Path
        ``path``.
    """
    with atomic_output(path) as temporary:
        temporary.write_text(json.dumps(value, indent=1, default=_plain) + "\n", encoding="utf-8")
    return path


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def planned_parameters(corpus_dir: Path, size: str, seed: int) -> int:
    """Parameters the model of ``size`` will have on this corpus (its vocabulary sets the embeddings),
    known before training: the initial model is built in a temporary folder and counted.

    Parameters
    ----------
    corpus_dir : Path
        The lab folder.
    size : str
        The model size.
    seed : int
        Seed of the initial model.

    Returns
    -------
    int
        The parameter count.
    """
    from transformers import AutoModelForCausalLM

    from smi.lab import tokenizer as lab_tokenizer

    spec = train.model_size(size)
    with tempfile.TemporaryDirectory() as folder:
        lab_tokenizer.save_initial_model(corpus_dir, Path(folder), spec.hidden, spec.layers, seed)
        return train.parameter_count(AutoModelForCausalLM.from_pretrained(folder))


# --------------------------------------------------------------------------- the whole loop


@dataclass
class LabResult:
    """Where the outputs are and the numbers of ``summary.json``."""

    out_dir: Path
    summary: dict
    acquisition: pd.DataFrame
    prediction: pd.DataFrame


def run_lab(
    out_dir: Path,
    settings: LabSettings = LabSettings(),
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
    settings : LabSettings
        Corpus, sizes, training and probing settings.
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

    if threads is not None and threads < 1:
        raise ParameterValueError("threads", f"must be at least 1 (got {threads})")
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _run_lab(out_dir, settings, device, corpus_dir, progress, log)
    finally:
        torch.set_num_threads(before)


def seed_folder(out_dir: Path, index: int, seed: int) -> Path:
    """Where seed number ``index`` (seed value ``seed``) of a run keeps its corpus, models and probes.

    The first seed uses the run's folder itself (so ``smi fit --outputs DIR/probe`` reads it),
    the others ``DIR/seeds/SEED``.

    Parameters
    ----------
    out_dir : Path
        The run's folder.
    index : int
        The seed's position, from 0.
    seed : int
        The seed's value.

    Returns
    -------
    Path
        The folder.
    """
    return Path(out_dir) if index == 0 else Path(out_dir) / "seeds" / str(seed)


def _corpus_pools(corpus_path: Path, facts: pd.DataFrame) -> dict[str, list[str]]:
    """The candidate pools: the design's (``lab.json``) when it records them, else the facts' objects."""
    from smi.probing import ranking

    pools = lab_corpus.read_meta(corpus_path).get("pools")
    found = ranking.object_pools(facts)
    if isinstance(pools, dict):
        return {rel: sorted(pools[rel]) for rel in found if rel in pools} | {
            rel: pool for rel, pool in found.items() if rel not in pools
        }
    return found


def _run_lab(
    out_dir: Path, settings: LabSettings, device: str, corpus_dir: Path | None, progress: bool, log
) -> LabResult:
    from smi import probing

    say = log or (lambda *_: None)
    check_sizes(settings.sizes)
    train.quiet_transformers()
    device = probing.resolve_device(device)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterValueError("out_dir", "must be a folder, and this is a file", out_dir)
    if corpus_dir is not None:
        check_lab_corpus(corpus_dir)
        if settings.seeds > 1:
            raise ParameterValueError("seeds", "must be 1 with a given corpus (each seed draws its own corpus)")
    check_writable(out_dir / "summary.json")
    with output_lock(out_dir, COMMAND):  # a second run into this folder stops here
        for name in TOP_FILES:  # what a killed run into this folder left
            remove_orphaned_temporaries(out_dir / name, COMMAND)
        return _run_lab_locked(out_dir, settings, device, corpus_dir, progress, say)


def _run_lab_locked(
    out_dir: Path, settings: LabSettings, device: str, corpus_dir: Path | None, progress: bool, say
) -> LabResult:
    """:func:`run_lab`'s stages, holding the output folder's lock."""
    from smi import metrics, probing, regression, release
    from smi.files import frame_sha256
    from smi.lab import bootstrap, chance, experiment

    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        timings[name] = round(time.perf_counter() - since, 2)
        return time.perf_counter()

    ordered = sorted(settings.sizes, key=list(train.SIZES).index)
    largest = ordered[-1]
    seeds = [settings.seed + index for index in range(settings.seeds)]
    state: list[dict] = []
    clock = time.perf_counter()
    for index, seed in enumerate(seeds):
        folder = seed_folder(out_dir, index, seed)
        corpus_settings = replace(settings.corpus, seed=seed)
        corpus_path = prepare_corpus(folder, corpus_settings, corpus_dir if index == 0 else None)
        templates = check_lab_corpus(corpus_path)
        unseen_templates = release.load_templates(corpus_path / "unseen_templates.json")
        facts = probing.load_probe_facts(corpus_path / "facts.json")
        counts = count_lab_corpus(corpus_path, folder / "counts.csv")
        by_idx = counts.set_index("idx")[list(COUNT_FIELDS)]
        with_counts = probing.attach_counts(facts, by_idx, folder / "counts.csv")
        control = chance.shuffled_subject_facts(with_counts, seed).drop(columns="true_subj")
        try:
            run_state = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            run_state = {}
        state.append(
            {
                "seed": seed,
                "folder": folder,
                "corpus": corpus_path,
                "templates": templates,
                "unseen": unseen_templates,
                "facts": facts,
                "counts": counts,
                "with_counts": with_counts,
                "control": control,
                "truth": lab_corpus.read_truth(corpus_path),
                "pools": _corpus_pools(corpus_path, facts),
                "run_state": run_state if isinstance(run_state, dict) else {},
            }
        )
        say(f"seed {seed}: corpus {corpus_path} ({len(facts)} facts), counts {folder / 'counts.csv'}")
    clock = lap("corpus_and_count", clock)

    def job(index: int, size: str) -> dict:
        entry = state[index]
        keys = entry["run_state"].get("probe_keys", {})
        tasks = [
            ("probe", entry["with_counts"], entry["templates"]),
            ("probe_control", entry["control"], entry["templates"]),
        ]
        if size == largest:
            tasks.append(("probe_unseen", entry["with_counts"], entry["unseen"]))
        probes = []
        for folder_name, facts, prompts in tasks:
            key = experiment.probe_key(
                [
                    lab_code_sha256(),
                    settings.protocol,
                    asdict(settings.probe),
                    entry["seed"],
                    prompts,
                    frame_sha256(facts),
                    entry["pools"],
                ]
            )
            probes.append(
                {
                    "name": f"{folder_name}/{size}",
                    "out": str(entry["folder"] / folder_name / f"{size}.json"),
                    "facts": facts.to_dict("records"),
                    "templates": prompts,
                    "pools": entry["pools"],
                    "key": key,
                    "reuse": keys.get(f"{folder_name}/{size}"),
                }
            )
        return {
            "seed_index": index,
            "size": size,
            "corpus_dir": str(entry["corpus"]),
            "model_dir": str(entry["folder"] / "models" / size),
            "training": asdict(replace(settings.training, seed=entry["seed"])),
            "device": device,
            "protocol": settings.protocol,
            "probe": asdict(settings.probe),
            "probe_seed": entry["seed"],
            "probes": probes,
        }

    results: dict[tuple[int, str], dict] = {}

    def record(result: dict) -> None:
        results[(result["seed_index"], result["size"])] = result
        entry = state[result["seed_index"]]
        keys = entry["run_state"].setdefault("probe_keys", {})
        for name, output in result["outputs"].items():
            keys[name] = output["key"]
        write_json(entry["run_state"], entry["folder"] / "run.json")
        acc = np.mean([r["acc"] for r in result["outputs"][f"probe/{result['size']}"]["records"]])
        train_info = result["train"]
        say(
            f"seed {entry['seed']} {result['size']}: {train_info['parameters']:,} parameters, loss "
            f"{train_info['final_loss']:.3f}, {train_info['tokens_per_second']:,.0f} tokens/s"
            f"{' (reused)' if train_info['reused'] else ''}, mean accuracy {acc:.3f}"
        )

    def frame_of(index: int, size: str, name: str = "probe") -> pd.DataFrame:
        result = results[(index, size)]
        return accuracy_frame(result["outputs"][f"{name}/{size}"]["records"], size, result["train"]["parameters"])

    predicted_holder: dict = {}

    def predict(_first: list[dict]) -> list[dict]:
        entry = state[0]
        run_state = entry["run_state"]
        parameters = planned_parameters(entry["corpus"], largest, settings.seed)
        predicted_path = out_dir / "predicted_before_training.csv"
        small_keys = [run_state.get("probe_keys", {}).get(f"probe/{s}") for s in ordered[:-1]]
        counts_sha = _sha256_text(entry["counts"].to_csv(index=False))
        key = _sha256_text(
            json.dumps([lab_code_sha256(), small_keys, parameters, settings.gbm_iterations, settings.seed, counts_sha])
        )
        made = run_state.get("prediction") or {}
        if made.get("key") != key or not predicted_path.is_file():
            fresh = predict_before_training(
                [frame_of(0, s) for s in ordered[:-1]],
                entry["counts"],
                parameters,
                settings.gbm_iterations,
                settings.seed,
            )
            write_csv(fresh, predicted_path, float_format="%.10g")
            existed = (out_dir / "models" / largest / train.TRAIN_RECORD).is_file()
            run_state["prediction"] = {
                "key": key,
                "made_at": time.time(),
                "largest_already_trained": existed,
                "fitted_on": list(ordered[:-1]),
                "parameters": parameters,
            }
            write_json(run_state, out_dir / "run.json")
        predicted_holder["frame"] = pd.read_csv(predicted_path, keep_default_na=False, na_values=[""])
        say(f"prediction before training: {predicted_path} (mean {predicted_holder['frame']['predicted'].mean():.3f})")
        return [job(0, largest)]

    first = [job(0, size) for size in ordered[:-1]]
    rest = [job(index, size) for size in reversed(ordered) for index in range(1, len(seeds))]
    experiment.run_jobs(first, predict, rest, settings.jobs, record)
    clock = lap("train_and_probe", clock)

    # tables of the first seed, as before: models.csv, the fit, prediction.csv
    models = pd.DataFrame(
        [
            {"name": s, "series": SERIES, "parameters": results[(0, s)]["train"]["parameters"], "corpus": SERIES}
            for s in ordered
        ]
    )
    write_csv(models, out_dir / "models.csv")
    for index in range(1, len(seeds)):
        rows = [
            {"name": s, "series": SERIES, "parameters": results[(index, s)]["train"]["parameters"], "corpus": SERIES}
            for s in ordered
        ]
        write_csv(pd.DataFrame(rows), state[index]["folder"] / "models.csv")
    models = formats.load_models(out_dir / "models.csv")
    bucketed, per_fact = regression.fit_release(out_dir, models, outputs=out_dir / "probe")
    regression.write_fit_outputs(bucketed, per_fact, out_dir)

    # every seed's accuracies with chance, the truth's knobs and the counts
    parts = []
    for index, entry in enumerate(state):
        truth = entry["truth"]
        knobs = truth.copy()
        if "k" not in knobs.columns:
            knobs["k"] = knobs["stated_docs"]
        knobs["prior_chance"] = chance.prior_chance(entry["facts"], truth["stated_docs"])
        counts = entry["counts"].set_index("idx").reindex(truth["idx"]).reset_index()
        knobs["mi"] = metrics.mutual_information(counts).to_numpy()
        knobs["cooccur"] = counts["time_s1j1"].to_numpy()
        knobs["baseline"] = knobs["prior_chance"]
        for size in ordered:
            main = frame_of(index, size)
            control = frame_of(index, size, "probe_control")[["idx", "acc"]].rename(columns={"acc": "chance_acc"})
            columns = ["model", "parameters", "idx", "acc"] + [c for c in ("p_true", "rank") if c in main.columns]
            part = main[columns].rename(columns={"model": "size"}).merge(control, on="idx", how="left")
            part.insert(0, "seed", entry["seed"])
            parts.append(part.merge(knobs, on="idx", how="left"))
    accuracies = pd.concat(parts, ignore_index=True)
    accuracies["rank1_acc"] = accuracies["acc"]
    write_csv(accuracies, out_dir / "accuracies.csv")
    acquisition = acquisition_with_chance(accuracies)
    write_csv(acquisition, out_dir / "acquisition.csv")
    arms = None
    if all(column in accuracies.columns for column in bootstrap.ARM_LEVEL_COLUMNS.values()):
        arms = bootstrap.arm_table(accuracies, settings.bootstrap, settings.seed)
        write_csv(arms, out_dir / "arms.csv")

    predicted = predicted_holder["frame"]
    measured = frame_of(0, largest)[["idx", "acc"]].rename(columns={"acc": "measured"})
    prediction_frame = predicted.merge(measured, on="idx", how="left")
    predictor_columns = [c for c in prediction_frame.columns if c.startswith("pred_")]
    prediction_frame = prediction_frame[PREDICTION_COLUMNS + predictor_columns]
    write_csv(prediction_frame, out_dir / "prediction.csv")
    clock = lap("fit_and_tables", clock)

    first_seed = accuracies[accuracies["seed"] == settings.seed]
    summary = summarise(
        first_seed, analysis.acquisition_table(first_seed), bucketed, per_fact, prediction_frame, largest, settings
    )
    summary["headline"] = bootstrap.headline(accuracies, largest, n_boot=settings.bootstrap, random_seed=settings.seed)
    summary["counts_equal_truth"] = {
        str(entry["seed"]): counts_agreement(entry["counts"], entry["truth"]) for entry in state
    }
    if arms is not None:
        summary["arms_all_k"] = arms[arms["k"] == "all"].to_dict(orient="records")
        summary["mi_not_positive"] = {
            size: int((frame["mi"] <= 0).sum()) for size, frame in accuracies.groupby("size", sort=False)
        }
    timings["total"] = round(time.perf_counter() - started, 2)
    summary.update(
        {
            "training": {f"{seeds[i]}/{s}": results[(i, s)]["train"] for i in range(len(seeds)) for s in ordered},
            "timings_s": timings,
            "threads": 1,
            "jobs": settings.jobs,
            "load_average_at_end": list(os.getloadavg()),
            "device": device,
            "settings": asdict(settings),
            "seeds": seeds,
            "corpus_dir": str(state[0]["corpus"]),
            "prediction_made": state[0]["run_state"].get("prediction"),
        }
    )
    write_json(summary, out_dir / "summary.json")
    say(f"done in {summary['timings_s']['total']:.0f} s: {out_dir / 'summary.json'}")
    return LabResult(out_dir, summary, acquisition, prediction_frame)


ACQUISITION_CHANCE_COLUMNS = [
    "seed",
    "size",
    "parameters",
    "exposure_min",
    "exposure_max",
    "n_facts",
    "mean_acc",
    "rank1_acc",
    "chance_acc",
    "prior_chance",
    "baseline_acc",
    "p_true",
]


def acquisition_with_chance(accuracies: pd.DataFrame) -> pd.DataFrame:
    """One row per seed, size and exposure bucket: accuracy next to both chances (:mod:`smi.lab.chance`).

    Parameters
    ----------
    accuracies : pandas.DataFrame
        One row per (seed, size, fact) with ``k``, ``acc``, ``chance_acc``, ``prior_chance`` (and ``p_true``).

    Returns
    -------
    pandas.DataFrame
        :data:`ACQUISITION_CHANCE_COLUMNS`; ``mean_acc`` = ``rank1_acc`` is the mean accuracy,
        ``chance_acc`` the mean shuffled-subject accuracy, ``prior_chance`` (= ``baseline_acc``) the
        mean prior chance.

    Notes
    -----
    Buckets are :func:`smi.lab.analysis.bucket_edges` of ``k`` over every seed's facts.
    """
    edges = analysis.bucket_edges(accuracies["k"].to_numpy())
    frame = accuracies.assign(bucket=analysis.exposure_bucket(accuracies["k"], edges))
    rows = []
    for (seed, size, parameters, bucket), facts in frame.groupby(["seed", "size", "parameters", "bucket"], sort=False):
        high = edges[bucket + 1] - 1 if bucket + 1 < len(edges) else int(facts["k"].max())
        rows.append(
            {
                "seed": int(seed),
                "size": size,
                "parameters": int(parameters),
                "exposure_min": edges[bucket],
                "exposure_max": high,
                "n_facts": len(facts),
                "mean_acc": float(facts["acc"].mean()),
                "rank1_acc": float(facts["acc"].mean()),
                "chance_acc": float(facts["chance_acc"].mean()),
                "prior_chance": float(facts["prior_chance"].mean()),
                "baseline_acc": float(facts["prior_chance"].mean()),
                "p_true": float(facts["p_true"].mean()) if "p_true" in facts else float("nan"),
            }
        )
    table = pd.DataFrame(rows, columns=ACQUISITION_CHANCE_COLUMNS)
    return table.sort_values(["seed", "parameters", "exposure_min"], kind="stable").reset_index(drop=True)


def load_lab(out_dir: Path) -> dict:
    """Read a finished ``smi lab run`` folder: every table the notebook needs, checked to be there.

    Returns a dict with ``summary``, ``corpus_dir``, ``truth``, ``facts``, ``counts``,
    ``models``, ``accuracies`` (the first seed: one row per size and fact, with the truth's knobs and
    the guessing baseline), ``acquisition`` (every seed), ``prediction``, ``bucketed``, ``per_fact``,
    ``unseen`` (the largest size on prompts no document uses, with its exposure), and, from runs
    with seeds, ``every_seed`` (``accuracies.csv``: one row per seed, size and fact with
    ``rank1_acc``, ``p_true``, ``chance_acc``, ``prior_chance``, ``k``, ``mi``, ``cooccur`` and the
    arms' levels), ``arms`` (``arms.csv``, :func:`smi.lab.bootstrap.arm_table`) and ``headline``
    (:func:`smi.lab.bootstrap.headline`); these three are None for older runs.

    Parameters
    ----------
    out_dir : Path
        The run's folder.

    Returns
    -------
    dict
        The tables listed above.

    Raises
    ------
    SmiError
        When the folder is not a finished lab run.
    """
    from smi import probing

    out_dir = Path(out_dir)
    needed = [
        "summary.json",
        "counts.csv",
        "models.csv",
        "acquisition.csv",
        "prediction.csv",
        "r2_bucketed.csv",
        "r2_per_fact.csv",
    ]
    missing = [name for name in needed if not (out_dir / name).is_file()]
    if missing:
        raise SmiError(f"{out_dir}: not a finished lab run, no {missing[0]} (run `smi lab run --out {out_dir}`)")
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    corpus_dir = Path(summary["corpus_dir"])
    if not corpus_dir.is_absolute() and not corpus_dir.is_dir():
        corpus_dir = out_dir / "corpus"
    lab_corpus.check_corpus_dir(corpus_dir)
    truth = lab_corpus.read_truth(corpus_dir)
    facts = probing.load_probe_facts(corpus_dir / "facts.json")
    temperature = summary["settings"]["probe"]["temperature"]
    knobs = truth.assign(baseline=lab_corpus.guessing_baseline(truth, facts, temperature).to_numpy())
    models = pd.read_csv(out_dir / "models.csv")
    frames = []
    for model in models.itertuples(index=False):
        frame = probing.load_probe_output(out_dir / "probe" / f"{model.name}.json")[["idx", "acc"]]
        frames.append(frame.assign(size=model.name, parameters=int(model.parameters)))
    accuracies = pd.concat(frames, ignore_index=True).merge(knobs, on="idx", how="left")
    largest = models["name"].iloc[-1]
    unseen_path = out_dir / "probe_unseen" / f"{largest}.json"
    unseen = None
    if unseen_path.is_file():
        unseen = probing.load_probe_output(unseen_path)[["idx", "acc"]].assign(size=largest)
        unseen = unseen.merge(knobs, on="idx", how="left")
    every_seed = pd.read_csv(out_dir / "accuracies.csv") if (out_dir / "accuracies.csv").is_file() else None
    arms = pd.read_csv(out_dir / "arms.csv", dtype={"k": str}) if (out_dir / "arms.csv").is_file() else None
    return {
        "every_seed": every_seed,
        "arms": arms,
        "headline": summary.get("headline"),
        "out_dir": out_dir,
        "summary": summary,
        "corpus_dir": corpus_dir,
        "truth": truth,
        "facts": facts,
        "counts": pd.read_csv(out_dir / "counts.csv", keep_default_na=False),
        "models": models,
        "accuracies": accuracies,
        "acquisition": pd.read_csv(out_dir / "acquisition.csv"),
        "prediction": pd.read_csv(out_dir / "prediction.csv"),
        "bucketed": pd.read_csv(out_dir / "r2_bucketed.csv"),
        "per_fact": pd.read_csv(out_dir / "r2_per_fact.csv"),
        "unseen": unseen,
    }


def _threads() -> int:
    import torch

    return int(torch.get_num_threads())


def summarise(
    accuracies: pd.DataFrame,
    acquisition: pd.DataFrame,
    bucketed: pd.DataFrame,
    per_fact: pd.DataFrame,
    prediction_frame: pd.DataFrame,
    largest: str,
    settings: LabSettings,
) -> dict:
    """The numbers the issue asks for: learning checks of the largest size, R² table, prediction scores.

    Parameters
    ----------
    accuracies : pandas.DataFrame
        One row per (size, fact).
    acquisition : pandas.DataFrame
        :func:`smi.lab.analysis.acquisition_table`'s output.
    bucketed, per_fact : pandas.DataFrame
        The R² tables of every size and method.
    prediction_frame : pandas.DataFrame
        :func:`predict_before_training`'s output joined with the largest size's accuracies.
    largest : str
        The largest size.
    settings : LabSettings
        The run's settings.

    Returns
    -------
    dict
        A JSON-serialisable summary.
    """
    from smi import prediction

    checks = analysis.learning_checks(accuracies, acquisition, largest)
    names = [c for c in prediction_frame.columns if c.startswith("pred_")]
    scores = prediction.bootstrap_summary(
        prediction_frame["measured"].to_numpy(),
        {name[5:]: prediction_frame[name].to_numpy() for name in names},
        n_boot=settings.bootstrap,
        seed=settings.seed,
    )
    keep = ["predictor", "r2", "r2_lo", "r2_hi", "r2_bucketed", "spearman", "mean_acc", "mean_pred", "mean_error"]
    r2 = bucketed.pivot(index="model", columns="method", values="r2")
    r2_fact = per_fact.pivot(index="model", columns="method", values="r2")
    return {
        "learning": checks,
        "mean_acc": accuracies.groupby("size", sort=False)["acc"].mean().to_dict(),
        "r2_bucketed": {model: row.to_dict() for model, row in r2.iterrows()},
        "r2_per_fact": {model: row.to_dict() for model, row in r2_fact.iterrows()},
        "upper_bound_smi": bucketed[bucketed["method"] == "SMI"].set_index("model")["upper_bound"].to_dict(),
        "prediction": scores[keep].to_dict(orient="records"),
    }
