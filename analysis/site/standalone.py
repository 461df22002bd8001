"""One self-contained HTML file built from a few kinds of block, without pandoc.

A run's report (a screen's quality-control page, say) is headings, short
text, figures and tables. Each function here returns one block as HTML;
:func:`page` wraps them in a document whose figures are embedded as PNG
data, so the file opens offline, alone, in any browser. Text is escaped;
tables scroll sideways on a narrow screen rather than widen the page.
"""

from __future__ import annotations

import base64
import html

import pandas as pd

STYLE = """
:root { color-scheme: light dark; --fg: #1d1d1f; --bg: #ffffff; --muted: #55575b; --rule: #d5d7db; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8e8ea; --bg: #16171a; --muted: #b4b6bb; --rule: #3a3c41; }
}
body { margin: 0; background: var(--bg); color: var(--fg);
       font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 62rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; margin-top: 2rem; border-bottom: 1px solid var(--rule); }
p.note { color: var(--muted); }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 0.9rem; }
.table { overflow-x: auto; } table { border-collapse: collapse; font-size: 0.9rem; }
th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid var(--rule); text-align: right; }
th:first-child, td:first-child { text-align: left; }
.gallery { display: flex; flex-wrap: wrap; gap: 0.75rem; }
.gallery figure { width: 12rem; margin: 0; }
"""


def heading(text: str, level: int = 2) -> str:
    """A heading.

    Parameters
    ----------
    text : str
    level : int
        1 for the page's title, 2 for its sections.

    Returns
    -------
    str
    """
    return f"<h{level}>{html.escape(text)}</h{level}>"


def paragraph(text: str, note: bool = False) -> str:
    """A paragraph of plain text.

    Parameters
    ----------
    text : str
    note : bool
        Shown muted, as an aside.

    Returns
    -------
    str
    """
    opening = '<p class="note">' if note else "<p>"
    return f"{opening}{html.escape(text)}</p>"


def figure(png: bytes, alt: str, caption: str = "") -> str:
    """A PNG image embedded in the page, with its text alternative and caption.

    Parameters
    ----------
    png : bytes
        The encoded image.
    alt : str
        What the image shows, for a reader who cannot see it.
    caption : str, optional

    Returns
    -------
    str
    """
    data = base64.b64encode(png).decode("ascii")
    shown = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">{shown}</figure>'


def gallery(figures: list[str]) -> str:
    """Figures side by side, wrapping on a narrow screen.

    Parameters
    ----------
    figures : list of str
        Blocks from :func:`figure`.

    Returns
    -------
    str
    """
    return '<div class="gallery">' + "".join(figures) + "</div>"


def table(frame: pd.DataFrame, digits: int = 3) -> str:
    """A table without its index, floats rounded for reading.

    Parameters
    ----------
    frame : DataFrame
    digits : int
        Decimals of floating-point columns.

    Returns
    -------
    str
    """
    body = frame.to_html(index=False, na_rep="", float_format=lambda value: f"{value:.{digits}f}", border=0)
    return f'<div class="table">{body}</div>'


def page(title: str, blocks: list[str], lang: str = "en") -> str:
    """The whole document.

    Parameters
    ----------
    title : str
        The browser's title and the first heading.
    blocks : list of str
        What follows the title, in order.
    lang : str
        The text's language.

    Returns
    -------
    str
        HTML5, one file, nothing fetched when it opens.
    """
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{html.escape(lang)}">',
            '<head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{STYLE}</style></head>",
            "<body><main>",
            heading(title, 1),
            *blocks,
            "</main></body></html>",
            "",
        ]
    )
