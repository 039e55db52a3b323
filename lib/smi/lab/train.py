r"""Pre-train a small GPT-NeoX causal language model from scratch on a lab corpus, resumably.

The byte-level BPE tokenizer and the randomly initialised model are built by
:func:`smi.lab.model.save_initial_model` from the corpus; the model is then trained on the
corpus documents (:mod:`smi.lab.schedule`: packed blocks, batches and learning rate) for a
number of epochs and saved as a Hugging Face folder that ``smi probe`` loads.

Determinism and resuming. Initial weights come from ``seed``, the data order from
``(seed, epoch)``, and the models have no dropout, so a run on the CPU with the
same settings and thread count gives the same weights. Another thread count
splits sums differently and, after many steps, gives other answers; ``smi lab``
uses one thread. The training state (model, optimiser, step) is saved atomically
every ``checkpoint_seconds`` to ``OUT.checkpoint.pt`` under a key made of the
corpus files' SHA-256, the size, every setting that changes the result, the
device, the CPU threads and the training code (:func:`training_code_sha256`); a rerun with the same key
continues from it, any other key starts afresh. The finished model goes to a
temporary folder that is renamed to ``OUT``; ``OUT/lab_train.json`` records the
key and the SHA-256 of every file of the model, so a rerun with a finished, intact model
of the same key does nothing (:mod:`smi.lab.resume`). ``OUT`` is replaced only when this command
made it (its marker :data:`smi.files.OWNER_MARKER`); a folder of other files is refused.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from smi.errors import ParameterValueError, check_scalar, check_seed
from smi.files import check_replaceable_folder, remove_orphaned_temporaries, temporary_folder
from smi.hashing import code_sha256, json_sha256
from smi.lab import corpus as lab_corpus
from smi.lab import model as lab_model
from smi.lab import resume
from smi.lab import schedule as lab_schedule
from smi.locks import output_lock

#: The command that makes (and so may replace) a model folder, as its marker and lock name it.
TRAIN_COMMAND = "smi lab train"
#: Bounds of the settings: a run within about 24 GiB and two CPU cores (``cuda``: the larger block).
MAX_EPOCHS = 1000
MAX_TOKENS = 10**10
MAX_BATCH_SIZE = 512
MAX_BLOCK_SIZE = {"cpu": 2048, "cuda": 8192}


@dataclass(frozen=True)
class TrainSettings:
    """Everything that decides the trained weights (besides the corpus and the size).

    ``learning_rate`` None means the size's own (:data:`smi.lab.model.SIZES`).
    ``tokens``, when given, replaces ``epochs``: training stops after that many
    tokens' worth of epochs (``tokens`` / tokens per epoch, whole batches).
    """

    seed: int = 0
    epochs: float = 8.0
    block_size: int = 128
    batch_size: int = 4
    learning_rate: float | None = None
    warmup_share: float = 0.05
    weight_decay: float = 0.0
    tokens: int | None = None

    def __post_init__(self) -> None:
        check_seed(self.seed)
        check_scalar(self.epochs, "epochs", maximum=MAX_EPOCHS, above=0)
        if self.tokens is not None:
            check_scalar(self.tokens, "tokens", "integer", minimum=1, maximum=MAX_TOKENS)
        for name, most in (("block_size", max(MAX_BLOCK_SIZE.values())), ("batch_size", MAX_BATCH_SIZE)):
            check_scalar(getattr(self, name), name, "integer", minimum=2, maximum=most)
        if self.learning_rate is not None:
            check_scalar(self.learning_rate, "learning_rate", above=0)
        check_scalar(self.warmup_share, "warmup_share", minimum=0, below=1)


def check_device_limits(settings: TrainSettings, device: str) -> TrainSettings:
    """Refuse a block size beyond what ``device`` trains within its memory (:data:`MAX_BLOCK_SIZE`).

    Parameters
    ----------
    settings : TrainSettings
        The settings.
    device : str
        ``"cpu"`` or ``"cuda"``.

    Returns
    -------
    TrainSettings
        ``settings``.

    Raises
    ------
    ParameterValueError
        When the block size is too large for the device.
    """
    most = MAX_BLOCK_SIZE.get(device, MAX_BLOCK_SIZE["cpu"])
    if settings.block_size > most:
        raise ParameterValueError("block_size", f"must be at most {most} on {device} (got {settings.block_size})")
    return settings


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train_model` did: where the model is, its size and how training went."""

    path: Path
    parameters: int
    steps: int
    tokens: int
    final_loss: float
    seconds: float
    tokens_per_second: float
    resumed_from_step: int
    reused: bool


