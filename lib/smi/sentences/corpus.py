"""The corpus read and split into sentences by a Punkt splitter trained on the corpus itself."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktTrainer

from smi.corpus_io import SkipLog, read_file_documents
from smi.errors import SmiError
from smi.formats import first_unencodable

__all__ = ["read_corpus", "split_sentences", "train_punkt"]


def _text_problem(text: str) -> str | None:
    """Why a corpus text cannot be read here (empty, or holding a lone surrogate), or None."""
    if not text.strip():
        return "field 'text' is empty"
    if first_unencodable([text]) is not None:
        return "field 'text' is not valid Unicode (a lone surrogate)"
    return None


def read_corpus(path: Path, skip_bad_lines: bool = False) -> tuple[list[str], int]:
    """Texts of a JSONL corpus (one ``{"text": ...}`` per line) and the number of lines skipped.

    The corpus is read by :func:`smi.corpus_io.read_file_documents`, the reader of
    ``smi count``, with its rules: a byte-order mark opening the file is accepted,
    blank lines are not documents, and a bad line (not UTF-8, not a JSON object,
    without a string ``text``) raises :class:`SmiError` naming the file and line,
    unless ``skip_bad_lines``. Here a line is also bad when its text is empty (it
    has no sentence) or holds a lone surrogate (sentences are written back as UTF-8).

    Parameters
    ----------
    path : Path
        The JSONL corpus.
    skip_bad_lines : bool
        Skip and count bad lines instead of raising.

    Returns
    -------
    texts : list of str
        The documents' texts, in file order.
    skipped : int
        How many lines were skipped.

    Raises
    ------
    SmiError
        When the file is missing, a line is bad (without ``skip_bad_lines``), or no document is left.
    """
    skipped = SkipLog() if skip_bad_lines else None
    texts = list(read_file_documents(path, "text", skipped, _text_problem))
    if not texts:
        raise SmiError(f"{path}: corpus has no documents")
    return texts, skipped.count if skipped is not None else 0


def train_punkt(texts: list[str]) -> PunktSentenceTokenizer:
    """A Punkt sentence splitter whose abbreviations, collocations and sentence starters are learnt from ``texts``.

    Punkt (Kiss & Strunk, 2006) is unsupervised: a word that is short and mostly
    followed by a period (``Dr.``, ``St.``, ``U.S.``) is taken for an abbreviation,
    so its period does not end a sentence.

    Parameters
    ----------
    texts : list of str
        The corpus texts.

    Returns
    -------
    nltk.tokenize.punkt.PunktSentenceTokenizer
        The trained splitter.
    """
    trainer = PunktTrainer()
    trainer.train("\n\n".join(texts), finalize=True)
    return PunktSentenceTokenizer(trainer.get_params())


def split_sentences(texts: list[str], splitter: PunktSentenceTokenizer, progress: bool = False) -> pd.DataFrame:
    """One row per sentence: doc (position of the text), sentence (its text).

    Parameters
    ----------
    texts : list of str
        The documents.
    splitter : PunktSentenceTokenizer
        The sentence splitter (:func:`train_punkt`).
    progress : bool
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        Columns doc and sentence, in document then sentence order.
    """
    from tqdm import tqdm

    rows = [
        (doc, sentence)
        for doc, text in enumerate(tqdm(texts, desc="split", unit="doc", disable=not progress))
        for sentence in splitter.tokenize(text)
    ]
    return pd.DataFrame(rows, columns=["doc", "sentence"])
