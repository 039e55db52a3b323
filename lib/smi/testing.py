"""Tiny untrained causal language models built from text: the scaffolding of tests and demonstrations.

:func:`save_tiny_model` writes a randomly initialised GPT-NeoX or Llama network with a
word-level tokenizer trained on given texts, so that nothing is downloaded;
:func:`facts_vocabulary` gives texts that cover every word of a probe's prompts and objects.
The knowledge lab builds its own models, with its own tokenizer (:mod:`smi.lab.model`), not these.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from smi.errors import check_one_of
from smi.probing.protocol import fill_template

#: Architectures :func:`save_tiny_model` builds.
TINY_ARCHITECTURES = ("gpt_neox", "llama")


def check_architecture(architecture: str) -> str:
    """Check that :func:`save_tiny_model` can build ``architecture``.

    Parameters
    ----------
    architecture : str
        An architecture name.

    Returns
    -------
    str
        ``architecture`` itself.

    Raises
    ------
    SmiError
        When it is not one of :data:`TINY_ARCHITECTURES` (the message lists them).
    """
    return check_one_of(architecture, TINY_ARCHITECTURES, "architecture")


def save_tiny_model(
    out_dir: Path,
    texts: Sequence[str],
    architecture: str = "gpt_neox",
    seed: int = 0,
    hidden_size: int = 32,
    layers: int = 2,
) -> Path:
    """Write a randomly initialised causal LM and a word-level tokenizer trained on ``texts`` to ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        The model folder (created); it loads with ``from_pretrained(out_dir)``.
    texts : sequence of str
        Texts whose whitespace-separated words make the vocabulary (plus ``[PAD]``, ``[UNK]``,
        ``[BOS]``, ``[EOS]``).
    architecture : {"gpt_neox", "llama"}
        The network.
    seed : int
        Seed of the random initialisation.
    hidden_size : int
        Width of the network (4 attention heads, feed-forward twice as wide).
    layers : int
        Number of transformer layers.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    SmiError
        When ``architecture`` is unknown.
    """
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import (
        GPTNeoXConfig,
        GPTNeoXForCausalLM,
        LlamaConfig,
        LlamaForCausalLM,
        PreTrainedTokenizerFast,
    )

    special = ["[PAD]", "[UNK]", "[BOS]", "[EOS]"]
    word_level = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    word_level.pre_tokenizer = pre_tokenizers.Whitespace()
    word_level.train_from_iterator(list(texts), trainers.WordLevelTrainer(special_tokens=special))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=word_level, pad_token="[PAD]", unk_token="[UNK]", bos_token="[BOS]", eos_token="[EOS]"
    )
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in special}
    shape = {
        "vocab_size": len(tokenizer),
        "hidden_size": hidden_size,
        "num_hidden_layers": layers,
        "num_attention_heads": 4,
        "intermediate_size": 2 * hidden_size,
        "max_position_embeddings": 256,
        "bos_token_id": ids["[BOS]"],
        "eos_token_id": ids["[EOS]"],
        "pad_token_id": ids["[PAD]"],
    }
    check_architecture(architecture)
    torch.manual_seed(seed)
    if architecture == "gpt_neox":
        model = GPTNeoXForCausalLM(GPTNeoXConfig(**shape))
    else:
        model = LlamaForCausalLM(LlamaConfig(num_key_value_heads=2, **shape))
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def facts_vocabulary(facts: pd.DataFrame, templates: dict[str, list[str]]) -> list[str]:
    """Texts that cover every word of the facts and templates: a tokenizer trained on them knows every prompt.

    Parameters
    ----------
    facts : pandas.DataFrame
        Facts with ``subj``, ``rel`` and ``obj``.
    templates : dict of str to list of str
        Templates by relation, covering every fact's relation.

    Returns
    -------
    list of str
        One text per (fact, template): the filled prompt followed by the object.

    Raises
    ------
    SmiError
        When a template has no ``[S]``.
    """
    return [
        fill_template(template, fact.subj) + " " + fact.obj
        for fact in facts.itertuples(index=False)
        for template in templates[fact.rel]
    ]
