"""The resumable probe run: records appended per chunk of facts to a partial file keyed on everything they depend on.

The partial file's first line is :func:`run_header`: the facts, templates, model fingerprint,
settings, protocol version and a hash of the code that decides the results
(:func:`protocol_code_sha256`). A rerun with the same header resumes; a partial file with
another header is set aside, never reused.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from smi.errors import SmiError, check_scalar
from smi.files import atomic_output, open_no_follow, remove_orphaned_temporaries
from smi.hashing import code_sha256, frame_sha256, json_sha256
from smi.locks import output_lock
from smi.probing import protocol
from smi.probing.backends import Generator, generator_fingerprint
from smi.probing.inputs import check_templates_cover
from smi.probing.protocol import ProbeSettings, fact_prompts, fact_record

#: Fields every record of a probe output carries, besides the counts when joined.
OUTPUT_FIELDS = ("idx", "subj", "rel", "obj", "qus", "acc", "n_answers")

#: The header's parts, as a note names them when a partial file was written for other ones.
PARTS_OF_HEADER = {
    "code_sha256": "probing code",
    "facts_sha256": "facts",
    "templates_sha256": "templates",
    "model": "model",
    "settings": "settings",
    "keep_answers": "--keep-answers",
}


def partial_path(out_path: Path) -> Path:
    """Where a run in progress appends its records: ``OUT.partial.jsonl`` beside ``out_path``.

    Parameters
    ----------
    out_path : Path
        The run's output file.

    Returns
    -------
    Path
        The partial file.
    """
    out_path = Path(out_path)
    return out_path.with_name(out_path.name + ".partial.jsonl")


def protocol_code_sha256() -> str:
    """SHA-256 of the code that turns a fact into its record (:func:`smi.hashing.code_sha256`).

    Returns
    -------
    str
        The hex digest of the code of :mod:`smi.probing.protocol` (settings, prompts, seeds,
        scoring, the record), :mod:`smi.probing.backends` (padding, sampling, decoding) and every
        :mod:`smi` module they import; comments and docstrings do not count. The libraries'
        versions are in the model's fingerprint.
    """
    return code_sha256(["smi.probing.protocol", "smi.probing.backends"])


def run_header(
    facts: pd.DataFrame, templates: dict[str, list[str]], settings: ProbeSettings, fingerprint: dict, keep_answers: bool
) -> dict:
    """The first line of a partial file: everything its records depend on, which a run must match to resume it.

    Parameters
    ----------
    facts : pandas.DataFrame
        The facts to probe, with any joined counts.
    templates : dict of str to list of str
        Templates by relation.
    settings : ProbeSettings
        The run's settings.
    fingerprint : dict
        The model's :func:`~smi.probing.backends.generator_fingerprint`.
    keep_answers : bool
        Whether records keep their answers.

    Returns
    -------
    dict
        ``code_sha256``, ``facts_sha256``, ``templates_sha256``,
        ``model``, ``settings`` and ``keep_answers``.
    """
    return {
        "code_sha256": protocol_code_sha256(),
        "facts_sha256": frame_sha256(facts),
        "templates_sha256": json_sha256(templates),
        "model": fingerprint,
        "settings": asdict(settings),
        "keep_answers": keep_answers,
    }


def header_name(header: dict) -> str:
    """A short hash of a header (12 hex digits), naming a partial file set aside for it.

    Parameters
    ----------
    header : dict
        A :func:`run_header`.

    Returns
    -------
    str
        The name.
    """
    return json_sha256(header)[:12]


def set_aside_path(out_path: Path, header: dict) -> Path:
    """Where a partial file written for ``header`` is kept when a run with another header starts.

    Parameters
    ----------
    out_path : Path
        The run's output file.
    header : dict
        The header the partial file was written for.

    Returns
    -------
    Path
        ``OUT.partial-<header_name>.jsonl`` beside ``out_path``.
    """
    out_path = Path(out_path)
    return out_path.with_name(f"{out_path.name}.partial-{header_name(header)}.jsonl")


def _read_no_follow(path: Path) -> bytes:
    """The bytes of ``path``, a torn last line (a kill while writing it) cut off the file; a link is refused."""
    fd = open_no_follow(path, os.O_RDWR)
    try:
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read()
        if data and not data.endswith(b"\n"):  # killed while writing the last line
            data = data[: data.rfind(b"\n") + 1]
            os.ftruncate(fd, len(data))
    finally:
        os.close(fd)
    return data


def read_partial(path: Path, header: dict, check: Callable[[dict], str] | None = None) -> tuple[dict | None, str]:
    """Records already written by an interrupted run, if its header equals ``header``.

    A torn last line (a kill while writing it) is cut off the file, so that the next
    record starts on a line of its own. With ``check``, every record is read through
    it (:func:`smi.probing.protocol.record_problem`): a record it finds a problem with
    is left out, so that its fact is probed again.

    Parameters
    ----------
    path : Path
        The partial file (a symbolic link is refused).
    header : dict
        The header of the run that wants to resume (:func:`run_header`).
    check : callable or None
        Returns the problem of a record (with an ``idx``), or "" when it is valid.

    Returns
    -------
    records : dict or None
        The valid records by idx, or None when the file was written for other inputs or cannot be read.
    why_not : str
        Empty when every record was valid; else why the file or some records were not used.
    """
    lines = _read_no_follow(Path(path)).decode("utf-8", errors="replace").splitlines()
    if not lines:
        return None, "empty"
    try:
        found = json.loads(lines[0])
    except json.JSONDecodeError:
        return None, "line 1 is not a probe header"
    if not isinstance(found, dict):
        return None, "line 1 is not a probe header"
    if found != header:
        changed = [label for key, label in PARTS_OF_HEADER.items() if found.get(key) != header.get(key)]
        return None, f"written for other {', '.join(changed) or 'inputs'}"
    done, problems = {}, []
    for number, line in enumerate(lines[1:], start=2):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            return None, f"line {number} is not valid JSON"
        if not isinstance(record, dict) or "idx" not in record or "acc" not in record:
            return None, f"line {number} is not a probe record"
        problem = check(record) if check is not None else ""
        if problem:
            problems.append(f"line {number}: {problem}")
            continue
        done[record["idx"]] = record
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return done, f"{problems[0]}{more}"
    return done, ""


def start_partial(
    out_path: Path, header: dict, say: Callable[[str], None] | None = None, check: Callable[[dict], str] | None = None
) -> dict:
    """Open the partial file of a run with ``header``: the valid records it already holds, by idx.

    A partial file written for another header is not reused: it is renamed to
    :func:`set_aside_path` of its own header (nothing is deleted), and a partial
    file set aside earlier for ``header`` is taken back. Records ``check`` refuses are
    dropped from the file (rewritten atomically) and their facts probed again, with a note.

    Parameters
    ----------
    out_path : Path
        The run's output file.
    header : dict
        The run's :func:`run_header`.
    say : callable or None
        Receives a line about each of these decisions (default: standard error).
    check : callable or None
        The reader of a record (:func:`read_partial`).

    Returns
    -------
    dict
        Records already done, by idx (empty for a fresh start, whose partial file then holds the header).

    Raises
    ------
    SmiError
        When the partial file is a symbolic link.
    """
    say = say or (lambda line: print(line, file=sys.stderr))
    partial = partial_path(out_path)
    if partial.is_symlink():
        open_no_follow(partial, os.O_RDONLY)  # refuses with its one line
    if partial.is_file():
        done, why_not = read_partial(partial, header, check)
        if done is not None:
            if why_not:
                _rewrite_partial(partial, header, done.values())
                say(f"{partial}: {why_not}: not reused, recomputing those facts")
            say(f"resuming from {partial} ({len(done)} facts done)")
            return done
        try:
            found = json.loads(partial.read_text(encoding="utf-8", errors="replace").splitlines()[0])
        except (json.JSONDecodeError, IndexError):
            found = {"unreadable": partial.stat().st_mtime_ns}
        aside = set_aside_path(out_path, found if isinstance(found, dict) else {"unreadable": str(found)})
        os.replace(partial, aside)
        say(f"{partial}: {why_not}; kept as {aside.name}, recomputing")
    earlier = set_aside_path(out_path, header)
    if earlier.is_file() and not earlier.is_symlink():
        done, why_not = read_partial(earlier, header, check)
        if done is not None:
            if why_not:
                _rewrite_partial(earlier, header, done.values())
                say(f"{earlier}: {why_not}: not reused, recomputing those facts")
            os.replace(earlier, partial)
            say(f"resuming from {earlier.name}, set aside earlier for these inputs ({len(done)} facts done)")
            return done
    _rewrite_partial(partial, header, [])
    return {}


def _rewrite_partial(partial: Path, header: dict, records: Iterable[dict]) -> None:
    """Replace the partial file (atomically, never through a link) by ``header`` and ``records``."""
    with atomic_output(partial) as temporary:
        _append_lines(temporary, [header, *records])


def _append_lines(path: Path, items: Iterable[dict]) -> None:
    fd = open_no_follow(path, os.O_WRONLY | os.O_APPEND)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def write_records(records: list[dict], path: Path) -> None:
    """Write a JSON list, one record per line, atomically (a temporary file renamed into place).

    Parameters
    ----------
    records : list of dict
        The records.
    path : Path
        The output file.
    """
    with atomic_output(path) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        handle.write("[\n" + ",\n".join(json.dumps(record, ensure_ascii=False) for record in records) + "\n]\n")


def probe(
    facts: pd.DataFrame,
    templates: dict[str, list[str]],
    generator: Generator,
    settings: ProbeSettings,
    out_path: Path,
    *,
    model: str = "",
    keep_answers: bool = False,
    chunk_facts: int = 8,
    progress: bool = True,
    say: Callable[[str], None] | None = None,
) -> list[dict]:
    r"""Probe every fact, appending records per chunk of facts so that an interrupted run resumes.

    Records go to ``OUT.partial.jsonl`` as they are done; when all facts are
    done they are written, in the facts' order, as a JSON list to ``out_path``
    and the partial file is removed. The partial file's first line is
    :func:`run_header`; a rerun with the same key skips the facts already done,
    and because every continuation has its own seed, the result equals that of an
    uninterrupted run. A partial file with another key is set aside, never reused
    (:func:`start_partial`).

    Parameters
    ----------
    facts : pandas.DataFrame
        The facts: ``idx, subj, rel, obj`` (``qus`` and ``time_*`` are carried into the records).
    templates : dict of str to list of str
        Templates by relation; every fact's relation must have some.
    generator : Generator
        What continues the prompts (:func:`~smi.probing.backends.load_generator`).
    settings : ProbeSettings
        Samples, temperature, seed, match rule…
    out_path : Path
        The output JSON list.
    model : str
        A label for the model, keying the partial file when the generator has no fingerprint.
    keep_answers : bool
        Store each fact's answers, one list per template.
    chunk_facts : int
        Facts per checkpoint appended to the partial file, at least 1.
    progress : bool
        Show a progress bar.
    say : callable or None
        Receives a line about resuming or setting a partial file aside (default: standard error).

    Returns
    -------
    list of dict
        One record per fact (:func:`~smi.probing.protocol.fact_record`), in the facts' order.

    Raises
    ------
    SmiError
        When ``chunk_facts`` is below 1, a relation has no templates, the output is not writable, or
        the generator returns a wrong number of answers.

    Notes
    -----
    For a fact :math:`(s, r, o)` with :math:`T` templates and :math:`K` answers per template,

    .. math::

        \mathrm{acc}(s, r, o) = \frac{1}{T K} \sum_{t=1}^{T} \sum_{k=1}^{K}
            \mathbb{1}\left[o \text{ occurs in } a_{t,k}\right]
    """
    from smi.files import check_writable

    check_scalar(chunk_facts, "chunk_facts", "integer", minimum=1)
    check_templates_cover(facts, templates, Path("facts"), Path("templates"))
    out_path = check_writable(Path(out_path))
    with output_lock(out_path, "smi probe"):
        return _probe_locked(
            facts, templates, generator, settings, out_path, model, keep_answers, chunk_facts, progress, say
        )


def _probe_locked(
    facts: pd.DataFrame,
    templates: dict[str, list[str]],
    generator: Generator,
    settings: ProbeSettings,
    out_path: Path,
    model: str,
    keep_answers: bool,
    chunk_facts: int,
    progress: bool,
    say: Callable[[str], None] | None,
) -> list[dict]:
    """:func:`probe` holding the output's lock."""
    from tqdm import tqdm

    partial = partial_path(out_path)
    for path in (out_path, partial):  # what a killed run into this output left
        remove_orphaned_temporaries(path, "smi probe")
    header = run_header(facts, templates, settings, generator_fingerprint(generator, model), keep_answers)
    rows = facts.to_dict("records")
    by_idx = {fact["idx"]: fact for fact in rows}

    def check(record: dict) -> str:
        fact = by_idx.get(record["idx"]) if isinstance(record["idx"], int) else None
        if fact is None:
            return f"idx {record['idx']!r} is not a fact being probed"
        return protocol.record_problem(record, fact, templates[fact["rel"]], settings, keep_answers)

    done = start_partial(out_path, header, say, check)
    todo = [fact for fact in rows if fact["idx"] not in done]
    with tqdm(total=len(rows), initial=len(rows) - len(todo), unit="fact", desc="probe", disable=not progress) as bar:
        for start in range(0, len(todo), chunk_facts):
            chunk = todo[start : start + chunk_facts]
            prompts, seeds, spans = [], [], []
            for fact in chunk:
                fact_prompt_list, fact_seeds = fact_prompts(fact, templates[fact["rel"]], settings)
                spans.append((len(prompts), len(prompts) + len(fact_prompt_list)))
                prompts += fact_prompt_list
                seeds += fact_seeds
            answers = generator.generate(prompts, seeds)
            if len(answers) != len(prompts):
                raise SmiError(f"the generator returned {len(answers)} answers for {len(prompts)} prompts")
            records = [
                fact_record(fact, templates[fact["rel"]], answers[a:b], settings, keep_answers)
                for fact, (a, b) in zip(chunk, spans, strict=True)
            ]
            _append_lines(partial, records)
            done.update((record["idx"], record) for record in records)
            bar.update(len(chunk))
    ordered = [done[fact["idx"]] for fact in rows]
    write_records(ordered, out_path)
    partial.unlink(missing_ok=True)
    return ordered
