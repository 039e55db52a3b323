"""SHA-256 keys of saved work: of a file, a DataFrame, a JSON value, a text, and the code that made it.

Anything saved to be reused later (shards, folds, partial probes, checkpoints, models, result tables)
is keyed on these hashes of its inputs, its settings and its code (:func:`code_sha256`), so that work
done by other inputs or other code is never taken for this run's.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def json_sha256(value: object) -> str:
    """SHA-256 of a JSON value written with sorted keys (values JSON cannot hold are written as ``str``).

    Parameters
    ----------
    value : object
        A dict, list, str, number, … : the settings or parts of a key.

    Returns
    -------
    str
        The hex digest of ``json.dumps(value, sort_keys=True, default=str)`` in ASCII.
    """
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode("ascii")).hexdigest()


def text_sha256(text: str) -> str:
    """SHA-256 of a text's UTF-8 bytes.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        The hex digest.
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    import pandas as pd

    digest = hashlib.sha256(json.dumps([[str(c) for c in frame.columns], [str(t) for t in frame.dtypes]]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


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
    from importlib.util import resolve_name

    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = resolve_name("." * node.level + (node.module or ""), package) if node.level else node.module or ""
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
    digest = hashlib.sha256(extra.encode())
    for module in import_closure(modules):
        code = _code_text(_module_file(module).read_text(encoding="utf-8"))
        digest.update(b"\0" + module.encode() + b"\0" + code.encode())
    return digest.hexdigest()
