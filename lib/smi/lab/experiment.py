r"""Seeds and sizes as parallel single-thread jobs: train, probe, probe the shuffled-subject control.

:func:`run_jobs` runs one job per (seed, size) (:func:`run_job`: train the model, then
probe it on the seen prompts, on the shuffled-subject control and, for the largest size,
on the unseen prompts) in ``jobs`` worker processes, each with one torch thread. A job's
result depends only on its inputs (the training key of :mod:`smi.lab.train`, the probe
key below), never on which worker ran it or when, so the scheduling cannot change the
numbers. The order in which jobs are handed out is chosen for the wall clock only:
the smaller sizes of the first seed first (the prediction before training needs them),
then the largest sizes, then the rest.

:func:`make_job` writes a job down from one seed's inputs (:class:`smi.lab.stages.SeedInputs`): a plain
dict, so a worker process receives it whole. A probe output is reused when ``run.json`` of its seed
folder records the same key: SHA-256 (:func:`smi.hashing.json_sha256`) of
:func:`smi.lab.run.lab_code_sha256`, the model's training key and files' SHA-256, the protocol and
its options, the prompts, the facts (counts included) and the candidate pools.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from smi.hashing import frame_sha256, json_sha256

if TYPE_CHECKING:
    from smi.lab.settings import LabSettings
    from smi.lab.stages import SeedInputs


def make_job(
    entry: SeedInputs, index: int, size: str, largest: bool, settings: LabSettings, device: str, code: str
) -> dict:
    """The (seed, size) job :func:`train_and_probe` runs: train ``size`` on the seed's corpus, probe it on the
    seen prompts and the shuffled-subject control, and, for the largest size, on the unseen prompts.

    Parameters
    ----------
    entry : SeedInputs
        The seed's inputs (its ``run_state`` gives the keys of outputs that may be reused).
    index : int
        The seed's position, from 0.
    size : str
        The model size's name.
    largest : bool
        Whether ``size`` is the run's largest (probed on the unseen prompts too).
    settings : LabSettings
        The run's training, protocol and probe settings.
    device : str
        Where the model trains and runs.
    code : str
        :func:`smi.lab.run.lab_code_sha256`, part of every probe key.

    Returns
    -------
    dict
        As :func:`train_and_probe` reads it.
    """
    keys = entry.run_state.get("probe_keys", {})
    tasks = [("probe", entry.with_counts, entry.templates), ("probe_control", entry.control, entry.templates)]
    if largest:
        tasks.append(("probe_unseen", entry.with_counts, entry.unseen))
    probes = []
    for folder_name, facts, prompts in tasks:
        parts = [code, settings.protocol, asdict(settings.probe), entry.seed, prompts, frame_sha256(facts), entry.pools]
        probes.append(
            {
                "name": f"{folder_name}/{size}",
                "out": str(entry.folder / folder_name / f"{size}.json"),
                "facts": facts.to_dict("records"),
                "templates": prompts,
                "pools": entry.pools,
                "key": json_sha256(parts),
                "reuse": keys.get(f"{folder_name}/{size}"),
            }
        )
    return {
        "seed_index": index,
        "size": size,
        "corpus_dir": str(entry.corpus),
        "model_dir": str(entry.folder / "models" / size),
        "training": asdict(replace(settings.training, seed=entry.seed)),
        "device": device,
        "protocol": settings.protocol,
        "probe": asdict(settings.probe),
        "probe_seed": entry.seed,
        "probes": probes,
    }


def run_job(job: dict) -> dict:
    """:func:`train_and_probe`, with a library error returned as ``{"error": …}`` (the worker's entry point).

    A worker process hands its result back by pickling it, and an error that cannot be rebuilt
    from its message would break the pool; :func:`checked` raises it again in the parent.

    Parameters
    ----------
    job : dict
        As for :func:`train_and_probe`.

    Returns
    -------
    dict
        Its result, or ``{"error": [parameter, problem, where]}`` for a
        :class:`~smi.errors.ParameterValueError`, ``{"error": message}`` for another
        :class:`~smi.errors.SmiError`.
    """
    from smi.errors import ParameterValueError, SmiError

    try:
        return train_and_probe(job)
    except ParameterValueError as error:
        return {"error": [error.parameter, error.problem, None if error.where is None else str(error.where)]}
    except SmiError as error:
        return {"error": str(error)}


def checked(result: dict) -> dict:
    """``result`` of :func:`run_job`, or its error raised again.

    Parameters
    ----------
    result : dict
        What :func:`run_job` returned.

    Returns
    -------
    dict
        ``result`` when it holds no error.

    Raises
    ------
    SmiError
        The job's error (a :class:`~smi.errors.ParameterValueError` as such).
    """
    from smi.errors import ParameterValueError, SmiError

    error = result.get("error")
    if isinstance(error, list):
        raise ParameterValueError(*error)
    if error is not None:
        raise SmiError(error)
    return result


def train_and_probe(job: dict) -> dict:
    """Train one (seed, size) and run its probes (one torch thread).

    Parameters
    ----------
    job : dict
        ``seed_index, size, corpus_dir, model_dir, training`` (TrainSettings as a dict), ``device``,
        ``protocol``, ``probe`` (ProbeOptions as a dict), ``probe_seed`` and ``probes``: a list of
        ``{name, out, facts (records), templates, pools, key, reuse}``.

    Returns
    -------
    dict
        ``seed_index, size, train`` (the training record's numbers), ``model_key`` and ``outputs``:
        ``{name: {"key", "records"}}``.
    """
    import torch

    from smi.lab import model as lab_model
    from smi.lab import resume, stages, train
    from smi.lab.settings import ProbeOptions

    torch.set_num_threads(1)
    lab_model.quiet_transformers()
    settings = train.TrainSettings(**job["training"])
    result = train.train_model(
        Path(job["corpus_dir"]), job["size"], Path(job["model_dir"]), settings, job["device"], progress=False
    )
    model_record = resume.read_train_record(result.path)
    model_key = model_record["key"]
    outputs = {}
    scorer = None
    for task in job["probes"]:
        key = json_sha256([task["key"], model_key, model_record["files"]])
        out = Path(task["out"])
        if task.get("reuse") == key and out.is_file():
            from smi import probing

            records = probing.load_probe_output(out).to_dict("records")  # the format's one reader checks it
        else:
            facts = pd.DataFrame(task["facts"])
            out.parent.mkdir(parents=True, exist_ok=True)
            if job["protocol"] == "rank":
                from smi.probing import ranking

                if scorer is None:
                    scorer = ranking.load_rank_scorer(str(result.path), job["probe"]["batch_size"], job["device"])
                records = ranking.probe_rank(
                    facts, task["templates"], scorer, out, pools=task["pools"], chunk_facts=64, progress=False
                )
            else:
                options = ProbeOptions(**job["probe"])
                records = stages.probe_size(
                    result.path,
                    model_key,
                    facts,
                    task["templates"],
                    options,
                    job["probe_seed"],
                    out,
                    job["device"],
                    False,
                )
        outputs[task["name"]] = {"key": key, "records": records}
    return {
        "seed_index": job["seed_index"],
        "size": job["size"],
        "model_key": model_key,
        "train": {
            "parameters": result.parameters,
            "steps": result.steps,
            "tokens": result.tokens,
            "final_loss": result.final_loss,
            "seconds": result.seconds,
            "tokens_per_second": result.tokens_per_second,
            "reused": result.reused,
        },
        "outputs": outputs,
    }


def run_jobs(
    first: list[dict],
    then: Callable[[list[dict]], list[dict]],
    rest: list[dict],
    jobs: int,
    on_done: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Run ``first`` and ``rest`` now, and the jobs ``then(results of first)`` returns once ``first`` is done.

    Parameters
    ----------
    first : list of dict
        Jobs whose results ``then`` needs (handed out first).
    then : callable
        Receives the results of ``first`` (in their order) and returns more jobs.
    rest : list of dict
        Jobs needed by nobody (handed out after ``first``).
    jobs : int
        Worker processes, at least 1; 1 runs everything in this process, in order.
    on_done : callable or None
        Receives each result as it arrives.

    Returns
    -------
    list of dict
        Every result, in the order ``first``, then ``then``'s jobs, then ``rest``.
    """
    say = on_done or (lambda _: None)
    if jobs <= 1:
        done_first = [checked(run_job(job)) for job in first]
        for result in done_first:
            say(result)
        later = then(done_first)
        others = []
        for job in [*later, *rest]:
            others.append(checked(run_job(job)))
            say(others[-1])
        return done_first + others
    context = multiprocessing.get_context("spawn")
    said: set[Future] = set()

    def report(future: Future) -> None:  # each result reaches on_done once, however fast it finished
        if future not in said:
            said.add(future)
            say(checked(future.result()))

    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        first_futures = [pool.submit(run_job, job) for job in first]
        # the largest sizes of the other seeds go in the queue right behind: they take longest
        rest_futures = [pool.submit(run_job, job) for job in rest[: len(rest) and _largest_count(rest)]]
        pending: set[Future] = set(first_futures) | set(rest_futures)
        remaining = rest[len(rest_futures) :]
        while not all(future.done() for future in first_futures):
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                report(future)
        for future in first_futures:
            report(future)
        later_futures = [pool.submit(run_job, job) for job in then([checked(f.result()) for f in first_futures])]
        remaining_futures = [pool.submit(run_job, job) for job in remaining]
        pending |= set(later_futures) | set(remaining_futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                report(future)
        return [checked(f.result()) for f in first_futures + later_futures + rest_futures + remaining_futures]


def _largest_count(rest: list[dict]) -> int:
    """How many of ``rest`` (sorted largest size first) are of its largest size."""
    largest = rest[0].get("size")
    return sum(1 for job in rest if job.get("size") == largest)
