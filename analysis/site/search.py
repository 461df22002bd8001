"""The site's search index: built from the rendered pages, searched in the browser.

Each rendered page is read back and cut at its headings: one entry per
section (page, anchor, heading, text), one per glossary term (a ``<dt>``,
anchored at its own id or else its section, with its definition) and one
per exercise (a callout whose title starts with "Exercise", with what
follows it). The index is written into every page as a script, so the
search box (``assets/site.js``) works on pages opened from disk, where a
browser may not fetch another file.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

#: Where a page's index goes: left by :func:`analysis.site.documents.after_body`.
INDEX_MARK = "<!-- search-index -->"

_HEADINGS = {"h1", "h2", "h3", "h4"}
#: Elements whose text is the site's furniture, not the page's: by tag, or by class.
_SKIPPED = {"head", "script", "style", "nav", "footer", "form", "button"}
_SKIPPED_CLASSES = {"downloads"}


def _entry(page: str, anchor: str, title: str, section: str, kind: str) -> dict:
    return {"page": page, "anchor": anchor, "title": title, "section": section, "kind": kind, "text": ""}


class _Sections(HTMLParser):
    """Collects a page's entries while its HTML is fed in."""

    def __init__(self, page: str, title: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.entries = [
            {"page": page, "anchor": "", "title": title, "section": title, "kind": "page", "text": ""}
        ]
        self.section = self.entries[0]
        self.term = None  # a glossary term or exercise whose text follows it
        self.skipped = None  # the tag of the skipped element we are in, and how deep
        self.skipping = 0
        self.capture = None  # the element whose text is an entry's title
        self.captured = []
        self.callout_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = set((attrs.get("class") or "").split())
        if self.skipping:
            self.skipping += tag == self.skipped
        elif tag in _SKIPPED or classes & _SKIPPED_CLASSES or attrs.get("id") == "title-block-header":
            self.skipped, self.skipping = tag, 1
        elif tag in _HEADINGS and attrs.get("id"):
            self.capture, self.captured = ("heading", attrs["id"]), []
        elif tag == "dt":
            self.capture, self.captured = ("glossary", None), []
        elif tag == "span" and self.capture == ("glossary", None) and attrs.get("id"):
            self.capture = ("glossary", attrs["id"])  # the term's own anchor
        elif tag == "p" and "callout-title" in classes:
            self.capture, self.captured = ("callout", None), []

    def handle_endtag(self, tag):
        if self.skipping:
            self.skipping -= tag == self.skipped
            return
        if self.capture is None or tag not in (*_HEADINGS, "dt", "p"):
            return
        kind, anchor = self.capture
        text = " ".join("".join(self.captured).split())
        self.capture = None
        if kind == "heading":
            self.section = _entry(self.page, anchor, text, text, "section")
            self.entries.append(self.section)
            self.term = None
        elif kind == "glossary" or (kind == "callout" and text.startswith("Exercise")):
            what = "glossary" if kind == "glossary" else "exercise"
            section = self.section
            self.term = _entry(self.page, anchor or section["anchor"], text, section["section"], what)
            self.entries.append(self.term)
            self.section["text"] += f" {text}"
        else:
            self.section["text"] += f" {text}"

    def handle_data(self, data):
        if self.skipping:
            return
        if self.capture is not None:
            self.captured.append(data)
            return
        self.section["text"] += data
        if self.term is not None:
            self.term["text"] += data


def page_entries(html: Path) -> list[dict]:
    """A rendered page's search entries.

    Parameters
    ----------
    html : Path
        A page written by :func:`analysis.site.documents.write_html`.

    Returns
    -------
    list of dict
        Each with ``page`` (file name), ``anchor`` (an element id, "" for
        the page's top), ``title``, ``section`` (the heading it sits
        under), ``kind`` (``"page"``, ``"section"``, ``"glossary"`` or
        ``"exercise"``) and ``text`` (whitespace collapsed).
    """
    source = html.read_text()
    found = re.search(r"<title>(.*?)</title>", source, re.DOTALL)
    parser = _Sections(html.name, " ".join(found.group(1).split()) if found else html.stem)
    parser.feed(source)
    parser.close()
    for entry in parser.entries:
        entry["text"] = " ".join(entry["text"].split())
    return [entry for entry in parser.entries if entry["text"] or entry["kind"] != "page"]


def write_index(pages: list[Path]) -> list[dict]:
    """Put the index of all ``pages`` into each of them, where :data:`INDEX_MARK` stands.

    Parameters
    ----------
    pages : list of Path
        The site's HTML pages.

    Returns
    -------
    list of dict
        The entries (:func:`page_entries`), pages in order.
    """
    entries = [entry for page in pages for entry in page_entries(page)]
    data = json.dumps(entries, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    script = f"<script>window.searchIndex = {data};</script>"
    for page in pages:
        page.write_text(page.read_text().replace(INDEX_MARK, script, 1))
    return entries
