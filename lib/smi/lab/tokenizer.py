r"""Names made of syllable tokens, and the lab's subword tokenizer trained on the corpus.

A lab entity must not be one row of the embedding matrix: a model that stores a
fact in that row only memorises a label. Family names and organisation stems are
therefore made of consonant–vowel syllables of a pool of 50 (:data:`SYLLABLES`,
10 onsets × 5 vowels), three per family name and two per stem, so a name is a
sequence of syllable tokens the model shares with every other name.

:func:`train_lab_tokenizer` trains a byte-level BPE (the ``tokenizers`` library)
on the corpus documents in which every made-up name word is written with its
syllables split by hyphens (``Kalore`` → ``Ka-lo-re``): the byte-level
pre-tokenizer splits at the hyphens, so no merge is ever learned across a
syllable boundary and no whole name becomes a token. Byte-level BPE has a token
for every byte, so no prompt — of a seen or an unseen template — has an unknown
token. Every text gets a leading space (``add_prefix_space``), so a prompt that
opens with a name is tokenised as the name is inside a document. The model over this
tokenizer is built by :mod:`smi.lab.model`.

Notes
-----
A name of :math:`n` syllables is one of :math:`50^n` words; a family name of
three syllables is one of 125,000. The vocabulary is the 256 bytes, the specials
``[PAD] [UNK] [BOS] [EOS]`` and at most ``vocab_size`` − 260 merges.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

from smi.errors import check_scalar

ONSETS = ("b", "d", "k", "l", "m", "n", "r", "s", "t", "v")
VOWELS = ("a", "e", "i", "o", "u")
#: The 50 syllables of made-up names: one onset and one vowel.
SYLLABLES: tuple[str, ...] = tuple(onset + vowel for onset in ONSETS for vowel in VOWELS)
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[BOS]", "[EOS]")
#: Vocabulary size of the lab tokenizer (bytes, specials and merges).
DEFAULT_VOCAB_SIZE = 2048
_SYLLABLE_WORD = re.compile(rf"(?:{'|'.join(SYLLABLES)})+")


def syllable_names(
    rng: np.random.Generator, n: int, syllables: int, taken: Iterable[str] = (), avoid_prefixes: Iterable[str] = ()
) -> list[str]:
    """``n`` distinct capitalised words of ``syllables`` syllables of :data:`SYLLABLES`.

    Parameters
    ----------
    rng : numpy.random.Generator
        The random source.
    n : int
        How many names.
    syllables : int
        Syllables per name, at least 2.
    taken : iterable of str
        Words not to use.
    avoid_prefixes : iterable of str
        No name starts with one of these (so an object's name is never found inside a person's).

    Returns
    -------
    list of str
        The names, in the order drawn.

    Raises
    ------
    ParameterValueError
        When ``syllables`` is below 2 or ``n`` exceeds the names there are.

    Notes
    -----
    Each syllable is drawn uniformly from the 50; a drawn word already used is drawn again.
    """
    check_scalar(syllables, "syllables", "integer", minimum=2)
    check_scalar(n, "n", "integer", maximum=len(SYLLABLES) ** syllables // 2)
    seen = set(taken)
    prefixes = tuple(avoid_prefixes)
    names: list[str] = []
    while len(names) < n:
        word = "".join(SYLLABLES[i] for i in rng.integers(len(SYLLABLES), size=syllables)).capitalize()
        if word not in seen and not word.startswith(prefixes):
            seen.add(word)
            names.append(word)
    return names


def split_syllables(word: str) -> list[str]:
    """The syllables of a made-up word (two letters each), or ``[word]`` when it is not one.

    Parameters
    ----------
    word : str
        A word.

    Returns
    -------
    list of str
        Its syllables.
    """
    if len(word) >= 4 and _SYLLABLE_WORD.fullmatch(word.lower()):
        return [word[i : i + 2] for i in range(0, len(word), 2)]
    return [word]


def made_up_words(subjects: Iterable[str]) -> list[str]:
    """The words of ``subjects`` made of syllables (family names and organisation stems, not first names), sorted.

    Parameters
    ----------
    subjects : iterable of str
        Entity names.

    Returns
    -------
    list of str
        Distinct made-up words.
    """
    from smi.lab.vocabulary import FIRST_NAMES

    real = set(FIRST_NAMES)
    return sorted(
        {word for name in subjects for word in name.split() if word not in real and len(split_syllables(word)) > 1}
    )


def hyphenate_names(texts: Sequence[str], words: Iterable[str]) -> list[str]:
    """``texts`` with every whole occurrence of ``words`` written with hyphens between its syllables.

    Parameters
    ----------
    texts : sequence of str
        Documents.
    words : iterable of str
        Made-up words.

    Returns
    -------
    list of str
        The texts the tokenizer is trained on.
    """
    words = sorted(set(words), key=len, reverse=True)
    if not words:
        return list(texts)
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b")
    return [pattern.sub(lambda m: "-".join(split_syllables(m.group(1))), text) for text in texts]


def train_lab_tokenizer(texts: Sequence[str], subjects: Iterable[str], vocab_size: int = DEFAULT_VOCAB_SIZE):
    """A byte-level BPE tokenizer trained on ``texts`` whose made-up names never merge across syllables.

    Parameters
    ----------
    texts : sequence of str
        The corpus documents.
    subjects : iterable of str
        The entities' names (their made-up words are hyphenated for training, :func:`hyphenate_names`).
    vocab_size : int
        Largest vocabulary, at least 300.

    Returns
    -------
    transformers.PreTrainedTokenizerFast
        The tokenizer, with ``[PAD]``, ``[UNK]``, ``[BOS]`` and ``[EOS]``.

    Raises
    ------
    ParameterValueError
        When ``vocab_size`` is below 300.

    Notes
    -----
    BPE repeatedly merges the most frequent adjacent pair of symbols within a pre-token; the
    training is deterministic for the same texts.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    check_scalar(vocab_size, "vocab_size", "integer", minimum=300)
    bpe = Tokenizer(models.BPE(unk_token="[UNK]"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(hyphenate_names(texts, made_up_words(subjects)), trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe, pad_token="[PAD]", unk_token="[UNK]", bos_token="[BOS]", eos_token="[EOS]"
    )
