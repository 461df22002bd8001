"""Executed pages as documents: Markdown, one HTML file per page, one PDF.

The executed cells become Markdown (code, printed text, tables, figures
with their captions, labels and alt text); pandoc turns each page into a
self-contained HTML file with the site's navbar (and, at its foot, links
to the previous and next page) and, all pages together,
into Typst, which the typst compiler turns into one PDF
(:mod:`analysis.site.render` puts them together).
"""

from __future__ import annotations

import hashlib
import html
import re
from base64 import b64decode
from pathlib import Path

import yaml

from analysis.site import keyed
from analysis.site.display import FIGURE_DPI
from analysis.site.notebook import split_options
from analysis.site.pages import Page, Project
from analysis.site.search import INDEX_MARK

ASSETS = Path(__file__).with_name("assets")
#: The whole lesson as one PDF, beside the pages.
PDF_NAME = "lesson.pdf"
#: The PDF of every episode's exercises, beside the pages.
TASKS_PDF_NAME = "exercises.pdf"
#: An episode's handout notebook is its name with this ending.
HANDOUT_SUFFIX = "-handout.ipynb"


def _width_percent(image: Path, dpi: float = FIGURE_DPI, text_width_in: float = 6.3) -> int:
    """Share of the text width a PNG takes at ``dpi``, at most 100."""
    width_px = int.from_bytes(image.read_bytes()[16:20], "big")  # PNG IHDR width
    return min(100, round(100 * width_px / dpi / text_width_in))


def _figure_markdown(image: Path, options: dict, index: int, count: int) -> str:
    caption = options.get("fig-cap", "")
    if isinstance(caption, list):
        caption = caption[index] if index < len(caption) else ""
    alt = options.get("fig-alt", caption)
    label = options.get("label", "")
    attrs = [f"#{label}-{index + 1}" if label and count > 1 else f"#{label}" if label else ""]
    attrs.append('alt="{}"'.format(alt.replace('"', "'")) if alt else "")
    attrs.append(f'width="{_width_percent(image)}%"')
    return f"![{caption}]({image.name}){{{' '.join(a for a in attrs if a)}}}"


def _table_markdown(table: str, options: dict) -> str:
    label, caption = options.get("label", ""), options.get("tbl-cap", "")
    if not caption:
        return table
    return f"::: {{#{label}}}\n{table}\n\n: {caption}\n:::" if label else f"{table}\n\n: {caption}"


def page_markdown(page: Page, build: Path, tables: Path) -> str:
    """Markdown body of an executed page; figures are written into ``build``.

    Tables shown by cells labelled ``tbl-NAME`` are written to
    ``tables/NAME.csv`` at full precision.

    Parameters
    ----------
    page : Page
        Executed.
    build : Path
        Folder for the figures.
    tables : Path
        Folder for the tables.

    Returns
    -------
    str
    """
    parts, figure_number = [], 0
    for cell in page.notebook.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
            continue
        options, code = split_options(cell.source)
        if options.get("include") is False:
            continue
        if options.get("echo", True) and code.strip():
            parts.append(f"```python\n{code}\n```")
        if options.get("output", True) is False:
            continue
        images = []
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream" and output.get("name") == "stdout":
                parts.append(f"```text\n{output['text'].rstrip()}\n```")
            elif kind in ("execute_result", "display_data"):
                data = output.get("data", {})
                if "image/png" in data:
                    figure_number += 1
                    path = build / f"{page.stem}-figure-{figure_number:02d}.png"
                    path.write_bytes(b64decode(data["image/png"]))
                    images.append(path)
                elif "text/markdown" in data:
                    parts.append(_table_markdown(data["text/markdown"], options))
                    if "text/csv" in data and str(options.get("label", "")).startswith("tbl-"):
                        (tables / f"{options['label'][4:]}.csv").write_text(data["text/csv"])
                elif "text/plain" in data:
                    parts.append(f"```text\n{data['text/plain']}\n```")
        parts.extend(_figure_markdown(p, options, i, len(images)) for i, p in enumerate(images))
    return "\n\n".join(parts) + "\n"


