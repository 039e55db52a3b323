r"""The lab corpus folder: its files, the one writer and the readers every other lab command uses.

A generated corpus (:class:`LabCorpus`, made by :mod:`smi.lab.design` or :mod:`smi.lab.power`)
is written by :func:`write_corpus` as a folder of:

``corpus.jsonl``
    one document per line, field ``text`` (what ``smi count`` and training read);
``facts.json``
    the facts, a JSON list of ``idx, subj, rel, obj`` (the release's format);
``templates.json``
    ``{relation: [prompt with [S], ...]}``: the relation's three prompts that the
    corpus uses; each fact is stated in 1–3 of them (its ``paraphrases``), so most
    facts are also asked in phrasings never used for them;
``unseen_templates.json``
    one more prompt per relation that no document uses (a question never asked in training);
``truth.csv``
    per fact: ``idx, subj_docs, obj_docs, both_docs`` (documents containing the
    subject, the object and both under the paper's matching rule), ``stated_docs``
    (documents stating the fact) and the other knobs (``mention_docs``,
    ``paraphrases``, ``answer_share``);
``lab.json``
    the settings, the number of documents and a SHA-256 of every file above.

:func:`check_corpus_dir` and :func:`corpus_fingerprint` check a folder before it is used;
:func:`corpus_documents`, :func:`read_truth` and :func:`read_meta` read its files.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from smi.errors import ParameterValueError, SmiError
from smi.files import atomic_outputs
from smi.hashing import file_sha256, json_sha256

if TYPE_CHECKING:
    from smi.lab.design import DesignSettings
    from smi.lab.settings import CorpusSettings

#: The files of a lab corpus folder, in the order they are renamed into place (lab.json last).
CORPUS_FILES = ("corpus.jsonl", "facts.json", "templates.json", "unseen_templates.json", "truth.csv", "lab.json")
TRUTH_COLUMNS = [
    "idx",
    "subj_docs",
    "obj_docs",
    "both_docs",
    "stated_docs",
    "mention_docs",
    "paraphrases",
    "answer_share",
]
#: Bumped whenever the generator's output for given settings changes.
GENERATOR_VERSION = 2


@dataclass
class LabCorpus:
    """A generated corpus: documents, facts, prompts and the truth table."""

    settings: CorpusSettings | DesignSettings
    documents: list[str]
    facts: pd.DataFrame
    templates: dict[str, list[str]]
    unseen_templates: dict[str, list[str]]
    truth: pd.DataFrame
    extra: dict = field(default_factory=dict)


def write_corpus(corpus: LabCorpus, out_dir: Path) -> list[Path]:
    """Write the lab folder (:data:`CORPUS_FILES`) atomically: every file is renamed into place, ``lab.json`` last.

    Parameters
    ----------
    corpus : LabCorpus
        The corpus.
    out_dir : Path
        The lab folder (created).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    SmiError
        When ``out_dir`` is a file or a file cannot be written.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterValueError("out_dir", "must be a folder, and this is a file", out_dir)
    paths = [out_dir / name for name in CORPUS_FILES]
    with atomic_outputs(paths) as temporaries:
        corpus_tmp, facts_tmp, templates_tmp, unseen_tmp, truth_tmp, meta_tmp = temporaries
        with open(corpus_tmp, "w", encoding="utf-8") as handle:
            for text in corpus.documents:
                handle.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
        facts_json = corpus.facts.to_json(orient="records", force_ascii=False, indent=1)
        facts_tmp.write_text(facts_json + "\n", encoding="utf-8")
        templates_tmp.write_text(json.dumps(corpus.templates, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        unseen_json = json.dumps(corpus.unseen_templates, indent=1, ensure_ascii=False)
        unseen_tmp.write_text(unseen_json + "\n", encoding="utf-8")
        corpus.truth.to_csv(truth_tmp, index=False, float_format="%.10g")
        meta = {
            "generator_version": GENERATOR_VERSION,
            "settings": asdict(corpus.settings),
            "documents": len(corpus.documents),
            "facts": len(corpus.facts),
            **corpus.extra,
            "sha256": {name: file_sha256(tmp) for name, tmp in zip(CORPUS_FILES[:-1], temporaries[:-1])},
        }
        meta_tmp.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return paths


def check_corpus_dir(corpus_dir: Path) -> Path:
    """Require a lab folder with every file of :data:`CORPUS_FILES`; name the first one missing.

    Parameters
    ----------
    corpus_dir : Path
        The lab folder.

    Returns
    -------
    Path
        ``corpus_dir``.

    Raises
    ------
    SmiError
        When the folder or one of its files is missing.
    """
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise SmiError(f"{corpus_dir}: lab corpus folder not found (make one with `smi lab corpus`)")
    missing = [name for name in CORPUS_FILES if not (corpus_dir / name).is_file()]
    if missing:
        raise SmiError(f"{corpus_dir}: lab corpus folder has no {missing[0]} (needed: {', '.join(CORPUS_FILES)})")
    return corpus_dir


def corpus_fingerprint(corpus_dir: Path) -> str:
    """SHA-256 of the corpus text and facts as recorded in ``lab.json``, checked against the files' bytes.

    Parameters
    ----------
    corpus_dir : Path
        The lab folder.

    Returns
    -------
    str
        The hex digest.

    Raises
    ------
    SmiError
        When ``lab.json`` is invalid or a file changed since it was written.
    """
    corpus_dir = check_corpus_dir(corpus_dir)
    meta = read_meta(corpus_dir)
    for name in CORPUS_FILES[:-1]:
        if file_sha256(corpus_dir / name) != meta["sha256"].get(name):
            raise SmiError(
                f"{corpus_dir / name}: changed since lab.json was written (SHA-256 differs); regenerate the corpus"
            )
    return json_sha256(meta["sha256"])


def read_meta(corpus_dir: Path) -> dict:
    """``lab.json`` of a lab folder, checked to hold the SHA-256 of every file.

    Parameters
    ----------
    corpus_dir : Path
        The lab folder.

    Returns
    -------
    dict
        The metadata.

    Raises
    ------
    SmiError
        When ``lab.json`` is missing, invalid or lacks the hashes.
    """
    path = Path(corpus_dir) / "lab.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise SmiError(f"{path}: not a lab metadata file ({error})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), dict):
        raise SmiError(f"{path}: missing field 'sha256'")
    return meta