def _train_result(out_dir: Path, record: dict, resumed_from_step: int, reused: bool) -> TrainResult:
    """The :class:`TrainResult` of a finished training whose record (:mod:`smi.lab.resume`) is ``record``."""
    return TrainResult(
        out_dir,
        record["parameters"],
        record["steps"],
        record["tokens"],
        record["final_loss"],
        record["seconds"],
        record["tokens_per_second"],
        resumed_from_step,
        reused,
    )


def training_code_sha256() -> str:
    """SHA-256 of the code that decides a trained model: this module and every :mod:`smi` module it imports,
    with the versions of torch and transformers (:func:`smi.hashing.code_sha256`).

    Returns
    -------
    str
        The hex digest.
    """
    from importlib.metadata import version

    return code_sha256([__name__], extra=f"torch={version('torch')};transformers={version('transformers')}")


def training_key(corpus_dir: Path, size: lab_model.ModelSize, settings: TrainSettings, device: str) -> str:
    """SHA-256 of what decides the trained model: corpus files, size, settings, device, CPU threads and
    the training code (:func:`training_code_sha256`; on the CPU, the thread count changes how sums are
    split and so the last digits).

    Parameters
    ----------
    corpus_dir : Path
        The lab folder.
    size : ModelSize
        The model size.
    settings : TrainSettings
        The training settings.
    device : str
        Where the model trains.

    Returns
    -------
    str
        The hex digest.

    Raises
    ------
    SmiError
        When the corpus folder's files changed since ``lab.json``.
    """
    import torch

    threads = torch.get_num_threads() if device == "cpu" else None
    return json_sha256(
        {
            "corpus": lab_corpus.corpus_fingerprint(corpus_dir),
            "size": asdict(size),
            "settings": asdict(settings),
            "device": device,
            "threads": threads,
            "code": training_code_sha256(),
        }
    )


def checkpoint_path(out_dir: Path) -> Path:
    """Where a run in progress keeps its training state (``OUT.checkpoint.pt``).

    Parameters
    ----------
    out_dir : Path
        The model folder.

    Returns
    -------
    Path
        The checkpoint file.
    """
    out_dir = Path(out_dir)
    return out_dir.with_name(out_dir.name + ".checkpoint.pt")


