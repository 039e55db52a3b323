"""Run one experiment into a folder: its jobs (resumable), the tidy table, the summary and the figure.

The folder ``OUT`` (made by this command, marked and locked while it runs) holds:

* ``jobs/<key>.json``: each finished (seed, condition) job, reused by a rerun with the same key
  (:func:`smi.lab.experiments.kit.run_jobs`); the holdout experiment keeps the lab's folders instead
  (``lab/``, ``predictions/``: :mod:`smi.lab.experiments.holdout`);
* ``table.csv``: the tidy table of every job (:func:`experiment_module` ``.tidy``);
* ``summary.json``: the analysis with intervals over seeds and verdicts, the settings, the device,
  the code hash and the wall time;
* ``<name>.png`` and ``.pdf``: the figure.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import asdict, replace
from pathlib import Path

from smi.errors import check_one_of, check_scalar
from smi.files import check_replaceable_folder, mark_own_folder, write_csv, write_json
from smi.lab.experiments import EXPERIMENTS, kit
from smi.locks import output_lock

#: The command that makes (and so may replace files in) an experiment folder.
EXPERIMENT_COMMAND = "smi lab experiment"
#: Exposures per fact of the capacity experiment on a GPU (the anchor's 1,000-exposure point).
CUDA_CAPACITY_EXPOSURES = 1000


def experiment_module(name: str):
    """The module of experiment ``name`` (one of :data:`smi.lab.experiments.EXPERIMENTS`)."""
    return importlib.import_module(f"smi.lab.experiments.{check_one_of(name, EXPERIMENTS, 'experiment')}")


def experiment_settings(name: str, quick: bool = False, seeds: int | None = None, seed: int = 0, device: str = "cpu"):
    """The settings of experiment ``name``: its defaults (``quick``: the tests' reduced size), with ``seeds``
    and ``seed`` when given; on ``cuda`` the capacity experiment states each fact 1,000 times."""
    module = experiment_module(name)
    settings = module.quick_settings(seed) if quick else module.default_settings(seed)
    if seeds is not None:
        settings = replace(settings, seeds=seeds)
    if device == "cuda" and name == "capacity" and not quick:
        settings = replace(settings, exposures=CUDA_CAPACITY_EXPOSURES)
    return settings


def run_experiment(
    name: str, out: Path, settings, device: str = "cpu", workers: int = 2, progress: bool = True
) -> dict:
    """Run experiment ``name`` with ``settings`` into the folder ``out``; its summary.

    Parameters
    ----------
    name : str
        The experiment.
    out : Path
        The output folder (module docstring); made when missing, refused when it holds other files.
    settings : dataclass
        The experiment's settings (:func:`experiment_settings`).
    device : {"cpu", "cuda"}
        Where the models train.
    workers : int
        Worker processes of one torch thread each (1 on ``cuda``).
    progress : bool
        A line per finished job on standard error.

    Returns
    -------
    dict
        The summary written to ``summary.json``.
    """
    from smi import probing
    from smi.lab.experiments.figures import plot_experiment

    module = experiment_module(name)
    workers = check_scalar(workers, "workers", "integer", minimum=1, maximum=16)
    device = probing.resolve_device(device)
    if device == "cuda":
        workers = 1
    out = check_replaceable_folder(Path(out), EXPERIMENT_COMMAND, "out")
    out.mkdir(parents=True, exist_ok=True)
    with output_lock(out, EXPERIMENT_COMMAND):
        check_replaceable_folder(out, EXPERIMENT_COMMAND, "out")
        mark_own_folder(out, EXPERIMENT_COMMAND)
        code = kit.experiment_code_sha256(module.__name__)
        began = time.perf_counter()
        if hasattr(module, "run"):  # steps that depend on each other (holdout): the module runs them
            rows = module.run(settings, out, code, device, workers, progress)
        else:
            jobs = [{**job, "device": device} for job in module.jobs(settings)]
            rows = kit.run_jobs(module.run_job, jobs, settings, out / "jobs", code, workers, progress)
        table = module.tidy(rows)
        summary = {
            "experiment": name,
            **module.summarise(table),
            "settings": asdict(settings),
            "device": device,
            "workers": workers,
            "code_sha256": code,
            "seconds": round(time.perf_counter() - began, 1),
        }
        write_csv(table, out / "table.csv")
        write_json(summary, out / "summary.json")
        plot_experiment(name, table, summary, out)
    return summary
