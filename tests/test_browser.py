"""The rendered lesson in headless Chromium, opened from disk as a reader would.

Without Chromium and chromedriver these tests skip and say why; under CI
(``CI=true``) a missing browser is a failure.
"""

import os

import pytest

from analysis.site import browser

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
