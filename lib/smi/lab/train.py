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
device, the CPU threads and :data:`TRAINER_VERSION`; a rerun with the same key
continues from it, any other key starts afresh. The finished model goes to a
temporary folder that is renamed to ``OUT``; ``OUT/lab_train.json`` records the
key, so a rerun with a finished model of the same key does nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from smi.errors import ParameterValueError, SmiError, check_one_of
from smi.files import atomic_output
from smi.lab import corpus as lab_corpus

#: Part of every checkpoint and model key: bump when training changes its result for the same settings.
TRAINER_VERSION = 2
TRAIN_RECORD = "lab_train.json"


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
        if not (math.isfinite(self.epochs) and self.epochs > 0):
            raise ParameterValueError("epochs", f"must be positive (got {self.epochs})")
        if self.tokens is not None and self.tokens < 1:
            raise ParameterValueError("tokens", f"must be at least 1 (got {self.tokens})")
        for name in ("block_size", "batch_size"):
            if getattr(self, name) < 2:
                raise SmiError(f"--{name.replace('_', '-')} must be at least 2 (got {getattr(self, name)})")
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise ParameterValueError("learning_rate", f"must be positive (got {self.learning_rate})")
        if not 0 <= self.warmup_share < 1:
            raise ParameterValueError("warmup_share", f"must lie in [0, 1) (got {self.warmup_share})")


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


def training_key(corpus_dir: Path, size: ModelSize, settings: TrainSettings, device: str) -> str:
    """SHA-256 of what decides the trained model: corpus files, size, settings, device, CPU threads and
    code versions (on the CPU, the thread count changes how sums are split and so the last digits).

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
    import transformers

    threads = torch.get_num_threads() if device == "cpu" else None
    text = json.dumps(
        {
            "corpus": lab_corpus.corpus_fingerprint(corpus_dir),
            "size": asdict(size),
            "settings": asdict(settings),
            "device": device,
            "threads": threads,
            "trainer": TRAINER_VERSION,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
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


def _load_checkpoint(path: Path, key: str):
    """The saved state if it exists and was written under ``key``; a stale or torn one is removed."""
    import torch

    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception:
        state = None
    if not isinstance(state, dict) or state.get("key") != key:
        path.unlink(missing_ok=True)
        return None
    return state


def _save_checkpoint(path: Path, state: dict) -> None:
    import torch

    with atomic_output(path) as temporary:
        torch.save(state, temporary)


def _replace_folder(temporary: Path, target: Path) -> None:
    """Move a finished folder into place; an older folder at ``target`` is removed only once the new one is there."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
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

    Returns
    -------
    TrainResult
        The folder, parameters, steps, tokens, final loss and speed.

    Raises
    ------
    SmiError
        When the size is unknown, the device is unavailable, ``out_dir`` is a file or the corpus is invalid.
    KeyboardInterrupt
        After ``stop_after_steps`` steps.
    """
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from smi import probing
    from smi.lab import tokenizer as lab_tokenizer

    size = model_size(size_name)
    device = probing.resolve_device(device)
    if not progress:
        quiet_transformers()
    corpus_dir = lab_corpus.check_corpus_dir(corpus_dir)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterValueError("out_dir", "must be a folder, and this is a file", out_dir)
    key = training_key(corpus_dir, size, settings, device)
    record = read_train_record(out_dir)
    if record is not None and record.get("key") == key:
        return _train_result(out_dir, record, record["steps"], reused=True)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    texts = lab_corpus.read_documents(corpus_dir)

    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
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
        state = _load_checkpoint(checkpoint, key)
        start, tokens, seconds, losses = 0, 0, 0.0, []
        if state is not None:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
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
            "trainer_version": TRAINER_VERSION,
        }
        (work / TRAIN_RECORD).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        _replace_folder(work, out_dir)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    checkpoint.unlink(missing_ok=True)
    return _train_result(out_dir, record, start, reused=False)
