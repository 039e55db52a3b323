"""The stages of a lab run on one seed: its corpus, its counts, the facts to probe, a probe, the prediction.

Each stage calls the library function behind one command and writes that command's output:

* :func:`prepare_corpus` (``smi lab corpus``), checked by :func:`check_lab_corpus`;
* :func:`count_lab_corpus` (``smi count``), compared with the truth by :func:`counts_agreement`;
* :func:`prepare_seed`: the two above for one seed, and the facts with their counts, the
  shuffled-subject control (:mod:`smi.lab.chance`) and the candidate pools its probes use
  (:class:`SeedInputs`);
* :func:`probe_size` (``smi probe --protocol sample``) of one trained model;
* :func:`predict_before_training` (:mod:`smi.prediction`): a model's per-fact accuracy predicted from
  the smaller sizes' :func:`accuracy_frame` and the corpus counts alone.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from smi import formats
from smi.errors import SmiError
from smi.lab import corpus as lab_corpus
from smi.records import COUNT_FIELDS

if TYPE_CHECKING:
    from smi.lab.design import DesignSettings
    from smi.lab.settings import CorpusSettings, ProbeOptions

#: The series and corpus name of the lab's models in the tables :mod:`smi.prediction` and ``smi fit`` read.
SERIES = "lab"
#: The first columns of ``prediction.csv``: each fact, its accuracy predicted before training, and as measured.
BEFORE_TRAINING_COLUMNS = ["idx", "subj", "rel", "obj", "predicted", "measured"]


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


def prepare_corpus(out_dir: Path, settings: DesignSettings | CorpusSettings, corpus_dir: Path | None = None) -> Path:
    """The corpus folder: ``corpus_dir`` when given (checked), else ``DIR/corpus``, generated unless
    the one there was made by this generator version with these settings.

    Parameters
    ----------
    out_dir : Path
        The lab run's folder.
    settings : DesignSettings or CorpusSettings
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
    """``smi count --facts corpus/facts.json --out counts.csv corpus/corpus.jsonl``; returns the table.

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
    with counting.count_lock(out):  # as `smi count` does: one writer, its own shard files removed after
        result = counting.count_corpus(triples, [str(Path(corpus_dir) / "corpus.jsonl")], work_dir, progress=False)
        counting.write_counts(result, out)
        counting.clean_work_dir(work_dir, result.shard_files)
    return result.table


def corpus_pools(corpus_path: Path, facts: pd.DataFrame) -> dict[str, list[str]]:
    """The candidate objects of each relation: the design's pools (``lab.json``) when it records them, else
    the facts' objects (:func:`smi.probing.ranking.object_pools`).

    Parameters
    ----------
    corpus_path : Path
        The lab folder.
    facts : pandas.DataFrame
        Its facts.

    Returns
    -------
    dict of str to list of str
        The pool of each relation.
    """
    from smi.probing import ranking

    pools = lab_corpus.read_meta(corpus_path).get("pools")
    found = ranking.object_pools(facts)
    if isinstance(pools, dict):
        return {rel: sorted(pools[rel]) for rel in found if rel in pools} | {
            rel: pool for rel, pool in found.items() if rel not in pools
        }
    return found


@dataclass
class SeedInputs:
    """One seed's corpus and everything its (seed, size) jobs read: prompts, facts with counts, the control,
    the truth and the candidate pools; ``run_state`` is its folder's ``run.json`` (the keys of reused work)."""

    seed: int
    folder: Path
    corpus: Path
    templates: dict[str, list[str]]
    unseen: dict[str, list[str]]
    facts: pd.DataFrame
    counts: pd.DataFrame
    with_counts: pd.DataFrame
    control: pd.DataFrame
    truth: pd.DataFrame
    pools: dict[str, list[str]]
    run_state: dict = field(default_factory=dict)


def prepare_seed(
    out_dir: Path, index: int, seed: int, corpus_settings: DesignSettings | CorpusSettings, corpus_dir: Path | None
) -> SeedInputs:
    """Seed number ``index`` (value ``seed``) of a run: its corpus (:func:`prepare_corpus`; ``corpus_dir`` for the
    first seed when given), its counts (:func:`count_lab_corpus`) and the facts its probes ask.

    Parameters
    ----------
    out_dir : Path
        The run's folder.
    index : int
        The seed's position, from 0.
    seed : int
        The seed's value (of its corpus and its shuffled-subject control).
    corpus_settings : DesignSettings or CorpusSettings
        The corpus settings (their seed is replaced by ``seed``).
    corpus_dir : Path or None
        An existing lab corpus for the first seed.

    Returns
    -------
    SeedInputs
        The seed's inputs (``run_state`` empty).

    Raises
    ------
    SmiError
        When the corpus is invalid or cannot be written, or counting fails.
    """
    from smi import probing, release
    from smi.lab import chance

    folder = seed_folder(out_dir, index, seed)
    corpus_path = prepare_corpus(folder, replace(corpus_settings, seed=seed), corpus_dir if index == 0 else None)
    templates = check_lab_corpus(corpus_path)
    unseen_templates = release.load_templates(corpus_path / "unseen_templates.json")
    facts = probing.load_probe_facts(corpus_path / "facts.json")
    counts = count_lab_corpus(corpus_path, folder / "counts.csv")
    by_idx = counts.set_index("idx")[list(COUNT_FIELDS)]
    with_counts = probing.attach_counts(facts, by_idx, folder / "counts.csv")
    control = chance.shuffled_subject_facts(with_counts, seed).drop(columns="true_subj")
    return SeedInputs(
        seed,
        folder,
        corpus_path,
        templates,
        unseen_templates,
        facts,
        counts,
        with_counts,
        control,
        lab_corpus.read_truth(corpus_path),
        corpus_pools(corpus_path, facts),
    )


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
