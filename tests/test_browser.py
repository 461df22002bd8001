"""The rendered lesson in headless Chromium, opened from disk as a reader would.

Without Chromium and chromedriver these tests skip and say why; under CI
(``CI=true``) a missing browser is a failure.
"""

import os
from collections import Counter
from pathlib import Path

import pytest

from analysis.io import registry
from analysis.site import browser
from analysis.site import pages as site_pages
from analysis.site.notebook import split_options

if browser.chromium_paths() is None:
    if os.environ.get("CI") == "true":
        pytest.fail("CI needs Chromium and chromedriver (Debian: chromium chromium-driver)", pytrace=False)
    pytest.skip("Chromium and chromedriver are not installed", allow_module_level=True)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pages(lesson_site):
    return sorted((lesson_site / "report").glob("*.html"))


@pytest.fixture(scope="module")
def narrow_window():
    with browser.headless_chromium(browser.NARROW_WIDTH, 900) as driver:
        yield driver


def test_every_page_opens_cleanly_on_a_narrow_screen(pages, narrow_window):
    assert len(pages) >= 4
    problems = {}
    for page in pages:
        narrow_window.get(page.as_uri())
        found = {
            "console errors": browser.console_errors(narrow_window),
            "broken images": browser.broken_images(narrow_window),
            "broken links": browser.broken_links(narrow_window, page),
            "sideways scroll (px)": browser.horizontal_overflow(narrow_window),
        }
        code_px = browser.smallest_code_px(narrow_window)
        if code_px is not None and code_px < browser.MIN_CODE_PX:
            found["code text (px)"] = code_px
        problems.update({f"{page.name}: {k}": v for k, v in found.items() if v})
    assert problems == {}


def test_the_quality_control_page_opens_cleanly_on_a_narrow_screen(narrow_window, tmp_path):
    from conftest import synthetic_run

    from analysis.plots.qc_page import qc_page

    run = synthetic_run(tmp_path / "images")
    page = tmp_path / "qc.html"
    page.write_text(qc_page(run["tables"], run["failures"], run["files"], "DNA", "Cells_AreaShape_Area"))
    narrow_window.get(page.as_uri())
    assert narrow_window.execute_script("return document.images.length;") == 8
    assert browser.broken_images(narrow_window) == []
    assert browser.console_errors(narrow_window) == []
    assert browser.horizontal_overflow(narrow_window) == 0
    from axe_selenium_python import Axe

    narrow_window.execute_script(Path(Axe(narrow_window).script_url).read_text())
    violations = narrow_window.execute_script(AXE_RUN, AXE_RULES)
    assert [(rule, nodes) for impact, rule, nodes in violations if impact in ("serious", "critical")] == []


def test_every_figure_decodes(pages, narrow_window):
    for page in pages:
        narrow_window.get(page.as_uri())
        images = narrow_window.execute_script("return document.images.length;")
        assert browser.broken_images(narrow_window) == [], page.name
        if page.stem[:2].isdigit():
            assert images > 0, page.name


def test_solutions_fold_and_unfold(pages, narrow_window):
    folded = 0
    for page in pages:
        narrow_window.get(page.as_uri())
        works = browser.folding_works(narrow_window)
        assert works is not False, page.name
        folded += narrow_window.execute_script("return document.querySelectorAll('details').length;")
    assert folded >= 9


def test_the_render_saved_a_screenshot_of_every_page(lesson_site, pages):
    shots = sorted((lesson_site / "screens").glob("*.png"))
    assert [shot.stem for shot in shots] == [page.stem for page in pages]
    assert all(shot.read_bytes().startswith(b"\x89PNG") for shot in shots)


#: Clicks every copy button, recording what each puts on the clipboard.
COPY_EVERY_BLOCK = """
const copied = [];
navigator.clipboard.writeText = (text) => { copied.push(text); return Promise.resolve(); };
document.querySelectorAll("button.copy-code").forEach((button) => button.click());
return [copied, document.querySelectorAll("div.sourceCode").length];
"""


def shown_code(stem):
    """The code cells a page shows, as its source has them (options removed)."""
    _, notebook = site_pages.read_qmd(registry.PROJECT_ROOT / "report" / f"{stem}.qmd")
    shown = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        options, code = split_options(cell.source)
        if options.get("include") is not False and options.get("echo", True) is not False:
            shown.append(code.strip("\n"))
    return shown


def test_every_code_block_has_a_button_that_copies_exactly_its_code(pages, narrow_window):
    checked = 0
    for page in pages:
        narrow_window.get(page.as_uri())
        copied, blocks = narrow_window.execute_script(COPY_EVERY_BLOCK)
        assert len(copied) == blocks, page.name  # one button per block, each copied
        missing = [code for code in shown_code(page.stem) if code not in copied]
        assert missing == [], page.name
        checked += len(copied)
    assert checked > 50


def test_the_sections_sit_beside_the_text_on_wide_screens_and_fold_on_narrow_ones(pages, narrow_window):
    state = (
        "const toc = document.querySelector('#TOC');"
        "return [toc.querySelector('details').open, getComputedStyle(toc).position];"
    )
    episode = next(page for page in pages if page.stem[:2].isdigit())
    narrow_window.get(episode.as_uri())
    assert narrow_window.execute_script(state) == [False, "static"]
    with browser.headless_chromium(1400, 900) as wide:
        wide.get(episode.as_uri())
        assert wide.execute_script(state) == [True, "fixed"]
        assert browser.horizontal_overflow(wide) == 0


