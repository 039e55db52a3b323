"""The package stays small and readable: every module under 500 lines, each with a docstring saying its idea."""

import ast
from pathlib import Path

import smi

PACKAGE = Path(smi.__file__).parent


def test_every_module_is_under_500_lines_and_says_its_idea():
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 50
    long = {str(path.relative_to(PACKAGE)): n for path in modules if (n := len(path.read_text().splitlines())) > 500}
    assert not long, long
    silent = [str(path.relative_to(PACKAGE)) for path in modules if not ast.get_docstring(ast.parse(path.read_text()))]
    assert not silent, silent
