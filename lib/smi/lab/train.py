r"""Pre-train a small GPT-NeoX causal language model from scratch on a lab corpus.

The tokenizer (word level) and the randomly initialised model are built by
:func:`smi.testing.save_tiny_model` from the corpus texts; the model is then
trained on the corpus documents for a number of epochs and saved as a Hugging
Face folder that ``smi probe`` loads.

Data. Each epoch visits every document once, in an order drawn from
``(seed, epoch)``. Documents (each followed by the end-of-sequence token) are
packed greedily into blocks of ``block_size`` tokens without being cut (a longer
document is split into block-sized pieces); the rest of a block is padding,
which carries no loss. The loss is the mean next-token cross-entropy over the
non-padding tokens of a batch,

.. math:: \mathcal L = -\frac{1}{|T|}\sum_{t \in T} \log p_\theta(x_{t} \mid x_{<t}).

Optimisation. AdamW (:math:`\beta = (0.9, 0.95)`), the learning rate rising
linearly over the first ``warmup_share`` of the steps and then falling as a
half cosine to a tenth of its peak:

.. math::

    \eta(t) = \eta_{\max}\left(0.1 + 0.45\,\bigl(1 + \cos(\pi\,\tfrac{t - t_w}{T - t_w})\bigr)\right),
    \quad t \ge t_w.

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
of the same key does nothing. ``OUT`` is replaced only when this command made it (its
marker :data:`smi.files.OWNER_MARKER`); a folder of other files is refused.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from smi.errors import ParameterValueError, SmiError, check_one_of, check_seed
from smi.files import (
    atomic_output,
    check_replaceable_folder,
    code_sha256,
    file_sha256,
    output_lock,
    remove_orphaned_temporaries,
    temporary_folder,
)
from smi.lab import corpus as lab_corpus

TRAIN_RECORD = "lab_train.json"
#: The command that makes (and so may replace) a model folder, as its marker and lock name it.
COMMAND = "smi lab train"
#: Bounds of the settings: a run within about 24 GiB and two CPU cores (``cuda``: the larger block).
MAX_EPOCHS = 1000
MAX_TOKENS = 10**10
MAX_BATCH_SIZE = 512
MAX_BLOCK_SIZE = {"cpu": 2048, "cuda": 8192}


#: The learning-rate rule's peak rate and the width up to which it holds (:func:`width_scaled_learning_rate`).
BASE_LEARNING_RATE = 1e-2
BASE_WIDTH = 64


def width_scaled_learning_rate(hidden: int) -> float:
    r"""The peak learning rate of a model ``hidden`` wide: one rule for every size.

    Parameters
    ----------
    hidden : int
        The model's width.

    Returns
    -------
    float
        The rate.

    Notes
    -----
    :math:`\eta(h) = \eta_0 \min(1, h_0 / h)` with :math:`\eta_0` = :data:`BASE_LEARNING_RATE` and
    :math:`h_0` = :data:`BASE_WIDTH`: the step of a weight matrix shrinks as its fan-in grows
    (as in muP-style width scaling), and narrow models keep :math:`\eta_0`.
    """
    return BASE_LEARNING_RATE * min(1.0, BASE_WIDTH / hidden)


@dataclass(frozen=True)
class ModelSize:
    """A GPT-NeoX shape: hidden width, layers (4 attention heads, MLP width 2 × hidden, see
    :func:`smi.lab.tokenizer.save_lab_model`), and the peak learning rate used unless one is given,
    :func:`width_scaled_learning_rate` of the width for every size.
    """

    name: str
    hidden: int
    layers: int
    learning_rate: float


#: The sizes ``--size`` accepts, smallest first. Parameters also depend on the corpus's vocabulary.
SIZES: dict[str, ModelSize] = {
    size.name: size
    for size in (
        ModelSize("xs", 16, 1, width_scaled_learning_rate(16)),
        ModelSize("s", 32, 2, width_scaled_learning_rate(32)),
        ModelSize("m", 64, 2, width_scaled_learning_rate(64)),
        ModelSize("l", 128, 4, width_scaled_learning_rate(128)),
        ModelSize("xl", 256, 4, width_scaled_learning_rate(256)),
        ModelSize("xxl", 512, 6, width_scaled_learning_rate(512)),
    )
}


def model_size(name: str) -> ModelSize:
    """The :class:`ModelSize` called ``name``; a :class:`SmiError` lists the valid names.

    Parameters
    ----------
    name : str
        A size name of :data:`SIZES`.

    Returns
    -------
    ModelSize
        The size.

    Raises
    ------
    SmiError
        When the name is unknown.
    """
    return SIZES[check_one_of(name, SIZES, "size")]


@dataclass(frozen=True)
class TrainSettings:
    """Everything that decides the trained weights (besides the corpus and the size).

    ``learning_rate`` None means the size's own (:data:`SIZES`).
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
        if not (math.isfinite(self.epochs) and 0 < self.epochs <= MAX_EPOCHS):
            raise ParameterValueError("epochs", f"must be positive and at most {MAX_EPOCHS} (got {self.epochs})")
        if self.tokens is not None and not 1 <= self.tokens <= MAX_TOKENS:
            raise ParameterValueError("tokens", f"must be from 1 to {MAX_TOKENS:,} (got {self.tokens})")
        for name, most in (("block_size", max(MAX_BLOCK_SIZE.values())), ("batch_size", MAX_BATCH_SIZE)):
            if not 2 <= getattr(self, name) <= most:
                raise ParameterValueError(name, f"must be from 2 to {most} (got {getattr(self, name)})")
        if self.learning_rate is not None and not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ParameterValueError("learning_rate", f"must be a positive finite number (got {self.learning_rate})")
        if not 0 <= self.warmup_share < 1:
            raise ParameterValueError("warmup_share", f"must lie in [0, 1) (got {self.warmup_share})")


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
    """The :class:`TrainResult` of a finished training whose record (``train.json``) is ``record``."""
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