def _listing(listing: dict, pages: dict[str, Page]) -> str:
    """A Quarto table listing (``listing:`` in the front matter) as a pipe table."""
    fields = listing.get("fields", ["title"])
    names = listing.get("field-display-names", {})
    rows = [
        "| " + " | ".join(names.get(f, f) for f in fields) + " |",
        "|" + "|".join(":--" if i == 0 else "--:" for i in range(len(fields))) + "|",
    ]
    for item in listing.get("contents", []):
        target = pages[Path(item).stem]
        cells = [
            f"[{target.front.get(f, '')}]({item})" if f == "title" else str(target.front.get(f, ""))
            for f in fields
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def fill_listing(markdown: str, page: Page, pages: dict[str, Page]) -> str:
    """Fill the empty ``::: {#ID}`` block of a page's ``listing:`` with its table.

    Parameters
    ----------
    markdown : str
        The page's Markdown.
    page : Page
        Its front matter may declare a listing (Quarto's ``type: table``).
    pages : dict
        Every page by file stem: the listed pages' titles and fields.

    Returns
    -------
    str
        The Markdown, unchanged where the page lists nothing.
    """
    listing = page.front.get("listing")
    if not listing:
        return markdown
    empty = re.compile(r"^::: \{#" + re.escape(listing["id"]) + r"\}\n:::$", re.MULTILINE)
    return empty.sub(lambda _: f"::: {{#{listing['id']}}}\n{_listing(listing, pages)}\n:::", markdown)


def _html_name(href: str) -> str:
    """The output file a navigation item's ``href`` (a page's ``.qmd`` or a file) links to."""
    return Path(href).name.replace(".qmd", ".html")


def _navbar(project: Project, current: Page) -> str:
    """What opens each page: a skip link, the navbar, the search box, and ``<main>``.

    Links are relative to the pages' folder; :func:`after_body` closes the
    ``<main>`` element.
    """
    website = project.config.get("website", {})
    navbar = website.get("navbar", {})
    items = []
    for side in ("left", "right"):
        for item in navbar.get(side, []):
            href = _html_name(item["href"])
            current_class = ' class="current"' if href == f"{current.stem}.html" else ""
            items.append(
                f'<li class="nav-{side}"><a href="{href}"{current_class}>{item.get("text", href)}</a></li>'
            )
    title = website.get("title", "")
    search = (
        '<form class="site-search" role="search" action="#">'
        '<label for="site-search">Search</label>'
        '<input type="search" id="site-search" autocomplete="off" placeholder="a word or a term">'
        '<div id="search-results" aria-live="polite"></div></form>'
    )
    return (
        '<a class="skip-link" href="#content">Skip to the content</a>\n'
        f'<nav class="navbar" aria-label="Lesson"><span class="nav-title">{title}</span>'
        f'<ul>{"".join(items)}</ul></nav>\n{search}\n<main id="content">\n'
    )


#: What follows every page's body in a build folder (:func:`after_body`, :func:`write_html`).
AFTER_BODY_FILE = "after-body.html"


def page_footer(project: Project) -> str:
    """The site's ``website.page-footer`` as HTML: a string, or ``left``/``center``/``right`` parts.

    Each part is Markdown, converted by pandoc with the lesson's filter, so
    links to ``page.qmd`` point at the page's HTML as in the body.

    Parameters
    ----------
    project : Project

    Returns
    -------
    str
        A ``<footer>`` element, or ``""`` when the project has no footer.
    """
    import pypandoc

    footer = project.config.get("website", {}).get("page-footer")
    if not footer:
        return ""
    parts = {"center": footer} if isinstance(footer, str) else footer
    html = []
    for side in ("left", "center", "right"):
        if parts.get(side):
            text = pypandoc.convert_text(
                parts[side], "html5", format="markdown", extra_args=[f"--lua-filter={ASSETS / 'lesson.lua'}"]
            )
            html.append(f'<div class="footer-{side}">{text.strip()}</div>')
    return f'<footer class="page-footer">{"".join(html)}</footer>\n'


def after_body(project: Project) -> str:
    """The HTML that ends every page: the end of its ``<main>``, the footer, the script.

    :func:`_navbar` opens the ``<main>`` landmark that holds the page's own
    content, after the navbar and the search box.

    The script (``assets/site.js``) gives each code block a copy button,
    unless ``format.html.code-copy`` is false as in Quarto, folds the
    table of contents into a sidebar on wide screens and a folded block on
    narrow ones, and runs the navbar's search box over the index that
    :func:`analysis.site.search.write_index` puts where
    :data:`~analysis.site.search.INDEX_MARK` stands.

    Parameters
    ----------
    project : Project

    Returns
    -------
    str
    """
    copying = project.format_options("html").get("code-copy", True) is not False
    script = (ASSETS / "site.js").read_text()
    settings = f"<script>window.siteOptions = {{codeCopy: {str(copying).lower()}}};</script>\n"
    return f"</main>\n{page_footer(project)}{INDEX_MARK}\n{settings}<script>\n{script}</script>\n"


def _sidebar_items(contents: list) -> list[dict]:
    """A sidebar's entries in order, sections flattened: each ``{"href", "text"?}``."""
    items = []
    for entry in contents:
        if isinstance(entry, str):
            items.append({"href": entry})
        elif "contents" in entry:
            items += _sidebar_items(entry["contents"])
        elif "href" in entry:
            items.append(entry)
    return items


def page_navigation(project: Project, current: Page, pages: dict[str, Page]) -> str:
    """Links to the previous and next page at a page's foot, as Quarto draws them.

    With ``website.page-navigation: true``, the order is that of the
    sidebar listing the page (``website.sidebar.contents``; a site may have
    several sidebars). Each link reads the sidebar entry's ``text``, else
    the linked page's title.

    Parameters
    ----------
    project : Project
    current : Page
    pages : dict of str to Page
        Every page of the site by file stem, for the titles.

    Returns
    -------
    str
        A raw HTML block for the page's Markdown; empty when page navigation
        is off or the page is not in the sidebar.
    """
    website = project.config.get("website", {})
    if not website.get("page-navigation"):
        return ""
    sidebars = website.get("sidebar") or []
    own = f"{current.stem}.html"
    for sidebar in sidebars if isinstance(sidebars, list) else [sidebars]:
        items = _sidebar_items(sidebar.get("contents", []))
        names = [_html_name(item["href"]) for item in items]
        if own in names:
            break
    else:
        return ""
    here = names.index(own)
    links = []
    for index, kind, rel in ((here - 1, "previous", "prev"), (here + 1, "next", "next")):
        if not 0 <= index < len(items):
            continue
        target = pages.get(Path(names[index]).stem)
        text = html.escape(
            items[index].get("text") or (target.front.get("title") if target else names[index])
        )
        label = f"&larr; {text}" if kind == "previous" else f"{text} &rarr;"
        links.append(f'<a class="nav-page-{kind}" href="{names[index]}" rel="{rel}">{label}</a>')
    return (
        '\n\n```{=html}\n<nav class="page-navigation" aria-label="Previous and next page">'
        + "".join(links)
        + "</nav>\n```\n"
    )


def _downloads(page: Page, landing: bool) -> str:
    links = [f"[PDF of the whole lesson (`{PDF_NAME}`)]({PDF_NAME})"]
    if page.executes:
        what = "this episode" if page.episode else "this page"
        links.insert(0, f"[{what} as an executed notebook (`{page.stem}.ipynb`)]({page.stem}.ipynb)")
    if page.episode and page.executes:
        handout = f"{page.stem}{HANDOUT_SUFFIX}"
        links.insert(1, f"[its code and exercises to type along, no solutions (`{handout}`)]({handout})")
    if page.episode or landing:
        links.append(f"[every exercise, as a PDF to hand out (`{TASKS_PDF_NAME}`)]({TASKS_PDF_NAME})")
    return "::: {.downloads}\nDownload: " + " · ".join(links) + "\n:::\n\n"


def _pandoc_arguments(extra: list[str], resource_path: Path) -> list[str]:
    lua = ASSETS / "lesson.lua"
    return ["--standalone", f"--lua-filter={lua}", f"--resource-path={resource_path}", *extra]


def _pandoc(markdown: str, target: Path, to: str, extra: list[str], resource_path: Path) -> None:
    import pypandoc

    arguments = _pandoc_arguments(extra, resource_path)
    pypandoc.convert_text(markdown, to, format="markdown", outputfile=str(target), extra_args=arguments)


def html_key(markdown: str, extra: list[str], build: Path) -> str:
    """SHA-256 over everything pandoc reads to make a page's HTML.

    Its version, the Markdown, the options, the bytes of each file an option
    names (CSS, navbar, header, filter) and of each figure of ``build`` the
    Markdown shows. Paths themselves do not count, so the same page built in
    another folder has the same key.

    Parameters
    ----------
    markdown : str
    extra : list of str
        The options besides the ones every conversion has.
    build : Path
        The folder of the figures.

    Returns
    -------
    str
        64 hex digits.
    """
    import pypandoc

    digest = hashlib.sha256(f"pandoc {pypandoc.get_pandoc_version()}\0{markdown}\0".encode())
    files = []
    for argument in _pandoc_arguments(extra, build):
        option, _, value = argument.partition("=")
        if value and Path(value).is_file():
            files.append(Path(value))
            argument = f"{option}=<file>"
        elif value and Path(value).is_dir():
            argument = f"{option}=<folder>"
        digest.update(f"{argument}\0".encode())
    files += [image for image in sorted(build.glob("*.png")) if f"]({image.name})" in markdown]
    keyed.digest_files(digest, files)
    return digest.hexdigest()


def _front(page: Page, lang: str) -> str:
    front = {"title": page.front.get("title", page.stem), "lang": lang}
    if page.front.get("subtitle"):
        front["subtitle"] = page.front["subtitle"]
    return "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n\n"


def write_html(project: Project, page: Page, body: str, build: Path, kept: Path | None = None) -> Path:
    """One self-contained HTML page with navbar, table of contents and numbering.

    Parameters
    ----------
    project : Project
    page : Page
    body : str
        The page's Markdown.
    build : Path
        Working folder (figures, navbar, and what ends the page when
        :func:`after_body` was written there as :data:`AFTER_BODY_FILE`).
    kept : Path, optional
        Folder of pages made before (:mod:`analysis.site.keyed`): a page
        made from the same inputs (:func:`html_key`) is copied from there
        rather than made again, and a page made here is kept there.

    Returns
    -------
    Path
    """
    options = project.format_options("html")
    numbered = page.front.get("number-sections", options.get("number-sections", False))
    extra = [
        "--embed-resources" if options.get("embed-resources") else "--self-contained=false",
        f"--metadata=pagetitle:{page.front.get('title', page.stem)}",
    ]
    if options.get("html-math-method") == "mathml":
        extra.append("--mathml")
    if page.front.get("toc", options.get("toc")):
        extra.append("--toc")
    if numbered:
        extra += ["--number-sections", f"--number-offset={page.episode or 0}"]
    extra += [f"--css={css}" for css in project.css_files()]
    navbar = build / f"{page.stem}-navbar.html"
    navbar.write_text(_navbar(project, page))
    extra.append(f"--include-before-body={navbar}")
    extra.append(f"--include-in-header={ASSETS / 'head.html'}")
    if (build / AFTER_BODY_FILE).is_file():
        extra.append(f"--include-after-body={build / AFTER_BODY_FILE}")
    html = build / f"{page.stem}.html"
    lang = project.config.get("lang", "en")
    landing = page.source == project.pages[0]
    markdown = _front(page, lang) + _downloads(page, landing) + body
    key = html_key(markdown, extra, build) if kept else ""
    if kept and keyed.restore(kept, page.stem, key, ".html", html):
        return html
    _pandoc(markdown, html, "html5", extra, build)
    if kept:
        keyed.keep(kept, page.stem, key, ".html", html.read_bytes())
    return html


def pdf_section(page: Page, body: str) -> str:
    """A page as one chapter of the PDF: its title a level-1 heading.

    Pages that are not episodes are not numbered, nor are their sections.

    Parameters
    ----------
    page : Page
    body : str
        The page's Markdown.

    Returns
    -------
    str
    """
    title = page.front.get("title", page.stem)
    if page.episode:
        return f"# {title} {{#page-{page.stem}}}\n\n{body}"
    unnumbered = re.sub(
        r"^(#{2,6} .*?)(\{[^}]*\})?\s*$",
        lambda m: m.group(1).rstrip() + " {.unnumbered}" if not m.group(2) else m.group(0),
        body,
        flags=re.MULTILINE,
    )
    return f"# {title} {{#page-{page.stem} .unnumbered}}\n\n{unnumbered}"


def write_pdf(project: Project, sections: list[str], build: Path, name: str = PDF_NAME) -> Path:
    """The whole lesson as one PDF (A4 unless ``format.typst.papersize`` says otherwise).

    Parameters
    ----------
    project : Project
    sections : list of str
        Markdown of each page (:func:`pdf_section`), or of each episode's
        exercises (:func:`analysis.site.notebook.tasks_markdown`).
    build : Path
        Working folder with the figures.
    name : str
        The PDF's file name in ``build``; a PDF other than the lesson's is
        titled "<site title>: exercises".

    Returns
    -------
    Path
    """
    import typst

    options = project.format_options("typst")
    title = project.config.get("website", {}).get("title", "Lesson")
    if name != PDF_NAME:
        title = f"{title}: exercises"
    front = {
        "title": title,
        "lang": project.config.get("lang", "en"),
        "papersize": options.get("papersize", "a4"),
    }
    extra = [f"--include-in-header={ASSETS / 'header.typ'}"]
    if options.get("toc"):
        extra.append("--toc")
    if options.get("number-sections"):
        extra.append("--number-sections")
    typ = build / Path(name).with_suffix(".typ")
    markdown = "---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n\n" + "\n\n".join(sections)
    _pandoc(markdown, typ, "typst", extra, build)
    pdf = build / name
    typst.compile(str(typ), output=str(pdf), root=str(build))
    return pdf
