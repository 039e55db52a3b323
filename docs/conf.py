"""Sphinx configuration of the book (``make book``): the README and the executed notebooks as a static website.

The notebooks are rendered from their committed outputs and never executed (``nb_execution_mode = "off"``),
so the build needs neither the data nor a kernel. ``index.md`` includes the README as the front page and
lists every numbered notebook (``notebooks/NN_*.ipynb``, a glob: a new notebook joins the book in order).

Sphinx reads sources from this folder only, so this file copies ``../notebooks/NN_*.ipynb`` into
``docs/notebooks/`` (git-ignored) before the build: a copy is rewritten only when its notebook changed (an
incremental build redoes only that page), and a copy whose notebook is gone is removed. A link, rather than
a copy, would not do: Sphinx resolves links, and the notebooks' links to each other then point outside
this folder.
"""

import os
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
NOTEBOOKS = DOCS.parent / "notebooks"
PATTERN = "[0-9][0-9]_*.ipynb"


def _copy_notebooks(source: Path, target: Path) -> None:
    """Make ``target`` hold the same numbered notebooks as ``source``, byte for byte."""
    target.mkdir(exist_ok=True)
    wanted = {path.name: path.read_bytes() for path in sorted(source.glob(PATTERN))}
    for stale in target.glob(PATTERN):
        if stale.name not in wanted:
            stale.unlink(missing_ok=True)
    for name, content in wanted.items():
        copy = target / name
        if copy.exists() and copy.read_bytes() == content:
            continue
        # written under a temporary name and renamed: a build running at the same time never reads half a file
        fd, temporary = tempfile.mkstemp(dir=target, prefix=f".{name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(temporary, copy)


_copy_notebooks(NOTEBOOKS, DOCS / "notebooks")

project = "smi"
author = "the smi authors"
copyright = "the smi authors"

extensions = ["myst_nb"]

root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "notebooks/.*"]

# The notebooks are shown as committed, never run.
nb_execution_mode = "off"

# MyST: $…$ math as in the README and the notebooks; anchors for links to a section (#notebooks).
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

html_theme = "sphinx_book_theme"
html_title = "smi"
html_theme_options = {"show_toc_level": 2}