def first_result(driver, typed):
    """The first link the search box offers for ``typed``."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.ID, "site-search").send_keys(typed)
    WebDriverWait(driver, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results a"))
    return driver.find_element(By.CSS_SELECTOR, "#search-results a")


@pytest.mark.parametrize(
    ("typed", "title", "target"),
    [
        ("dice coefficient", "Dice coefficient", "reference.html#term-dice-coefficient"),  # a term, whole
        ("propag", "Propagation", "reference.html#term-propagation"),  # the start of one
        ("otsu threshold", "Otsu threshold", "reference.html#term-otsu-threshold"),
    ],
)
def test_the_search_box_finds_a_glossary_term_on_any_page(pages, narrow_window, typed, title, target):
    start = next(page for page in pages if page.stem[:2].isdigit())  # an episode, not the glossary's page
    narrow_window.get(start.as_uri())
    first = first_result(narrow_window, typed)
    assert first.text == title
    assert first.get_attribute("href").endswith(f"/report/{target}")
    first.click()
    assert narrow_window.current_url.endswith(target)
    assert browser.horizontal_overflow(narrow_window) == 0


#: The rules axe-core checks: WCAG 2.0 levels A and AA, and its best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "best-practice"]
AXE_RULES = {"runOnly": {"type": "tag", "values": AXE_TAGS}}
AXE_RUN = """return axe.run(document, arguments[0])
  .then((result) => result.violations.map((v) => [v.impact, v.id, v.nodes.length]));"""
#: Those of the rules that read colours (axe's category ``cat.color``).
COLOUR_RULES = """return axe.getRules(arguments[0])
  .filter((rule) => rule.tags.includes("cat.color")).map((rule) => rule.ruleId);"""
#: Every element's box and whether it shows.
LAYOUT = """return Array.from(document.querySelectorAll("*"), (element) => {
  const box = element.getBoundingClientRect(), style = getComputedStyle(element);
  return [element.tagName, box.x, box.y, box.width, box.height, style.display, style.visibility].join();
});"""
BACKGROUND = "return getComputedStyle(document.body).backgroundColor;"


def test_axe_finds_no_serious_or_critical_violation_on_any_page(pages, narrow_window, capsys):
    """Every rule in the light scheme; in the dark one, the rules that read colours.

    The reader's system setting picks the scheme. Where the dark scheme
    leaves every element's box and visibility as they were, the rules that
    do not read colours find what they found in the light one, so only the
    colour rules run again.
    """
    from axe_selenium_python import Axe

    def prefer(scheme):
        features = [{"name": "prefers-color-scheme", "value": scheme}] if scheme else []
        narrow_window.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": features})

    axe_core = Path(Axe(narrow_window).script_url).read_text()
    found, backgrounds, moved = {"light": {}, "dark": {}}, {"light": set(), "dark": set()}, []
    try:
        for page in pages:
            prefer("light")
            narrow_window.get(page.as_uri())
            narrow_window.execute_script(axe_core)
            found["light"][page.name] = narrow_window.execute_script(AXE_RUN, AXE_RULES)
            backgrounds["light"].add(narrow_window.execute_script(BACKGROUND))
            layout = narrow_window.execute_script(LAYOUT)  # after the run: the page has settled
            prefer("dark")
            if narrow_window.execute_script(LAYOUT) != layout:
                moved.append(page.name)
            colour = narrow_window.execute_script(COLOUR_RULES, AXE_TAGS)
            colour_rules = {"runOnly": {"type": "rule", "values": colour}}
            found["dark"][page.name] = narrow_window.execute_script(AXE_RUN, colour_rules)
            backgrounds["dark"].add(narrow_window.execute_script(BACKGROUND))
    finally:
        prefer(None)
    assert moved == []  # so the rules that do not read colours need not run again
    dark_background = "rgb(22, 24, 29)"  # the pages follow the setting
    assert backgrounds["dark"] == {dark_background}
    assert dark_background not in backgrounds["light"]
    version = narrow_window.execute_script("return axe.version;")
    with capsys.disabled():  # the counts stand in the test log, passed or not
        for scheme, rules in (("light", f"tagged {AXE_TAGS}"), ("dark", f"{colour}")):
            counts = {name: dict(Counter(i for i, _, _ in v)) for name, v in found[scheme].items()}
            print(f"\naxe-core {version}, {scheme} scheme, rules {rules}: violations by impact {counts}")
    grave = {
        (scheme, name): [
            (rule, nodes) for impact, rule, nodes in violations if impact in ("serious", "critical")
        ]
        for scheme, by_page in found.items()
        for name, violations in by_page.items()
    }
    assert {key: rules for key, rules in grave.items() if rules} == {}


def test_the_search_works_on_the_pages_served_over_http(lesson_site, narrow_window):
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(lesson_site / "report"))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            narrow_window.get(f"http://127.0.0.1:{server.server_port}/01-images.html")
            first = first_result(narrow_window, "watershed")
            assert first.text == "Watershed"
            assert (
                first.get_attribute("href")
                == f"http://127.0.0.1:{server.server_port}/reference.html#term-watershed"
            )
            assert browser.console_errors(narrow_window) == []
        finally:
            server.shutdown()
