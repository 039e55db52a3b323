"""Writing output files so that a reader never sees a half-written one.

Every command writes through :func:`atomic_output` (one file) or
:func:`atomic_outputs` (several files that belong together): the data goes to a
temporary file with a unique name beside the target, is flushed to disk, and is
renamed over the target only when it is complete. Two runs writing one target
never share a temporary file, and a kill at any moment leaves either the old
complete file or the new complete file at the target, never a part of one.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from smi.errors import SmiError

#: Temporary files are named ``.<target name>.<random>.tmp`` beside their target.
TEMPORARY_SUFFIX = ".tmp"


def temporary_path(path: Path) -> Path:
    """A new, unique, empty file beside ``path`` (created, so no other run can take its name).

    Parameters
    ----------
    path : Path
        The final output path; its folder must exist.

    Returns
    -------
    Path
        The new empty file, named after ``path`` with a unique suffix.
    """
    path = Path(path)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX, dir=path.parent)
    try:
        os.fchmod(handle, 0o666 & ~_umask())  # mkstemp makes 0600; give the output the usual permissions
    finally:
        os.close(handle)
    return Path(name)


def _umask() -> int:
    """The process's file-creation mask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    """Flush a written file, or a folder's renames, to disk (a no-op where that is not supported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_writable(path: Path, what: str = "output") -> Path:
    """Refuse, before any work starts, an output path that cannot be written.

    The parent folder is created when missing. Raises :class:`SmiError` naming
    ``path`` when it is a folder, when a parent is a file, or when the folder does
    not accept a new file (read-only, full disk).

    Parameters
    ----------
    path : Path
        The output file.
    what : str
        What the file is, for the message.

    Returns
    -------
    Path
        ``path`` itself.

    Raises
    ------
    SmiError
        When ``path`` is a folder, a parent is a file, or the folder does not accept a new file.
    """
    path = Path(path)
    if path.is_dir():
        raise SmiError(f"{path}: {what} is a folder, not a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise SmiError(f"{path}: cannot create the {what}: a parent of it is a file") from None
    except OSError as error:
        raise SmiError(f"{path}: cannot create the {what}'s folder ({error.strerror})") from None
    try:
        probe = temporary_path(path)
    except OSError as error:
        raise SmiError(f"{path}: cannot write the {what} ({error.strerror})") from None
    probe.unlink(missing_ok=True)
    if path.exists() and not os.access(path, os.W_OK) and not os.access(path.parent, os.W_OK):
        raise SmiError(f"{path}: cannot replace the {what} (read-only)")
    return path


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a unique temporary path beside ``path``; move it to ``path`` only if the block succeeds.

    The parent folder is created. The temporary file is flushed to disk before the
    rename. If the block raises, the temporary file is removed and ``path`` is left
    as it was (absent, or its previous complete version). An :class:`OSError` while
    writing (full disk, read-only folder) becomes a one-line :class:`SmiError`.

    Parameters
    ----------
    path : Path
        The output file.

    Yields
    ------
    Path
        The temporary file to write.

    Raises
    ------
    SmiError
        When writing or renaming fails with an :class:`OSError`, or ``path`` is a folder.
    """
    with atomic_outputs([path]) as (temporary,):
        yield temporary


@contextmanager
def atomic_outputs(paths: list[Path]) -> Iterator[list[Path]]:
    """:func:`atomic_output` for files that belong together: all are renamed into place, or none.

    The renames happen in the order given once every file is complete, so list
    last the file whose presence says the set is finished (e.g. metadata holding
    the hash of the table it describes). A kill between two renames can leave a
    new file next to an old one; readers that must pair them check the hash.

    Parameters
    ----------
    paths : list of Path
        The output files, the one that marks the set complete last.

    Yields
    ------
    list of Path
        One temporary file per output, in the same order.

    Raises
    ------
    SmiError
        When writing or renaming fails with an :class:`OSError`, or a path is a folder.
    """
    paths = [Path(path) for path in paths]
    temporaries: list[Path] = []
    try:
        for path in paths:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                temporaries.append(temporary_path(path))
            except (FileExistsError, NotADirectoryError):
                raise SmiError(f"{path}: cannot write: a parent of it is a file") from None
            except OSError as error:
                raise SmiError(f"{path}: cannot write ({error.strerror or error})") from None
        try:
            yield temporaries
            for temporary in temporaries:
                _fsync(temporary)
            for temporary, path in zip(temporaries, paths):
                if path.is_dir():
                    raise SmiError(f"{path}: is a folder, not a file")
                os.replace(temporary, path)
            for folder in {path.parent for path in paths}:
                _fsync(folder)
        except OSError as error:
            raise SmiError(f"{error.filename or paths[0]}: cannot write ({error.strerror or error})") from None
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)


# ---------------------------------------------------------------- files the user owns


def open_no_follow(path: Path, flags: int, mode: int = 0o666) -> int:
    """``os.open`` that never writes through a symbolic link: a link as the last part of ``path`` is refused.

    Links in the folders above ``path`` (a data folder, a virtual environment) are followed as usual;
    only the file itself must not be a link, and it must be a regular file.

    Parameters
    ----------
    path : Path
        The file.
    flags : int
        ``os.O_*`` flags (``O_NOFOLLOW`` and ``O_CLOEXEC`` are added).
    mode : int
        Permissions of a file created.

    Returns
    -------
    int
        The open file descriptor.

    Raises
    ------
    SmiError
        When ``path`` is a symbolic link or not a regular file.
    OSError
        Any other failure of ``os.open``.
    """
    path = Path(path)
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC | getattr(os, "O_NONBLOCK", 0), mode)
    except OSError as error:
        if error.errno == errno.ELOOP or path.is_symlink():
            raise SmiError(f"{path}: is a symbolic link; smi does not write through links (remove it)") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SmiError(f"{path}: is not a regular file; smi writes only regular files")
    return fd


#: The file in a folder a command made, naming the command: what lets a later run replace or remove it.
OWNER_MARKER = ".smi-made-by"


def mark_own_folder(folder: Path, command: str) -> Path:
    """Record in ``folder`` that ``command`` made it (the file :data:`OWNER_MARKER`).

    Parameters
    ----------
    folder : Path
        A folder the command has just created.
    command : str
        The command, e.g. ``"smi lab train"``.

    Returns
    -------
    Path
        ``folder``.
    """
    folder = Path(folder)
    fd = open_no_follow(folder / OWNER_MARKER, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(command + "\n")
    return folder


def made_by(folder: Path, command: str) -> bool:
    """Whether ``folder`` is a folder (not a link) whose :data:`OWNER_MARKER` names ``command``.

    Parameters
    ----------
    folder : Path
        The folder.
    command : str
        The command.

    Returns
    -------
    bool
        True when ``command`` made it.
    """
    folder = Path(folder)
    marker = folder / OWNER_MARKER
    if folder.is_symlink() or not folder.is_dir() or marker.is_symlink() or not marker.is_file():
        return False
    try:
        return marker.read_text(encoding="utf-8").strip() == command
    except (OSError, UnicodeDecodeError):
        return False


def check_replaceable_folder(folder: Path, command: str, parameter: str, legacy: str | None = None) -> Path:
    """Refuse an existing ``folder`` that ``command`` did not make, before any work starts.

    A missing folder, an empty one and one :func:`made_by` ``command`` (or, for folders written
    before markers existed, one holding the file ``legacy``) may be replaced by the command;
    anything else (the user's files, a link) is refused, never emptied.

    Parameters
    ----------
    folder : Path
        The output folder the command will replace as a whole.
    command : str
        The command, e.g. ``"smi lab train"``.
    parameter : str
        The library parameter naming the folder (``"out_dir"``), for the message.
    legacy : str or None
        A file whose presence marks a folder the command wrote before it left markers.

    Returns
    -------
    Path
        ``folder``.

    Raises
    ------
    ParameterValueError
        When ``folder`` is a file, a link, or a folder with files the command did not write.
    """
    from smi.errors import ParameterValueError

    folder = Path(folder)
    if folder.is_symlink():
        raise ParameterValueError(parameter, "is a symbolic link; give a new folder", folder)
    if not folder.exists():
        return folder
    if not folder.is_dir():
        raise ParameterValueError(parameter, "must be a folder, and this is a file", folder)
    if made_by(folder, command) or (legacy is not None and (folder / legacy).is_file()):
        return folder
    if any(folder.iterdir()):
        raise ParameterValueError(
            parameter, f"holds files {command} did not write; give a new folder (nothing was changed)", folder
        )
    return folder


def temporary_folder(path: Path, command: str) -> Path:
    """A new folder ``.<name>.<random>.tmp`` beside ``path``, marked as made by ``command``.

    What a command builds before renaming it to ``path``; a run killed meanwhile leaves it, and
    :func:`remove_orphaned_temporaries` of the next run of ``command`` removes it.

    Parameters
    ----------
    path : Path
        The final folder; its parent must exist.
    command : str
        The command making it.

    Returns
    -------
    Path
        The new folder.
    """
    path = Path(path)
    folder = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX, dir=path.parent))
    os.chmod(folder, 0o777 & ~_umask())  # mkdtemp makes 0700; give the output the usual permissions
    return mark_own_folder(folder, command)


def remove_orphaned_temporaries(path: Path, command: str) -> list[Path]:
    """Remove the temporaries of ``path`` that a killed run left; call holding :func:`output_lock` of ``path``.

    Only names this module makes beside ``path`` are considered: files ``.<name>.<8 characters>.tmp``
    (:func:`temporary_path`, regular files, not links) and folders of the same pattern whose
    :data:`OWNER_MARKER` names ``command`` (:func:`temporary_folder`). Nothing else is touched.

    Parameters
    ----------
    path : Path
        The output file or folder.
    command : str
        The command whose temporary folders may be removed.

    Returns
    -------
    list of Path
        What was removed.
    """
    import re
    import shutil

    path = Path(path)
    pattern = re.compile(re.escape(f".{path.name}.") + r"[A-Za-z0-9_]{8}" + re.escape(TEMPORARY_SUFFIX))
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.fullmatch(entry.name) or entry.is_symlink():
            continue
        if entry.is_file(follow_symlinks=False):
            Path(entry.path).unlink(missing_ok=True)
            removed.append(Path(entry.path))
        elif entry.is_dir(follow_symlinks=False) and made_by(Path(entry.path), command):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


def path_inside(folder: Path, relative: str, what: str = "path") -> Path:
    """``folder / relative``, refused unless ``relative`` names a place inside ``folder``.

    ``relative`` must be a relative path without ``..`` parts (a file named in a manifest or
    an archive): an absolute path or one that climbs out of ``folder`` would make a command
    write outside the folder it was given.

    Parameters
    ----------
    folder : Path
        The folder.
    relative : str
        The path inside it, with ``/`` between parts.
    what : str
        What gave the path, for the message.

    Returns
    -------
    Path
        The joined path.

    Raises
    ------
    SmiError
        When ``relative`` is empty, absolute or has a ``..`` part.
    """
    from pathlib import PurePosixPath

    parts = PurePosixPath(relative).parts
    if not relative or PurePosixPath(relative).is_absolute() or ".." in parts or "\\" in relative or "\0" in relative:
        raise SmiError(f"{what} {relative!r}: must be a relative path inside {folder} (no '..', not absolute)")
    return Path(folder).joinpath(*parts)


# ---------------------------------------------------------------- tables and JSON values written whole
# (moved here from smi.lab.run: general writers and the hash of a JSON value)


def write_csv(frame, path: Path, float_format: str = "%.6g") -> Path:
    """A table written atomically as CSV, without its index.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    path : Path
        The CSV file.
    float_format : str
        How floats are written.

    Returns
    -------
    Path
        ``path``.
    """
    with atomic_output(path) as temporary:
        frame.to_csv(temporary, index=False, float_format=float_format)
    return path


def write_json(value, path: Path) -> Path:
    """A JSON value written atomically, indented by one space, with a final newline.

    numpy scalars are written as the plain numbers they hold and paths as strings.

    Parameters
    ----------
    value : object
        A JSON-serialisable value.
    path : Path
        The JSON file.

    Returns
    -------
    Path
        ``path``.
    """
    import json

    with atomic_output(path) as temporary:
        temporary.write_text(json.dumps(value, indent=1, default=_json_plain) + "\n", encoding="utf-8")
    return path


def _json_plain(value):
    """What :func:`write_json` writes for a value the json module cannot: a numpy scalar's item, a path's text."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
