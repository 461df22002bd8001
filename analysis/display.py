"""Tables for the report: shown as Markdown, kept as CSV."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .data import PROJECT_ROOT
from .output import write_csv

TABLES_ENV = "ANALYSIS_TABLES_DIR"
#: Resolution of the report's figures, dots per inch.
FIGURE_DPI = 110


def tables_dir() -> Path:
    """Where report tables are written (``$ANALYSIS_TABLES_DIR`` or ``_output/tables``)."""
    return Path(os.environ.get(TABLES_ENV, PROJECT_ROOT / "_output" / "tables"))


def shorten(text: str, max_chars: int) -> str:
    """Cut the middle out of a long string, keeping a short head and a long
    tail (where file names differ): ``"AS_0912…A24f00d0_slice1_channel1.tif"``."""
    if len(text) <= max_chars:
        return text
    head = (max_chars - 1) // 5
    return f"{text[:head]}…{text[len(text) - (max_chars - 1 - head):]}"


def show_table(table: pd.DataFrame, name: str, digits: int = 3, rows: int | None = None,
               max_chars: int = 36):
    """Write a table to ``<tables_dir>/<name>.csv`` and return it as Markdown.

    Parameters
    ----------
    table : DataFrame
    name : str
        File stem of the CSV.
    digits : int
        Decimals shown for floating-point columns (the CSV keeps all).
    rows : int, optional
        Show only the first ``rows`` rows (the CSV keeps all).
    max_chars : int
        Longer text cells are shown shortened in the middle (the CSV keeps
        them whole).

    Returns
    -------
    IPython.display.Markdown
        A pipe table, rendered by the notebook and by pandoc alike.
    """
    from IPython.display import Markdown

    write_csv(table, tables_dir() / f"{name}.csv")
    shown = table.head(rows) if rows else table
    shown = shown.apply(lambda c: c.map(f"{{:.{digits}f}}".format) if c.dtype.kind == "f"
                        else c.map(lambda v: shorten(v, max_chars) if isinstance(v, str) else v))
    return Markdown(shown.to_markdown(index=False, disable_numparse=True))


def notebook_setup(dpi: int = FIGURE_DPI) -> None:
    """Prepare a notebook kernel for the report's figures.

    Selects the kernel's inline backend, which registers the PNG display of
    :class:`~matplotlib.figure.Figure` objects; ``dpi`` sets their resolution
    (dots per inch). Outside IPython only the resolution is set.
    """
    import matplotlib
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.run_line_magic("matplotlib", "inline")
    matplotlib.rcParams["figure.dpi"] = dpi
    matplotlib.rcParams["savefig.dpi"] = dpi
