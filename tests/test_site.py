"""The course site, read the way a visitor reads it: built offline, then every page opened in a real Chromium.

``python -m tools.build_site`` builds into a temporary folder, a local HTTP server serves it, and each page
must load with no console error, no failed request and no request leaving the machine (MathJax and everything
else come from the site itself); every image loads and carries alt text (the very text its notebook stored); every internal link resolves; math
renders; the search page finds "clipnorm"; and axe-core (the copy of its npm build that the
axe-playwright-python package ships, injected from that local file) reports no serious or critical
accessibility violation.

Skipped like the JupyterLab check when Chromium or Playwright is missing (COURSE_REQUIRE_BROWSER=1 fails
instead); deselect with ``-m "not browser"``.
"""

import functools
import http.server
import importlib.resources
import os
import threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest

from course_utils.figures import stored_alt_texts
from tests.browser_support import CHROMIUM_ARGS, REQUIRE_ENV_VAR, browser_unavailable_reason, find_chromium
from tools.build_site import build

ROOT = Path(__file__).resolve().parent.parent

UNAVAILABLE = browser_unavailable_reason()
needs_browser = pytest.mark.skipif(
    UNAVAILABLE is not None and os.environ.get(REQUIRE_ENV_VAR) != "1", reason=f"site check skipped: {UNAVAILABLE}"
)
AXE_SCRIPT = importlib.resources.files("axe_playwright_python") / "axe.min.js"
SERIOUS = ("serious", "critical")
PAGE_TIMEOUT_MS = 30_000

# Everything a page shows a visitor, gathered in the page itself.
_PAGE_REPORT_JS = """async () => {
    if (window.MathJax?.startup?.promise) await window.MathJax.startup.promise;
    const images = Array.from(document.images);
    await Promise.all(images.map(img => img.decode().catch(() => null)));
    return {
        brokenImages: images.filter(img => img.naturalWidth === 0).map(img => img.getAttribute('src')),
        imagesWithoutAlt: images.filter(img => !(img.getAttribute('alt') || '').trim()).map(img => img.getAttribute('src')),
        alts: images.map(img => img.getAttribute('alt') || ''),
        links: Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href')),
        texMarkers: document.querySelectorAll('.math').length,
        renderedMath: document.querySelectorAll('mjx-container').length,
    };
}"""
_AXE_JS = """async () => {
    const result = await axe.run(document, {resultTypes: ['violations'], preload: false});  // no CSS refetch
    return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
                                        target: v.nodes[0]?.target?.join(' ') ?? ''}));
}"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built from this checkout, served on localhost: yields (folder, base URL)."""
    if UNAVAILABLE is not None:
        pytest.fail(f"{REQUIRE_ENV_VAR}=1 but the site check cannot run: {UNAVAILABLE}")
    folder = tmp_path_factory.mktemp("site")
    assert build(folder) == 0, "python -m tools.build_site failed (warnings are errors): run it to see why"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=find_chromium(), args=list(CHROMIUM_ARGS))
        yield chromium
        chromium.close()


def site_pages(folder):
    pages = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*.html"))
    return [page for page in pages if not page.startswith(("_", "genindex"))]


def open_page(browser, base, page, query=""):
    """Load ``page`` and return (playwright page, problems seen while loading)."""
    tab = browser.new_page()
    tab.set_default_timeout(PAGE_TIMEOUT_MS)
    problems = []
    local = urlparse(base).netloc
    tab.on("console", lambda message: message.type == "error" and problems.append(f"console error: {message.text}"))
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on("requestfailed", lambda request: problems.append(f"failed request: {request.url}"))
    tab.on(
        "response",
        lambda response: response.status >= 400 and problems.append(f"HTTP {response.status}: {response.url}"),
    )

    def stay_local(route):
        if urlparse(route.request.url).netloc == local or route.request.url.startswith("data:"):
            route.continue_()
        else:
            problems.append(f"request leaving the site: {route.request.url}")
            route.abort()

    tab.route("**/*", stay_local)
    tab.goto(urljoin(base, page) + query, wait_until="load")
    return tab, problems


def missing_alts(page, alts_on_page):
    """The alt texts the page's notebook stores (``figures.show``) that the page's images do not carry."""
    notebook = ROOT / Path(page).with_suffix(".ipynb")
    if not notebook.is_file():
        return []
    return [alt for alt in stored_alt_texts(notebook) if alt and alt not in alts_on_page]


def dead_links(folder, page, links):
    dead = []
    for href in links:
        target = urlparse(urljoin(f"http://site/{page}", href))
        if target.netloc != "site" or not target.path or href.startswith("#"):
            continue  # external links and in-page anchors
        path = folder / unquote(target.path).lstrip("/")
        if not (path.is_file() or (path / "index.html").is_file()):
            dead.append(href)
    return dead


@pytest.mark.browser
@needs_browser
def test_every_page_loads_offline_with_its_figures_links_math_and_no_serious_accessibility_violation(site, browser):
    folder, base = site
    pages = site_pages(folder)
    assert {"index.html", "notebooks/01_deep_tanh_mlp.html", "docs/instructor_guide.html", "search.html"} <= set(pages)
    found = []
    for page in pages:
        tab, problems = open_page(browser, base, page)
        try:
            report = tab.evaluate(_PAGE_REPORT_JS)
            problems += [f"image did not load: {src}" for src in report["brokenImages"]]
            problems += [f"image without alt text: {src}" for src in report["imagesWithoutAlt"]]
            problems += [f"stored alt text not on the page: {alt[:80]!r}" for alt in missing_alts(page, report["alts"])]
            problems += [f"dead link: {href}" for href in dead_links(folder, page, report["links"])]
            if report["texMarkers"] and not report["renderedMath"]:
                problems.append(f"{report['texMarkers']} math element(s), none rendered by MathJax")
            tab.add_script_tag(path=str(AXE_SCRIPT))
            problems += [
                f"axe {v['impact']}: {v['id']} ({v['help']}; {v['nodes']} element(s), e.g. {v['target']})"
                for v in tab.evaluate(_AXE_JS)
                if v["impact"] in SERIOUS
            ]
        finally:
            tab.close()
        found += [f"{page}: {problem}" for problem in problems]
    assert not found, "\n".join(found)


@pytest.mark.browser
@needs_browser
def test_math_renders_on_the_lesson_that_derives_chi_1(site, browser):
    folder, base = site
    tab, problems = open_page(browser, base, "notebooks/01_deep_tanh_mlp.html")
    try:
        assert tab.evaluate(_PAGE_REPORT_JS)["renderedMath"] > 10
        assert not problems, problems
    finally:
        tab.close()


@pytest.mark.browser
@needs_browser
def test_the_search_page_finds_clipnorm(site, browser):
    folder, base = site
    tab, problems = open_page(browser, base, "search.html", query="?q=clipnorm")
    try:
        tab.wait_for_selector("#search-results li", timeout=PAGE_TIMEOUT_MS)
        hits = tab.eval_on_selector_all("#search-results li a", "links => links.map(a => a.getAttribute('href'))")
        assert any("03_gradient_clipping" in href for href in hits), hits
        assert not problems, problems
    finally:
        tab.close()


def test_dead_links_are_found(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "a.html").write_text("")
    links = ["a.html", "a.html#x", "../index.html", "#top", "https://example.org/", "missing.html"]
    assert dead_links(tmp_path, "notebooks/a.html", links) == ["../index.html", "missing.html"]
