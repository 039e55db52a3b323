"""Synthetic models with a known accuracy law, in memory or written out as a small release folder.

Shared by the prediction tests: :func:`synthetic_accuracies` builds the long accuracy frame that
:func:`smi.release.load_accuracies` returns; :func:`write_release` writes it as per-model files and a
models table that ``smi evaluate --release DIR --models-table DIR/models.csv`` reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

RELATION_OFFSETS = {"capital": 0.8, "born": -0.6, "plays": 0.0}
CORPUS_DOCS = {"alpha": 2e6, "beta": 3e7, "gamma": 4e8, "delta": 9e9}


def true_accuracy(
    p_obj_given_subj: np.ndarray, relation_offset: np.ndarray, copyable: np.ndarray, parameters: float
) -> np.ndarray:
    """The synthetic law.

    a = σ(1.5 + 1.2 log10 p(o|s) + offset(relation) + 1.5 [answer in subject] + 0.5 (log10 P − 9))
    """
    return special.expit(
        1.5 + 1.2 * np.log10(p_obj_given_subj) + relation_offset + 1.5 * copyable + 0.5 * (np.log10(parameters) - 9)
    )


def synthetic_accuracies(n_facts: int = 400, seed: int = 0, corpora: dict[str, float] | None = None) -> pd.DataFrame:
    """Two models on each corpus (default: four corpora of very different sizes) whose accuracy follows
    :func:`true_accuracy`.

    Each fact has a corpus-independent conditional share p(o|s); each corpus sees the
    subject a number of times proportional to its size, so raw counts differ by 4
    orders of magnitude while p(o|s) is shared. A quarter of the facts have their
    answer written inside the subject's name, which no count shows. Accuracy is the
    share of 400 sampled answers.
    """
    corpora = CORPUS_DOCS if corpora is None else corpora
    rng = np.random.default_rng(seed)
    relation = rng.choice(list(RELATION_OFFSETS), n_facts)
    answer = np.array([f"Place{number}" for number in rng.integers(0, 60, n_facts)])
    copyable = rng.uniform(size=n_facts) < 0.25
    subject = np.where(
        copyable, np.char.add("University of ", answer), np.char.add("Person ", np.arange(n_facts).astype(str))
    )
    share = 10 ** rng.uniform(-3, 0, n_facts)  # p(o|s)
    subject_rate = 10 ** rng.uniform(-6, -3, n_facts)
    object_rate = 10 ** rng.uniform(-3, -1.5, n_facts)
    frames = []
    for number, (corpus, n_docs) in enumerate(corpora.items()):
        n_subj = rng.poisson(subject_rate * n_docs) + 20
        n_joint = rng.binomial(n_subj, share)
        n_obj = np.maximum(rng.poisson(object_rate * n_docs), n_joint) + 1
        for parameters in (1e8 * 3**number, 3e9 * 2**number):
            truth = true_accuracy(
                np.maximum(n_joint, 0.5) / n_subj, np.vectorize(RELATION_OFFSETS.get)(relation), copyable, parameters
            )
            frames.append(
                pd.DataFrame(
                    {
                        "model": f"{corpus}-{parameters:.0e}",
                        "series": corpus,
                        "parameters": int(parameters),
                        "corpus": corpus,
                        "idx": np.arange(n_facts),
                        "subj": subject,
                        "rel": relation,
                        "obj": answer,
                        "acc": rng.binomial(400, truth) / 400,
                        "truth": truth,
                        "time_seqs": int(n_docs),
                        "time_subj": n_subj,
                        "time_obj": n_obj,
                        "time_s1j1": n_joint,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def write_release(accuracies: pd.DataFrame, folder: Path) -> Path:
    """Write ``accuracies`` as a release folder: ``infer/merge_outputs/<model>.json`` per model (the
    release's fields, the four 2×2 cells derived from the counts) and ``models.csv`` (name, series,
    parameters, corpus). Returns the models table's path."""
    folder = Path(folder)
    outputs = folder / "infer" / "merge_outputs"
    outputs.mkdir(parents=True, exist_ok=True)
    for model, rows in accuracies.groupby("model", sort=False):
        records = []
        for row in rows.itertuples(index=False):
            seqs, subj, obj, joint = (int(row.time_seqs), int(row.time_subj), int(row.time_obj), int(row.time_s1j1))
            records.append(
                {
                    "idx": int(row.idx),
                    "subj": str(row.subj),
                    "rel": str(row.rel),
                    "obj": str(row.obj),
                    "qus": f"{row.subj} {row.rel}",
                    "time_seqs": seqs,
                    "time_subj": subj,
                    "time_obj": obj,
                    "time_s1j1": joint,
                    "time_s1j0": subj - joint,
                    "time_s0j1": obj - joint,
                    "time_s0j0": seqs - subj - obj + joint,
                    "acc": float(row.acc),
                }
            )
        (outputs / f"{model}.json").write_text(json.dumps(records))
    table = accuracies.groupby("model", sort=False).first().reset_index()[["model", "series", "parameters", "corpus"]]
    path = folder / "models.csv"
    table.rename(columns={"model": "name"}).to_csv(path, index=False)
    return path


def predict_argv(release, table, counts, out, params="3e9", iterations: int = 10) -> list:
    """The arguments of an ``smi predict`` of ``counts`` at ``params`` with the release's models table."""
    return [
        "predict",
        "--counts",
        counts,
        "--params",
        params,
        "--release",
        release,
        "--models-table",
        table,
        "--gbm-iterations",
        str(iterations),
        "--out",
        out,
    ]


def run_cli_quietly(argv: list[str]) -> None:
    """Run ``smi`` with ``argv`` in this process, output discarded, one thread; exit with its status.

    The target of the processes that the fault-injection tests kill (see test_evaluate_kills.py).
    """
    import os
    import sys
    import threading

    from threadpoolctl import threadpool_limits
    from tqdm.auto import tqdm

    from smi.cli import main

    tqdm.set_lock(threading.RLock())  # not tqdm's default semaphore, which a killed process would leak
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        os.dup2(devnull.fileno(), 2)
        with threadpool_limits(1):
            code = main([str(arg) for arg in argv])
    sys.stdout.flush()
    os._exit(code)
