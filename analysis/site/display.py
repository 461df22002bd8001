"""How the lesson's notebooks show figures and tables.

:func:`notebook_setup` runs in a hidden cell at the top of each episode: a
learner's notebook shows the same figures and tables without it.
"""

from __future__ import annotations

import pandas as pd

#: Resolution of the lesson's figures, dots per inch.
FIGURE_DPI = 110
#: Decimals shown for floating-point columns (the CSV keeps all).
TABLE_DIGITS = 3
#: Longer text cells are shortened in the middle when shown.
TABLE_MAX_CHARS = 36


def shorten(text: str, max_chars: int) -> str:
    """Cut the middle out of a long string.

    Parameters
    ----------
    text : str
    max_chars : int
        Length of the result at most.

    Returns
    -------
    str
        ``text`` itself when short enough, else a short head, ``"…"`` and a
        long tail (where file names differ):
        ``"AS_0912…A24f00d0_slice1_channel1.tif"``.
    """
    if len(text) <= max_chars:
        return text
    head = (max_chars - 1) // 5
    return f"{text[:head]}…{text[len(text) - (max_chars - 1 - head) :]}"


def markdown_table(table: pd.DataFrame, digits: int = TABLE_DIGITS, max_chars: int = TABLE_MAX_CHARS) -> str:
    """A pipe table of a DataFrame, as the rendered lesson shows it.

    Parameters
    ----------
    table : DataFrame
        Shown without its index.
    digits : int
        Decimals of floating-point columns at most; a column whose values
        all have fewer (``14.0``, ``84.5``) shows that many
        (:func:`decimals`), the same number in all its rows.
    max_chars : int
        Text cells longer than this are shortened (:func:`shorten`).

    Returns
    -------
    str
        Markdown understood by Jupyter and pandoc alike.
    """
    shown = table.apply(
        lambda c: (
            c.map(f"{{:.{decimals(c, digits)}f}}".format)
            if c.dtype.kind == "f"
            else c.map(lambda v: shorten(v, max_chars) if isinstance(v, str) else v)
        )
    )
    return shown.to_markdown(index=False, disable_numparse=True)


def decimals(column: pd.Series, digits: int = TABLE_DIGITS) -> int:
    """Decimals to show a float column with: the fewest that show every value exactly, else ``digits``.

    Parameters
    ----------
    column : Series of float
        Missing values are ignored.
    digits : int
        Decimals at most.

    Returns
    -------
    int
        ``[14.0, 27.8]`` needs 1, ``[172.0, 338.0]`` none; ``[0.9491, 0.95]``
        and ``[0.0004, 1.0]`` get ``digits``, so that no rounded value looks
        exact.
    """
    values = column.dropna()
    tolerance = 1e-9 * max(1.0, float(values.abs().max())) if len(values) else 0.0
    for fewer in range(digits):
        if ((values.round(fewer) - values).abs() <= tolerance).all():
            return fewer
    return digits


def notebook_setup(dpi: int = FIGURE_DPI) -> None:
    """Prepare an IPython kernel to show the lesson's figures and tables.

    Figures are drawn inline at ``dpi`` dots per inch. A DataFrame that ends
    a cell is shown as a Markdown table (:func:`markdown_table`) and also
    carries its full-precision CSV (MIME type ``text/csv``), which the
    renderer writes to ``tables/``. Outside IPython only the resolution is
    set.

    Parameters
    ----------
    dpi : int
        Figure resolution.
    """
    import matplotlib
    from IPython import get_ipython
    from IPython.core.formatters import BaseFormatter
    from traitlets import ObjectName, Unicode

    matplotlib.rcParams["figure.dpi"] = dpi
    matplotlib.rcParams["savefig.dpi"] = dpi
    shell = get_ipython()
    if shell is None:
        return
    shell.run_line_magic("matplotlib", "inline")

    class CSVFormatter(BaseFormatter):
        format_type = Unicode("text/csv")
        print_method = ObjectName("_repr_csv_")

    display = shell.display_formatter
    formatters = display.formatters
    if "text/csv" not in formatters:
        formatters["text/csv"] = CSVFormatter(parent=display)
        display.active_types = [*display.active_types, "text/csv"]
    formatters["text/csv"].for_type(pd.DataFrame, lambda table: table.to_csv(index=False))
    formatters["text/markdown"].for_type(pd.DataFrame, markdown_table)
    formatters["text/html"].for_type(pd.DataFrame, lambda _: None)