def _replace_folder(temporary: Path, target: Path) -> None:
    """Move a finished folder into place; an older folder at ``target`` (one this command made, see
    :func:`smi.files.check_replaceable_folder`) is removed only once the new one is there."""
    old = None
    if target.exists():
        old = temporary_folder(target, TRAIN_COMMAND)
        os.replace(target, old / target.name)
    os.replace(temporary, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def train_model(
    corpus_dir: Path,
    size_name: str,
    out_dir: Path,
    settings: TrainSettings = TrainSettings(),
    device: str = "cpu",
    checkpoint_seconds: float = 30.0,
    progress: bool = True,
    stop_after_steps: int | None = None,
    say=None,
) -> TrainResult:
    """Train the size ``size_name`` on the lab corpus in ``corpus_dir``; save it as a Hugging Face folder ``out_dir``.

    Resumes from ``OUT.checkpoint.pt`` when its key matches; returns at once when
    ``out_dir`` already holds a finished model of the same key.
    ``stop_after_steps`` (tests) saves a checkpoint and raises :class:`KeyboardInterrupt`
    after that many steps of this call, as a killed run would stop.

    Parameters
    ----------
    corpus_dir : Path
        The lab folder.
    size_name : str
        The model size.
    out_dir : Path
        The model folder written.
    settings : TrainSettings
        Epochs, learning rate, batches and seed.
    device : str
        Where the model trains.
    checkpoint_seconds : float
        How often the training state is saved.
    progress : bool
        Show a progress bar.
    stop_after_steps : int or None
        Stop (as if killed) after that many steps; for tests.
    say : callable or None
        Receives a line when a checkpoint or a finished model is not reused (default: standard error).

    Returns
    -------
    TrainResult
        The folder, parameters, steps, tokens, final loss and speed.

    Raises
    ------
    SmiError
        When the size is unknown, the device is unavailable, ``out_dir`` is a file, a link or a folder of
        files this command did not write, another run trains into ``out_dir``, the corpus is invalid, or
        the loss stops being finite (nothing is saved then).
    KeyboardInterrupt
        After ``stop_after_steps`` steps.
    """
    from smi import probing

    size = lab_model.model_size(size_name)
    device = probing.resolve_device(device)
    check_device_limits(settings, device)
    if not progress:
        lab_model.quiet_transformers()
    say = say or (lambda line: print(line, file=sys.stderr))
    corpus_dir = lab_corpus.check_corpus_dir(corpus_dir)
    out_dir = check_replaceable_folder(Path(out_dir), TRAIN_COMMAND, "out_dir", legacy=resume.TRAIN_RECORD)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with output_lock(out_dir, TRAIN_COMMAND):
        # checked again as it is now that we hold the lock
        check_replaceable_folder(out_dir, TRAIN_COMMAND, "out_dir", legacy=resume.TRAIN_RECORD)
        for path in (out_dir, checkpoint_path(out_dir)):  # what a killed run into this folder left
            remove_orphaned_temporaries(path, TRAIN_COMMAND)
        return _train_locked(
            corpus_dir, size, out_dir, settings, device, checkpoint_seconds, progress, stop_after_steps, say
        )


def _train_locked(
    corpus_dir: Path,
    size: lab_model.ModelSize,
    out_dir: Path,
    settings: TrainSettings,
    device: str,
    checkpoint_seconds: float,
    progress: bool,
    stop_after_steps: int | None,
    say,
) -> TrainResult:
    """:func:`train_model` holding the model folder's lock: reuse a finished model of the same key, else
    start (or resume), optimise, finish in a temporary folder and move it into place."""
    key = training_key(corpus_dir, size, settings, device)
    problem = resume.finished_model_problem(out_dir, key)
    if not problem:
        record = resume.read_train_record(out_dir)
        return _train_result(out_dir, record, record["steps"], reused=True)
    if problem not in ("no training record", "trained with other inputs"):
        say(f"{out_dir}: {problem}; not reused, training again")
    texts = lab_corpus.corpus_documents(corpus_dir)
    checkpoint = checkpoint_path(out_dir)
    work = temporary_folder(out_dir, TRAIN_COMMAND)
    try:
        run = _start(corpus_dir, work, texts, size, settings, device, key, checkpoint, say)
        _optimise(run, out_dir, checkpoint, checkpoint_seconds, progress, stop_after_steps)
        record = _finish(run, work)
        _replace_folder(work, out_dir)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    checkpoint.unlink(missing_ok=True)
    return _train_result(out_dir, record, run.start, reused=False)


@dataclass
class _Training:
    """A training in progress: what it runs on, its steps, and how far it got (what a checkpoint saves)."""

    key: str
    size: lab_model.ModelSize
    settings: TrainSettings
    device: str
    model: object
    tokenizer: object
    optimizer: object
    documents: list[list[int]]
    steps: list[tuple[int, int]]
    peak: float
    start: int = 0
    tokens: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)

    def state(self, step: int) -> dict:
        """The checkpoint after ``step`` steps (:func:`smi.lab.resume.save_checkpoint`)."""
        return {
            "key": self.key,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step": step,
            "tokens": self.tokens,
            "seconds": self.seconds,
            "losses": self.losses,
        }