def corpus_documents(corpus_dir: Path) -> list[str]:
    """The documents' texts of ``corpus.jsonl``, read by the project's corpus reader (:mod:`smi.corpus_io`).

    As for any JSON-lines corpus, a byte order mark opening the file is ignored and blank lines
    are not documents; a line that is not a JSON object with a string ``text`` is an error.

    Parameters
    ----------
    corpus_dir : Path
        The lab folder.

    Returns
    -------
    list of str
        The texts, in file order.

    Raises
    ------
    SmiError
        When the file cannot be read, a line is not valid JSON or its ``text`` is not a string, or
        there is no document.
    """
    from smi import corpus_io

    path = Path(corpus_dir) / "corpus.jsonl"
    texts = [text for shard in corpus_io.plan_shards([path]) for text in corpus_io.read_documents(shard)]
    if not texts:
        raise SmiError(f"{path}: no documents")
    return texts


def read_truth(corpus_dir: Path) -> pd.DataFrame:
    """``truth.csv`` with every column of :data:`TRUTH_COLUMNS`.

    Parameters
    ----------
    corpus_dir : Path
        The lab folder.

    Returns
    -------
    pandas.DataFrame
        One row per fact.

    Raises
    ------
    SmiError
        When the file cannot be read or lacks a column.
    """
    path = Path(corpus_dir) / "truth.csv"
    try:
        truth = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise SmiError(f"{path}: cannot read CSV ({str(error).splitlines()[0]})") from None
    missing = [column for column in TRUTH_COLUMNS if column not in truth.columns]
    if missing:
        raise SmiError(f"{path}: missing column '{missing[0]}'")
    return truth
