"""A notebook's display, set up for clean committed outputs: inline figures, whole tables, no progress bars.

:func:`setup` makes the committed outputs readable and reproducible: figures
inline at a modest resolution (the files written by
:func:`smi.plots.save_figure` keep their own, higher, resolution), every column
of a wide table shown, floats printed by :func:`format_number` (no
``0.000000``), progress bars off (tqdm writes nothing, so no ``TqdmWarning``
about ipywidgets either), and an :class:`~smi.errors.SmiError` — every
:class:`~smi.errors.ParameterValueError` of :mod:`smi.notebook.parameters`
included — shown as one line ``ParameterValueError: models must name only …``
instead of a traceback. The cell still fails, so papermill and nbval still
report the error.
"""

from __future__ import annotations

import math

from smi.errors import SmiError

__all__ = ["INLINE_DPI", "format_number", "formatted", "one_line_error", "setup", "silence_progress_bars"]

#: Resolution of the figures embedded in a notebook (the saved files use ``savefig.dpi``).
INLINE_DPI = 80


def format_number(value: float) -> str:
    """A float as a reader wants it in a table: no ``0.000000``, no needless ``e+09``.

    Whole numbers get thousands separators (``12,000,000,000``), values of at least
    1,000 one decimal, values down to 0.001 four significant digits (``0.8562``,
    ``0.001234``), smaller ones scientific notation (``3.21e-05``); NaN and
    infinities as Python writes them.

    Parameters
    ----------
    value : float
        The number.

    Returns
    -------
    str
        Its text.
    """
    if not math.isfinite(value):
        return str(value)
    magnitude = abs(value)
    if value == int(value) and magnitude < 1e15:
        return f"{value:,.0f}"
    if magnitude >= 1000:
        return f"{value:,.1f}"
    if magnitude >= 0.001:
        return f"{value:.4g}"
    return f"{value:.2e}"


def silence_progress_bars() -> None:
    """Make every tqdm bar created from now on a disabled one.

    The library shows progress on long jobs; in a notebook's committed outputs a
    bar is clutter, and ``tqdm.auto`` warns (``TqdmWarning``) when ipywidgets is
    missing. The library imports tqdm inside its functions, so replacing
    ``tqdm.tqdm`` and ``tqdm.auto.tqdm`` by a subclass that is always disabled
    silences it without touching its calls.
    """
    import warnings

    import tqdm
    import tqdm.std

    with warnings.catch_warnings():  # tqdm.auto warns on import when ipywidgets is missing; it is never used here
        warnings.simplefilter("ignore", tqdm.TqdmWarning)
        import tqdm.auto

    class SilentTqdm(tqdm.std.tqdm):
        """A tqdm that never draws (iteration, ``update`` and ``close`` still work)."""

        def __init__(self, *args, **kwargs):
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    tqdm.tqdm = SilentTqdm
    tqdm.auto.tqdm = SilentTqdm


def one_line_error(shell, etype, value, tb, tb_offset=None) -> list[str]:
    """IPython custom exception handler: show an :class:`SmiError` as ``Name: message``, no traceback.

    The cell still fails (IPython records the error and the kernel replies
    ``status: error``), so papermill raises ``PapermillExecutionError`` and nbval
    reports the cell; only the display is shortened.

    Parameters
    ----------
    shell : IPython.core.interactiveshell.InteractiveShell
        The shell.
    etype, value, tb
        The exception's type, value and traceback.
    tb_offset : int or None
        Unused; part of IPython's handler signature.

    Returns
    -------
    list of str
        The lines shown: ``Name: message``.
    """
    lines = [f"{etype.__name__}: {value}"]
    show = getattr(shell, "_showtraceback", None)
    if show is not None:
        show(etype, value, lines)
    else:  # an IPython without the private hook: its short form
        shell.showtraceback((etype, value, tb), exception_only=True)
    return lines


def setup(inline_dpi: int = INLINE_DPI, max_rows: int = 60) -> None:
    """Prepare a notebook's kernel for clean, reproducible outputs (call it first, right after the parameters).

    * matplotlib: inline figures (even when ``MPLBACKEND=Agg`` is set, as in CI),
      the project's style (:func:`smi.plots.use_style`), embedded at ``inline_dpi``;
    * pandas: every column shown (all 24 models side by side), up to ``max_rows``
      rows, floats through :func:`format_number`;
    * tqdm: silenced (:func:`silence_progress_bars`);
    * IPython: an :class:`SmiError` (:class:`~smi.errors.ParameterValueError` included) shows as one
      line (:func:`one_line_error`).

    Outside IPython only the pandas, matplotlib-style and tqdm settings apply.

    Parameters
    ----------
    inline_dpi : int
        Resolution of inline figures.
    max_rows : int
        Rows pandas shows before eliding.
    """
    import pandas as pd

    from smi import plots

    try:
        from IPython import get_ipython
    except ImportError:  # pandas and matplotlib settings only
        shell = None
    else:
        shell = get_ipython()
    if shell is not None:
        shell.run_line_magic("matplotlib", "inline")
        shell.set_custom_exc((SmiError,), one_line_error)
    plots.use_style()
    import matplotlib.pyplot as plt

    plt.rcParams["figure.dpi"] = inline_dpi
    pd.set_option("display.max_columns", None)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_rows", max_rows)
    pd.set_option("display.min_rows", max_rows)
    pd.set_option("display.max_colwidth", 140)
    pd.set_option("display.float_format", format_number)
    silence_progress_bars()


def formatted(frame, formats: dict[str, str]):
    """A copy of ``frame`` whose named columns are written as text, e.g. ``{"recall": "{:.2%}"}``.

    For columns a reader wants in a unit other than :func:`format_number`'s (percentages,
    a fixed number of decimals, p-values); missing values stay empty.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    formats : dict of str to str
        A format string per column.

    Returns
    -------
    pandas.DataFrame
        The copy.

    Raises
    ------
    KeyError
        When a named column is not in ``frame``.
    """
    unknown = [column for column in formats if column not in frame.columns]
    if unknown:
        raise KeyError(f"no column {unknown[0]!r} to format")
    copy = frame.copy()
    for column, pattern in formats.items():
        copy[column] = [("" if value != value else pattern.format(value)) for value in frame[column]]
    return copy