def _start(
    corpus_dir: Path,
    work: Path,
    texts: list[str],
    size: lab_model.ModelSize,
    settings: TrainSettings,
    device: str,
    key: str,
    checkpoint: Path,
    say,
) -> _Training:
    """The initial model saved in ``work`` and loaded, the documents as token ids, the steps and the optimiser;
    resumed from ``checkpoint`` when it is valid for ``key``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    lab_model.save_initial_model(corpus_dir, work, size, settings.seed)
    tokenizer = AutoTokenizer.from_pretrained(work)
    model = AutoModelForCausalLM.from_pretrained(work).to(device)
    eos = tokenizer.eos_token_id
    documents = [[*ids, eos] for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
    if settings.tokens is not None:
        per_epoch = sum(len(ids) for ids in documents)
        steps = lab_schedule.schedule(documents, replace(settings, epochs=settings.tokens / per_epoch))
    else:
        steps = lab_schedule.schedule(documents, settings)
    peak = settings.learning_rate if settings.learning_rate is not None else size.learning_rate
    optimizer = torch.optim.AdamW(model.parameters(), lr=peak, betas=(0.9, 0.95), weight_decay=settings.weight_decay)
    run = _Training(key, size, settings, device, model, tokenizer, optimizer, documents, steps, peak)
    state = resume.load_checkpoint(checkpoint, key, len(steps), model, optimizer, say)
    if state is not None:
        run.start, run.tokens, run.seconds = state["step"], state["tokens"], state["seconds"]
        run.losses = state["losses"]
    return run


def _optimise(
    run: _Training,
    out_dir: Path,
    checkpoint: Path,
    checkpoint_seconds: float,
    progress: bool,
    stop_after_steps: int | None,
) -> None:
    """Every step from ``run.start`` on, saving the state every ``checkpoint_seconds``.

    Raises
    ------
    ParameterValueError
        When the loss stops being finite (nothing is saved).
    KeyboardInterrupt
        After ``stop_after_steps`` steps of this call, with the state saved.
    """
    from tqdm.auto import tqdm

    model, optimizer, settings, total = run.model, run.optimizer, run.settings, len(run.steps)
    model.train()
    cached_epoch, batches = -1, []
    last_save = time.perf_counter()
    with tqdm(total=total, initial=run.start, unit="step", desc=f"train {run.size.name}", disable=not progress) as bar:
        for step in range(run.start, total):
            began = time.perf_counter()
            epoch, number = run.steps[step]
            if epoch != cached_epoch:
                batches, cached_epoch = lab_schedule.epoch_batches(run.documents, settings, epoch), epoch
            ids, labels = lab_schedule.batch_tensors(batches[number], run.tokenizer.pad_token_id)
            for group in optimizer.param_groups:
                group["lr"] = lab_schedule.learning_rate(step, total, run.peak, settings.warmup_share)
            loss = model(input_ids=ids.to(run.device), labels=labels.to(run.device)).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            run.losses.append(float(loss.detach()))
            if not math.isfinite(run.losses[-1]):
                raise ParameterValueError(
                    "learning_rate",
                    f"may be too large: training diverged at step {step + 1} (loss {run.losses[-1]}); "
                    "nothing was saved",
                    out_dir,
                )
            run.tokens += int((labels != -100).sum())
            run.seconds += time.perf_counter() - began
            speed = run.tokens / max(run.seconds, 1e-9)
            bar.set_postfix_str(f"loss {run.losses[-1]:.3f}, {speed:,.0f} tokens/s", refresh=False)
            bar.update(1)
            done_here = step + 1 - run.start
            if stop_after_steps is not None and done_here >= stop_after_steps:
                resume.save_checkpoint(checkpoint, run.state(step + 1))
                raise KeyboardInterrupt
            if time.perf_counter() - last_save >= checkpoint_seconds and step + 1 < total:
                resume.save_checkpoint(checkpoint, run.state(step + 1))
                last_save = time.perf_counter()


def _finish(run: _Training, work: Path) -> dict:
    """Save the trained model into ``work`` with its record (:func:`smi.lab.resume.write_train_record`); the record."""
    run.model.eval()
    run.model.save_pretrained(work)
    files = resume.model_files_sha256(work)
    tail = run.losses[-max(1, len(run.steps) // 20) :]
    record = {
        "key": run.key,
        "size": asdict(run.size),
        "settings": asdict(run.settings),
        "device": run.device,
        "parameters": lab_model.parameter_count(run.model),
        "steps": len(run.steps),
        "tokens": run.tokens,
        "final_loss": float(np.mean(tail)),
        "seconds": round(run.seconds, 3),
        "tokens_per_second": round(run.tokens / max(run.seconds, 1e-9), 1),
        "resumed_from_step": run.start,
        "files": files,
    }
    resume.write_train_record(work, record)
    return record