def quiet_transformers() -> None:
    """No progress bars or advice from transformers while models are saved and loaded (notebooks, ``--no-progress``)."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()


def learning_rate(step: int, total: int, peak: float, warmup_share: float) -> float:
    """Linear warm-up, then a half cosine from ``peak`` down to ``peak / 10`` (module docstring).

    Parameters
    ----------
    step : int
        The optimiser step, from 0.
    total : int
        The number of steps.
    peak : float
        The largest learning rate.
    warmup_share : float
        The share of steps spent warming up.

    Returns
    -------
    float
        The learning rate of ``step``.

    Notes
    -----
    With w = max(1, round(warmup_share · total)): η = peak · (step + 1) / w for step < w, then
    η = peak / 10 + (peak − peak / 10) · (1 + cos(π · (step − w) / (total − w))) / 2.
    """
    warmup = max(1, round(warmup_share * total))
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.45 * (1.0 + math.cos(math.pi * min(1.0, progress))))


def pack_documents(documents: list[list[int]], order: np.ndarray, block_size: int) -> list[list[int]]:
    """Documents (token ids, each ending with end-of-sequence) in ``order``, packed greedily into blocks.

    A document never straddles two blocks unless it is longer than a block, in
    which case it is cut into block-sized pieces. Blocks are not padded here.

    Parameters
    ----------
    documents : list of list of int
        Token ids of each document.
    order : numpy.ndarray
        The order in which documents are taken.
    block_size : int
        Tokens per block.

    Returns
    -------
    list of list of int
        The blocks.
    """
    blocks: list[list[int]] = []
    current: list[int] = []
    for number in order:
        ids = documents[number]
        pieces = [ids[i : i + block_size] for i in range(0, len(ids), block_size)]
        for piece in pieces:
            if len(current) + len(piece) > block_size:
                blocks.append(current)
                current = []
            current = current + piece
    if current:
        blocks.append(current)
    return blocks


def epoch_batches(documents: list[list[int]], settings: TrainSettings, epoch: int) -> list[list[list[int]]]:
    """The batches of one epoch: documents shuffled by ``(seed, epoch)``, packed, grouped by ``batch_size``.

    Parameters
    ----------
    documents : list of list of int
        Token ids of each document.
    settings : TrainSettings
        Seed, block size and batch size.
    epoch : int
        The epoch, from 0.

    Returns
    -------
    list of list of list of int
        The batches, each a list of blocks.
    """
    order = np.random.default_rng([settings.seed, epoch]).permutation(len(documents))
    blocks = pack_documents(documents, order, settings.block_size)
    return [blocks[i : i + settings.batch_size] for i in range(0, len(blocks), settings.batch_size)]


def schedule(documents: list[list[int]], settings: TrainSettings) -> list[tuple[int, int]]:
    """(epoch, batch number) of every optimiser step.

    Every whole epoch contributes all its batches (their number varies a little
    with the packing order); a fractional last epoch takes that share of its batches.

    Parameters
    ----------
    documents : list of list of int
        Token ids of each document.
    settings : TrainSettings
        Epochs, seed, block size and batch size.

    Returns
    -------
    list of tuple of int
        One (epoch, batch number) per step.
    """
    steps: list[tuple[int, int]] = []
    epoch = 0
    while epoch < settings.epochs:
        batches = len(epoch_batches(documents, settings, epoch))
        share = min(1.0, settings.epochs - epoch)
        steps += [(epoch, number) for number in range(max(1, round(share * batches)))]
        epoch += 1
    return steps


def batch_tensors(batch: list[list[int]], pad_id: int):
    """(input ids, labels) tensors of a batch; padding is labelled -100 so it carries no loss.

    Parameters
    ----------
    batch : list of list of int
        The blocks of a batch.
    pad_id : int
        The padding token.

    Returns
    -------
    input_ids, labels : torch.Tensor
        Blocks padded to the longest one.
    """
    import torch

    width = max(len(block) for block in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    for row, block in enumerate(batch):
        ids[row, : len(block)] = torch.tensor(block)
        labels[row, : len(block)] = torch.tensor(block)
    return ids, labels


def training_code_sha256() -> str:
    """SHA-256 of the code that decides a trained model: this module and every :mod:`smi` module it imports,
    with the versions of torch and transformers (:func:`smi.files.code_sha256`).

    Returns
    -------
    str
        The hex digest.
    """
    from importlib.metadata import version

    return code_sha256([__name__], extra=f"torch={version('torch')};transformers={version('transformers')}")


def training_key(corpus_dir: Path, size: ModelSize, settings: TrainSettings, device: str) -> str:
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
    text = json.dumps(
        {
            "corpus": lab_corpus.corpus_fingerprint(corpus_dir),
            "size": asdict(size),
            "settings": asdict(settings),
            "device": device,
            "threads": threads,
            "code": training_code_sha256(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


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


def model_files_sha256(model_dir: Path) -> dict[str, str]:
    """SHA-256 of every file of a model folder but its record and marker, by name (what a reuse checks).

    Parameters
    ----------
    model_dir : Path
        The model folder.

    Returns
    -------
    dict of str to str
        The hex digests, by file name, sorted.
    """
    from smi.files import OWNER_MARKER

    names = sorted(p.name for p in Path(model_dir).iterdir() if p.name not in (TRAIN_RECORD, OWNER_MARKER))
    return {name: file_sha256(Path(model_dir) / name) for name in names}


def finished_model_problem(model_dir: Path, key: str) -> str:
    """Why ``model_dir`` is not a finished model of ``key`` that can be reused; empty when it is.

    The reader of a model folder: its record must carry ``key`` and the SHA-256 of every file
    written with it, and the files must still have those hashes (a truncated or replaced weights
    file is not reused).

    Parameters
    ----------
    model_dir : Path
        The model folder.
    key : str
        The :func:`training_key` wanted.

    Returns
    -------
    str
        The problem, or "" (also "" is never returned for a folder without a record).
    """
    record = read_train_record(model_dir)
    if record is None:
        return "no training record"
    if record.get("key") != key:
        return "trained with other inputs"
    files = record.get("files")
    if not isinstance(files, dict) or not files:
        return "its record has no hashes of its files"
    try:
        found = model_files_sha256(model_dir)
    except OSError as error:
        return f"unreadable ({error.strerror})"
    if found != files:
        changed = sorted(name for name in set(files) | set(found) if files.get(name) != found.get(name))
        return f"{changed[0]} changed since it was written"
    return ""


def read_train_record(model_dir: Path) -> dict | None:
    """``lab_train.json`` of a finished model folder, or None when there is none (or it is unreadable).

    Parameters
    ----------
    model_dir : Path
        The model folder.

    Returns
    -------
    dict or None
        The record.
    """
    path = Path(model_dir) / TRAIN_RECORD
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def parameter_count(model) -> int:
    """Number of parameters of a torch model (every weight and bias, embeddings included).

    Parameters
    ----------
    model : torch.nn.Module
        The model.

    Returns
    -------
    int
        The count.
    """
    return int(sum(p.numel() for p in model.parameters()))


def checkpoint_problem(state: object, key: str, total_steps: int) -> str:
    """Why a loaded checkpoint cannot be resumed; empty when it can.

    Parameters
    ----------
    state : object
        What ``torch.load(weights_only=True)`` returned.
    key : str
        The :func:`training_key` of the run.
    total_steps : int
        The run's number of steps.

    Returns
    -------
    str
        The problem, or "".
    """
    if not isinstance(state, dict):
        return "not a training state"
    if state.get("key") != key:
        return "written for other inputs"
    step, tokens, seconds, losses = (state.get(name) for name in ("step", "tokens", "seconds", "losses"))
    if type(step) is not int or not 0 < step < total_steps + 1:
        return f"step must be from 1 to {total_steps} (got {step!r})"
    if type(tokens) is not int or tokens < 0:
        return f"tokens must be a non-negative whole number (got {tokens!r})"
    if type(seconds) is not float or not (math.isfinite(seconds) and seconds >= 0):
        return f"seconds must be a non-negative number (got {seconds!r})"
    if not isinstance(losses, list) or len(losses) != step:
        return "losses must list one loss per step"
    if not all(type(loss) is float and math.isfinite(loss) for loss in losses):
        return "losses must be finite numbers"
    if not isinstance(state.get("model"), dict) or not isinstance(state.get("optimizer"), dict):
        return "no model or optimiser state"
    return ""


def _load_checkpoint(path: Path, key: str, total_steps: int, model, optimizer, say) -> dict | None:
    """Load the saved state into ``model`` and ``optimizer`` if it is valid for ``key``; else remove it, with a note.

    Read with ``weights_only=True``: tensors and plain values only, so a file that would run code is
    refused unread. A link at ``path`` is not followed (removed as any invalid checkpoint: it names no
    file of the user's once gone).
    """
    import torch

    if path.is_symlink() or not path.is_file():
        if path.is_symlink():
            say(f"{path}: a symbolic link, not a checkpoint; not read, training from the start")
            path.unlink()
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        problem = checkpoint_problem(state, key, total_steps)
    except Exception as error:  # a torn file, or one holding anything but tensors and plain values
        problem = f"unreadable as a training state ({type(error).__name__})"
    if not problem:
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            if not all(torch.isfinite(p).all() for p in model.parameters()):
                problem = "its weights are not finite"
        except Exception as error:  # wrong shapes or names
            problem = f"does not fit the model ({type(error).__name__})"
    if problem:
        if problem != "written for other inputs":  # a checkpoint of other settings is simply stale
            say(f"{path}: {problem}; removed, training from the start")
        path.unlink(missing_ok=True)
        return None
    return state


def _save_checkpoint(path: Path, state: dict) -> None:
    import torch

    with atomic_output(path) as temporary:
        torch.save(state, temporary)


def _replace_folder(temporary: Path, target: Path) -> None:
    """Move a finished folder into place; an older folder at ``target`` (one this command made, see
    :func:`smi.files.check_replaceable_folder`) is removed only once the new one is there."""
    old = None
    if target.exists():
        old = temporary_folder(target, COMMAND)
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

    size = model_size(size_name)
    device = probing.resolve_device(device)
    check_device_limits(settings, device)
    if not progress:
        quiet_transformers()
    say = say or (lambda line: print(line, file=sys.stderr))
    corpus_dir = lab_corpus.check_corpus_dir(corpus_dir)
    out_dir = check_replaceable_folder(Path(out_dir), COMMAND, "out_dir", legacy=TRAIN_RECORD)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with output_lock(out_dir, COMMAND):
        check_replaceable_folder(out_dir, COMMAND, "out_dir", legacy=TRAIN_RECORD)  # as it is now we hold the lock
        for path in (out_dir, checkpoint_path(out_dir)):  # what a killed run into this folder left
            remove_orphaned_temporaries(path, COMMAND)
        return _train_locked(
            corpus_dir, size, out_dir, settings, device, checkpoint_seconds, progress, stop_after_steps, say
        )


def _train_locked(
    corpus_dir: Path,
    size: ModelSize,
    out_dir: Path,
    settings: TrainSettings,
    device: str,
    checkpoint_seconds: float,
    progress: bool,
    stop_after_steps: int | None,
    say,
) -> TrainResult:
    """:func:`train_model` holding the model folder's lock."""
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from smi.lab import tokenizer as lab_tokenizer

    key = training_key(corpus_dir, size, settings, device)
    problem = finished_model_problem(out_dir, key)
    if not problem:
        record = read_train_record(out_dir)
        return _train_result(out_dir, record, record["steps"], reused=True)
    if problem not in ("no training record", "trained with other inputs"):
        say(f"{out_dir}: {problem}; not reused, training again")
    texts = lab_corpus.read_documents(corpus_dir)

    work = temporary_folder(out_dir, COMMAND)
    try:
        lab_tokenizer.save_initial_model(corpus_dir, work, size.hidden, size.layers, settings.seed)
        tokenizer = AutoTokenizer.from_pretrained(work)
        model = AutoModelForCausalLM.from_pretrained(work).to(device)
        eos = tokenizer.eos_token_id
        documents = [[*ids, eos] for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
        if settings.tokens is not None:
            per_epoch = sum(len(ids) for ids in documents)
            steps = schedule(documents, replace(settings, epochs=settings.tokens / per_epoch))
        else:
            steps = schedule(documents, settings)
        peak = settings.learning_rate if settings.learning_rate is not None else size.learning_rate
        optimizer = torch.optim.AdamW(
            model.parameters(), lr=peak, betas=(0.9, 0.95), weight_decay=settings.weight_decay
        )
        checkpoint = checkpoint_path(out_dir)
        state = _load_checkpoint(checkpoint, key, len(steps), model, optimizer, say)
        start, tokens, seconds, losses = 0, 0, 0.0, []
        if state is not None:
            start, tokens, seconds, losses = state["step"], state["tokens"], state["seconds"], state["losses"]

        def save_state(step: int) -> None:
            _save_checkpoint(
                checkpoint,
                {
                    "key": key,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "step": step,
                    "tokens": tokens,
                    "seconds": seconds,
                    "losses": losses,
                },
            )

        model.train()
        cached_epoch, batches = -1, []
        last_save = time.perf_counter()
        with tqdm(total=len(steps), initial=start, unit="step", desc=f"train {size.name}", disable=not progress) as bar:
            for step in range(start, len(steps)):
                began = time.perf_counter()
                epoch, number = steps[step]
                if epoch != cached_epoch:
                    batches, cached_epoch = epoch_batches(documents, settings, epoch), epoch
                ids, labels = batch_tensors(batches[number], tokenizer.pad_token_id)
                for group in optimizer.param_groups:
                    group["lr"] = learning_rate(step, len(steps), peak, settings.warmup_share)
                loss = model(input_ids=ids.to(device), labels=labels.to(device)).loss
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                losses.append(float(loss.detach()))
                if not math.isfinite(losses[-1]):
                    raise SmiError(
                        f"{out_dir}: training diverged at step {step + 1} (loss {losses[-1]}); nothing was saved "
                        "(try a smaller --learning-rate)"
                    )
                tokens += int((labels != -100).sum())
                seconds += time.perf_counter() - began
                speed = tokens / max(seconds, 1e-9)
                bar.set_postfix_str(f"loss {losses[-1]:.3f}, {speed:,.0f} tokens/s", refresh=False)
                bar.update(1)
                done_here = step + 1 - start
                if stop_after_steps is not None and done_here >= stop_after_steps:
                    save_state(step + 1)
                    raise KeyboardInterrupt
                if time.perf_counter() - last_save >= checkpoint_seconds and step + 1 < len(steps):
                    save_state(step + 1)
                    last_save = time.perf_counter()
        model.eval()
        model.save_pretrained(work)
        files = model_files_sha256(work)
        tail = losses[-max(1, len(steps) // 20) :]
        record = {
            "key": key,
            "size": asdict(size),
            "settings": asdict(settings),
            "device": device,
            "parameters": parameter_count(model),
            "steps": len(steps),
            "tokens": tokens,
            "final_loss": float(np.mean(tail)),
            "seconds": round(seconds, 3),
            "tokens_per_second": round(tokens / max(seconds, 1e-9), 1),
            "resumed_from_step": start,
            "files": files,
        }
        (work / TRAIN_RECORD).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        _replace_folder(work, out_dir)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    checkpoint.unlink(missing_ok=True)
    return _train_result(out_dir, record, start, reused=False)
