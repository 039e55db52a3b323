r"""Resuming and reusing a training: the checkpoint of a run in progress and the record of a finished model.

A run saves its state (model, optimiser, step, tokens, seconds, losses) under its training key
(:func:`smi.lab.train.training_key`) with :func:`save_checkpoint`; :func:`load_checkpoint` resumes
from it only when :func:`checkpoint_problem` finds nothing wrong, and removes it otherwise. A
finished model folder holds :data:`TRAIN_RECORD` with the key and the SHA-256 of every file of the
model (:func:`model_files_sha256`), so :func:`finished_model_problem` reuses a folder only when it
was trained with the same inputs and no file changed since.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from smi.files import OWNER_MARKER, atomic_output
from smi.hashing import file_sha256

#: The record of a finished model, in its folder.
TRAIN_RECORD = "lab_train.json"


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


def load_checkpoint(path: Path, key: str, total_steps: int, model, optimizer, say) -> dict | None:
    """Load the saved state into ``model`` and ``optimizer`` if it is valid for ``key``; else remove it, with a note.

    Read with ``weights_only=True``: tensors and plain values only, so a file that would run code is
    refused unread. A link at ``path`` is not followed (removed as any invalid checkpoint: it names no
    file of the user's once gone).

    Parameters
    ----------
    path : Path
        The checkpoint file.
    key : str
        The :func:`smi.lab.train.training_key` of the run.
    total_steps : int
        The run's number of steps.
    model : torch.nn.Module
        The model the weights are loaded into.
    optimizer : torch.optim.Optimizer
        The optimiser its state is loaded into.
    say : callable
        Receives a line when a checkpoint is removed for another reason than other inputs.

    Returns
    -------
    dict or None
        The state (step, tokens, seconds, losses, …), or None when training starts from the beginning.
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


def save_checkpoint(path: Path, state: dict) -> None:
    """Save a training state atomically (what :func:`load_checkpoint` reads).

    Parameters
    ----------
    path : Path
        The checkpoint file.
    state : dict
        ``key``, ``model`` and ``optimizer`` (state dicts), ``step``, ``tokens``, ``seconds`` and ``losses``.
    """
    import torch

    with atomic_output(path) as temporary:
        torch.save(state, temporary)


def write_train_record(model_dir: Path, record: dict) -> Path:
    """Write :data:`TRAIN_RECORD` of a model folder being finished (what :func:`read_train_record` reads).

    Parameters
    ----------
    model_dir : Path
        The model folder (a temporary one, renamed into place afterwards).
    record : dict
        The training's key, size, settings, numbers and the SHA-256 of every model file.

    Returns
    -------
    Path
        The record file.
    """
    path = Path(model_dir) / TRAIN_RECORD
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return path
