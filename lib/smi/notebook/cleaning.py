"""An executed notebook made ready to commit: per-run metadata stripped, stamped with the code it ran."""

from __future__ import annotations

from pathlib import Path

from smi.errors import SmiError

__all__ = ["RUN_METADATA_KEYS", "STAMP_KEY", "clean_executed", "code_stamp", "notebook_modules", "strip_run_metadata"]

#: Metadata that papermill and nbclient add on every run (timings, local paths, parameters):
#: it changes on each run without changing a result, so it is not committed.
RUN_METADATA_KEYS = ("papermill", "execution")


def strip_run_metadata(notebook: dict) -> dict:
    """``notebook`` (nbformat JSON as a dict) without the per-run metadata of :data:`RUN_METADATA_KEYS`.

    Outputs, execution counts and tags are kept; only timings, the input and output
    paths and the injected parameters that papermill records are removed.

    Parameters
    ----------
    notebook : dict
        The notebook.

    Returns
    -------
    dict
        A copy without the per-run metadata.
    """
    for key in RUN_METADATA_KEYS:
        notebook.get("metadata", {}).pop(key, None)
    for cell in notebook.get("cells", []):
        for key in RUN_METADATA_KEYS:
            cell.get("metadata", {}).pop(key, None)
    return notebook


#: The notebook metadata key of :func:`code_stamp`.
STAMP_KEY = "smi"


def notebook_modules(notebook: dict) -> list[str]:
    """The :mod:`smi` modules that the code cells of ``notebook`` import (``from smi import a``, ``import smi.b``).

    Parameters
    ----------
    notebook : dict
        The notebook (nbformat JSON as a dict).

    Returns
    -------
    list of str
        Dotted module names, sorted; a name imported from a package (``from smi import plots``) is
        taken as its module when it is one, else the package itself counts.
    """
    import ast

    from smi.hashing import import_closure

    found: set[str] = set()
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        text = "".join(cell.get("source", ""))
        lines = [line for line in text.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "smi")
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "smi":
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return [module for module in sorted(found) if import_closure([module])]


def code_stamp(notebook: dict) -> dict:
    """What a notebook's outputs were made with: its :mod:`smi` imports and the hash of their code.

    Parameters
    ----------
    notebook : dict
        The notebook (nbformat JSON as a dict).

    Returns
    -------
    dict
        ``modules`` (:func:`notebook_modules`) and ``code_sha256``
        (:func:`smi.hashing.code_sha256` of their import closure: comments and docstrings do not count).
    """
    from smi.hashing import code_sha256

    modules = notebook_modules(notebook)
    return {"modules": modules, "code_sha256": code_sha256(modules)}


def clean_executed(path: Path) -> None:
    """Rewrite an executed notebook at ``path`` without its per-run metadata, stamped with :func:`code_stamp`.

    Read and written by nbformat, atomically. The stamp (metadata key :data:`STAMP_KEY`) lets a
    test tell when the committed outputs were made by other library code than the current one.

    Parameters
    ----------
    path : Path
        The executed notebook.
    """
    import nbformat

    from smi.files import atomic_output

    path = Path(path)
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except (OSError, ValueError) as error:
        raise SmiError(f"{path}: cannot read the notebook ({error})") from None
    notebook = strip_run_metadata(notebook)
    notebook.metadata[STAMP_KEY] = code_stamp(notebook)
    text = nbformat.writes(notebook)
    with atomic_output(path) as temporary:
        Path(temporary).write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
