"""Writing output files so that a reader never sees a half-written one.

Every command writes through :func:`atomic_output` (one file) or
:func:`atomic_outputs` (several files that belong together): the data goes to a
temporary file with a unique name beside the target, is flushed to disk, and is
renamed over the target only when it is complete. Two runs writing one target
never share a temporary file, and a kill at any moment leaves either the old
complete file or the new complete file at the target, never a part of one.
"""

from __future__ import annotations

import os
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


def file_sha256(path: Path, chunk: int = 2**20) -> str:
    """SHA-256 of a file's bytes, as hex.

    Parameters
    ----------
    path : Path
        The file.
    chunk : int
        Bytes read at a time.

    Returns
    -------
    str
        The hex digest.
    """
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def frame_sha256(frame) -> str:
    """SHA-256 of a DataFrame's content: column names, dtypes and every value, in row order (not the index).

    What keys saved work on its input frame (the folds of ``smi evaluate``, the facts of ``smi probe``).

    Parameters
    ----------
    frame : pandas.DataFrame
        Any frame.

    Returns
    -------
    str
        The hex digest.
    """
    import hashlib
    import json

    import pandas as pd

    digest = hashlib.sha256(json.dumps([[str(c) for c in frame.columns], [str(t) for t in frame.dtypes]]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


# ---------------------------------------------------------------- hashes of the code


def _code_text(source: str) -> str:
    """The code of a module's source with comments, docstrings and layout removed (``ast.unparse`` of its tree)."""
    import ast

    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def _module_file(module: str) -> Path | None:
    """The source file of the :mod:`smi` module ``module`` (found on disk, nothing imported), or None."""
    parts = module.split(".")
    if parts[0] != "smi":
        return None
    base = Path(__file__).resolve().parent.joinpath(*parts[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _smi_imports(source: str, module: str, is_package: bool) -> set[str]:
    """The modules of :mod:`smi` that ``source`` (the module named ``module``) imports, anywhere in its code."""
    import ast

    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if _module_file(name) is not None)
    return found


def import_closure(modules) -> list[str]:
    """Every module of :mod:`smi` that ``modules`` import, directly or through each other, sorted.

    Parameters
    ----------
    modules : iterable of str
        Dotted module names inside :mod:`smi` (``"smi.prediction"``); a package brings its ``__init__``.

    Returns
    -------
    list of str
        The modules themselves and every :mod:`smi` module reachable through their imports
        (an ``import`` inside a function counts), found by reading their source: nothing is imported.
    """
    seen: set[str] = set()
    todo = list(modules)
    while todo:
        module = todo.pop()
        path = _module_file(module)
        if module in seen or path is None:
            continue
        seen.add(module)
        parts = module.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # parents' __init__ run first
        todo.extend(_smi_imports(path.read_text(encoding="utf-8"), module, path.name == "__init__.py"))
    return sorted(seen)


def code_sha256(modules, extra: str = "") -> str:
    """SHA-256 of the code of ``modules`` and of every :mod:`smi` module they import: the key of saved work.

    Comments, docstrings and layout do not count (each module is hashed as ``ast.unparse``
    of its tree without docstrings), so editing them does not invalidate saved results;
    any change of what the code does does.

    Parameters
    ----------
    modules : iterable of str
        Dotted module names inside :mod:`smi`.
    extra : str, default ""
        Anything else the result depends on (library versions, a format number).

    Returns
    -------
    str
        The hex digest.

    Notes
    -----
    :math:`\\mathrm{SHA256}(e \\,\\|\\, \\Vert_{m \\in C} (m \\,\\|\\, \\mathrm{code}(m)))` over the
    sorted closure :math:`C` = :func:`import_closure` of ``modules``.
    """
    import hashlib

    digest = hashlib.sha256(extra.encode())
    for module in import_closure(modules):
        code = _code_text(_module_file(module).read_text(encoding="utf-8"))
        digest.update(b"\0" + module.encode() + b"\0" + code.encode())
    return digest.hexdigest()
