r"""What a lab model sees, step by step: packed blocks, the batches of each epoch, and the learning rate.

Data. Each epoch visits every document once, in an order drawn from
``(seed, epoch)``. Documents (each followed by the end-of-sequence token) are
packed greedily into blocks of ``block_size`` tokens without being cut (a longer
document is split into block-sized pieces); the rest of a block is padding,
which carries no loss (:func:`batch_tensors`). The loss is the mean next-token
cross-entropy over the non-padding tokens of a batch,

.. math:: \mathcal L = -\frac{1}{|T|}\sum_{t \in T} \log p_\theta(x_{t} \mid x_{<t}).

Optimisation. AdamW (:math:`\beta = (0.9, 0.95)`, :mod:`smi.lab.train`), the learning rate rising
linearly over the first ``warmup_share`` of the steps and then falling as a
half cosine to a tenth of its peak (:func:`learning_rate`):

.. math::

    \eta(t) = \eta_{\max}\left(0.1 + 0.45\,\bigl(1 + \cos(\pi\,\tfrac{t - t_w}{T - t_w})\bigr)\right),
    \quad t \ge t_w.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from smi.lab.train import TrainSettings


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
