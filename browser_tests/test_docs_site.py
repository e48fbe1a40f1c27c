"""
The documentation site (``make docs``, in docs/_build/html/) in headless Chromium, as a reader opens it offline.

The quickstart and the API reference are opened from the disk (``file://``: no server, no network);
each shows its headings, the API reference its endpoints rendered from docs/openapi.yaml, and no page
asks for anything beyond the built site (no script, style or font from elsewhere). Screenshots go to
var/screenshots/docs-quickstart.png and var/screenshots/docs-api-reference.png.
"""

import tempfile

import pytest
from selenium.webdriver.common.by import By

from browser_tests.browser import DESKTOP, ROOT, SCREENSHOTS, missing_tools, screenshot, start_chromium

SITE = ROOT / "docs" / "_build" / "html"
NO_PROXY = 9  # file:// pages take no proxy: the port of the discard service, never asked


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium over the built documentation."""
    missing = [tool for tool in missing_tools() if "axe-core" not in tool]
    if missing:  # a failure, never a skip: `make test` installs them (scripts/test-browser.sh)
        pytest.fail(f"The browser test needs {', '.join(missing)}.")
    if not (SITE / "index.html").exists():
        pytest.fail(f"No documentation in {SITE}: `make docs` builds it first.")
    with tempfile.TemporaryDirectory(prefix="tahoe-chromium-") as profile:
        driver = start_chromium(NO_PROXY, profile)
        yield driver
        driver.quit()


def open_page(driver, page):
    """Open a page of the built site; return the URLs of what it loaded from outside the site."""
    driver.get((SITE / page).as_uri())
    loaded = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href]);")
    return [url for url in loaded if not url.startswith(SITE.as_uri())]


def texts(driver, selector):
    """The visible text of each element matching a CSS selector, without Sphinx's pilcrow links."""
    return [element.text.replace("#", "").strip() for element in driver.find_elements(By.CSS_SELECTOR, selector)]


def top_screenshot(driver, name):
    """Write a screenshot of the top of the page, at the desktop width, to var/screenshots/<name>.png."""
    driver.set_window_size(*DESKTOP)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def test_the_quickstart_shows_its_steps_and_commands(browser):
    assert open_page(browser, "quickstart.html") == []
    assert texts(browser, "article h1") == ["Quickstart"]
    assert texts(browser, "article h2")[:3] == ["The two commands", "A first registration", "A first enrollment"]
    blocks = texts(browser, "article div.highlight-console pre")
    assert blocks[0].startswith("$ make run")
    assert any("/tahoe/api/v1/registrations/" in block and "HTTP/1.1 200 OK" in block for block in blocks)
    assert any("/tahoe/api/v1/enrollments/" in block for block in blocks)
    path = screenshot(browser, "docs-quickstart", DESKTOP)
    print(f"\nScreenshot of the quickstart: {path.relative_to(ROOT)}")
    assert path.stat().st_size > 10_000


def test_the_api_reference_renders_the_openapi_schemas_endpoints(browser):
    assert open_page(browser, "reference/openapi.html") == []
    assert texts(browser, "article h1") == ["The OpenAPI schema"]
    endpoints = texts(browser, "article dl.http dt")
    for endpoint in ("POST /v1/registrations/", "POST /v1/registrations/bulk/", "POST /v1/enrollments/",
                     "GET /v1/courses/"):
        assert any(text.startswith(endpoint) for text in endpoints), f"{endpoint} is not rendered: {endpoints}"
    registration = browser.find_element(By.XPATH, "//dt[starts-with(normalize-space(.), 'POST /v1/registrations/')]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'});", registration)
    path = top_screenshot(browser, "docs-api-reference")
    print(f"\nScreenshot of the API reference: {path.relative_to(ROOT)}")
    assert path.stat().st_size > 10_000


def test_every_page_has_the_sites_navigation_and_no_outside_asset(browser):
    assert open_page(browser, "index.html") == []
    navigation = texts(browser, "nav.bd-links a")
    for page in ("Quickstart", "The OpenAPI schema", "Settings", "Feature toggles", "Architecture decisions"):
        assert any(text.startswith(page) for text in navigation), f"{page} is not in the navigation: {navigation}"
    for page in ("howto/webhooks.html", "reference/settings.html", "reference/toggles.html", "changelog.html"):
        assert open_page(browser, page) == [], page
        assert texts(browser, "article h1"), page
