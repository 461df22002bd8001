"""Open rendered pages in headless Chromium: check what a reader sees, take screenshots.

Chromium and its driver come from the operating system (Debian packages
``chromium`` and ``chromium-driver``); Selenium drives them. Pages are
opened from disk (``file://``), as a reader who downloaded the site would.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

from analysis.site import keyed

#: Window width (CSS pixels) of a narrow phone screen.
NARROW_WIDTH = 420
#: Smallest acceptable computed font size of code text, CSS pixels.
MIN_CODE_PX = 13.0

_BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def chromium_paths() -> tuple[str, str] | None:
    """Paths of a Chromium binary and its driver, or None when either is missing.

    Returns
    -------
    tuple of str or None
        ``(browser, driver)``.
    """
    browser = next((path for name in _BROWSERS if (path := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@contextmanager
def headless_chromium(width: int = 1200, height: int = 900) -> Iterator[object]:
    """A headless Chromium window driven by Selenium, closed on exit.

    Parameters
    ----------
    width, height : int
        Window size in CSS pixels.

    Yields
    ------
    selenium.webdriver.Chrome

    Raises
    ------
    RuntimeError
        If Chromium or its driver is not installed.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    paths = chromium_paths()
    if paths is None:
        raise RuntimeError("Chromium and chromedriver are needed (Debian: chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--allow-file-access-from-files",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(paths[1]))
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver) -> list[str]:
    """Messages of level SEVERE logged by the page since the last call.

    Parameters
    ----------
    driver : selenium.webdriver.Chrome
        A page already loaded.

    Returns
    -------
    list of str
    """
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def broken_images(driver) -> list[str]:
    """Sources (shortened) of images that did not decode (natural width 0).

    Parameters
    ----------
    driver : selenium.webdriver.Chrome
        A page already loaded.

    Returns
    -------
    list of str
        The first characters of each broken image's source.
    """
    return driver.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
        ".map(i => i.src.slice(0, 80));"
    )


def _ids(path: Path, cache: dict[Path, set[str]]) -> set[str]:
    if path not in cache:
        from html.parser import HTMLParser

        found: set[str] = set()

        class Ids(HTMLParser):
            def handle_starttag(self, tag, attrs):
                found.update(value for name, value in attrs if name == "id" and value)

        Ids().feed(path.read_text())
        cache[path] = found
    return cache[path]


def broken_links(driver, page: Path) -> list[str]:
    """Internal links of a page whose file or anchor does not exist.

    Links to other sites (``http:``, ``https:``, ``mailto:``) are not
    followed; local files must exist, and an anchor must be an ``id`` in
    its target page.

    Parameters
    ----------
    driver : selenium.webdriver.Chrome
        A page already loaded.
    page : Path
        The HTML file the driver shows.

    Returns
    -------
    list of str
        The broken ``href`` values.
    """
    hrefs = driver.execute_script(
        "return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'));"
    )
    broken, cache = [], {}
    for href in hrefs:
        parsed = urlparse(href)
        if parsed.scheme in ("http", "https", "mailto"):
            continue
        target = page if not parsed.path else (page.parent / unquote(parsed.path)).resolve()
        if not target.exists():
            broken.append(href)
        elif (
            parsed.fragment
            and target.suffix == ".html"
            and unquote(parsed.fragment) not in _ids(target, cache)
        ):
            broken.append(href)
    return broken


def horizontal_overflow(driver) -> int:
    """How many CSS pixels the page is wider than the window (0 = no sideways scroll).

    Parameters
    ----------
    driver : selenium.webdriver.Chrome
        A page already loaded.

    Returns
    -------
    int
    """
    return int(
        driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;"
        )
    )


def smallest_code_px(driver) -> float | None:
    """Smallest computed font size of any code text on the page, or None without code.

    Parameters
    ----------
    driver : selenium.webdriver.Chrome
        A page already loaded.

    Returns
    -------
    float or None
    """
    return driver.execute_script(
        "const sizes = Array.from(document.querySelectorAll('pre, code'))"
        ".map(e => parseFloat(getComputedStyle(e).fontSize));"
        "return sizes.length ? Math.min(...sizes) : null;"
    )


def folding_works(driver) -> bool | None:
    """Whether every folded solution opens on a click and closes on a second.

    Returns None when the page has nothing folded.

    Parameters
    ----------
    driver : selenium.webdriver.Chrome
        A page already loaded.

    Returns
    -------
    bool or None
    """
    count = driver.execute_script("return document.querySelectorAll('details').length;")
    if not count:
        return None
    return bool(
        driver.execute_script(
            "return Array.from(document.querySelectorAll('details')).every(d => {"
            " const s = d.querySelector('summary'); const was = d.open;"
            " s.click(); const opened = d.open !== was; s.click(); return opened && d.open === was; });"
        )
    )


def screenshot_pages(
    pages: list[Path],
    folder: Path,
    width: int = 1200,
    height: int = 1600,
    kept: Path | None = None,
    keys: Mapping[Path, str] | None = None,
) -> list[Path]:
    """Save a PNG of the top of each page into ``folder``.

    Parameters
    ----------
    pages : list of Path
        HTML files.
    folder : Path
        Created if needed; receives ``<page>.png``.
    width, height : int
        Window size in CSS pixels.
    kept : Path, optional
        Folder of screenshots taken before (:mod:`analysis.site.keyed`).
    keys : mapping, optional
        For each page, a digest of what it shows (its HTML). With ``kept``,
        a screenshot taken before of a page with the same key, window and
        browser is copied rather than taken again, and each one taken is
        kept there. Chromium starts only if a screenshot is missing.

    Returns
    -------
    list of Path
    """
    folder.mkdir(parents=True, exist_ok=True)
    shots = {page: folder / f"{page.stem}.png" for page in pages}
    shot_keys = {}
    if kept and keys:
        browser = Path(chromium_paths()[0]).resolve().stat()  # its size and time: another version
        shown_in = f"{width}x{height}\0{browser.st_size}:{browser.st_mtime_ns}"
        shot_keys = {page: hashlib.sha256(f"{keys[page]}\0{shown_in}".encode()).hexdigest() for page in pages}
    missing = []
    for page, shot in shots.items():
        if not (shot_keys and keyed.restore(kept, page.stem, shot_keys[page], ".png", shot)):
            missing.append(page)
    if missing:
        with headless_chromium(width, height) as driver:
            for page in missing:
                driver.get(page.resolve().as_uri())
                driver.save_screenshot(str(shots[page]))
                if shot_keys:
                    keyed.keep(kept, page.stem, shot_keys[page], ".png", shots[page].read_bytes())
    return list(shots.values())
