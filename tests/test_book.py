"""The book (``make book``): Sphinx with MyST-NB renders the README and the committed notebooks as a website.

The book is built once into a temporary folder with ``-W`` (a warning fails the build), from the committed
outputs without running a notebook. The checks concern structure only, never the values a notebook prints, so
they hold after the notebooks are regenerated: a page per numbered notebook, linked from the front page in
order, with every PNG figure of the notebook embedded; the README as the front page; the search page.
"""

from __future__ import annotations

import base64
import html
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


# about 10 s on 2 cores: the tests that read the built book are marked slow
@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book") / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", str(DOCS), str(out)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "WARNING" not in done.stderr and "WARNING" not in done.stdout, done.stderr
    return out


def png_outputs(notebook: Path) -> list[bytes]:
    """The bytes of every image/png output of the notebook's code cells, in order."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    images = []
    for cell in cells:
        for output in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            png = output.get("data", {}).get("image/png")
            if png is not None:
                images.append(base64.b64decode("".join(png) if isinstance(png, list) else png))
    return images


class _Page(HTMLParser):
    """The ``src`` of every ``<img>`` inside a cell's output, and every ``href`` inside the toctree."""

    def __init__(self):
        super().__init__()
        self.stack: list[set[str]] = []  # the classes of each open <div>
        self.output_images: list[str] = []
        self.toctree_links: list[str] = []

    def _inside(self, name: str) -> bool:
        return any(name in classes for classes in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div":
            self.stack.append(set((attrs.get("class") or "").split()))
        elif tag == "img" and self._inside("cell_output"):
            self.output_images.append(attrs["src"])
        elif tag == "a" and self._inside("toctree-wrapper"):
            self.toctree_links.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "div" and self.stack:
            self.stack.pop()


def parse(page: Path) -> _Page:
    parser = _Page()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_the_notebooks_are_found():
    names = [notebook.stem for notebook in NOTEBOOKS]
    assert names[:8] == [
        "00_glossary",
        "01_triple_extraction",
        "02_frequency_analysis",
        "03_smi_derivation",
        "04_r2_regression",
        "05_knowledge_probing",
        "06_prediction",
        "07_knowledge_lab",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_every_notebook_has_its_page_with_every_figure(book, notebook):
    page = book / "notebooks" / f"{notebook.stem}.html"
    assert page.is_file()
    figures = png_outputs(notebook)
    images = parse(page).output_images
    assert len(images) == len(figures), f"{page.name}: {len(images)} <img> for {len(figures)} PNG outputs"
    # each <img> shows one of the notebook's figures, byte for byte, and every figure is shown
    shown = [(page.parent / src).resolve().read_bytes() for src in images]
    assert sorted(shown) == sorted(figures)


@pytest.mark.slow
def test_the_front_page_is_the_readme_and_lists_the_notebooks_in_order(book):
    index = book / "index.html"
    title = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[0].removeprefix("# ").strip()
    text = html.unescape(index.read_text(encoding="utf-8"))
    assert re.search(r"<h1>\s*" + re.escape(title), text), title
    links = [link for link in parse(index).toctree_links if link.startswith("notebooks/")]
    assert links == [f"notebooks/{notebook.stem}.html" for notebook in NOTEBOOKS]


@pytest.mark.slow
def test_the_book_has_a_search_page_and_index(book):
    assert (book / "search.html").is_file()
    assert (book / "searchindex.js").stat().st_size > 0


def test_no_warning_is_suppressed_and_no_notebook_is_run():
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    assert "suppress_warnings" not in conf
    assert re.search(r'^nb_execution_mode = "off"$', conf, re.M)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^\t\$\(VENV\)/bin/sphinx-build -W --keep-going -b html docs build/book$", makefile, re.M)
