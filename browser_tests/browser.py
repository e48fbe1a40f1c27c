"""Headless Debian Chromium driven by Selenium, the axe-core accessibility check, and screenshots."""

import json
import shutil
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "var" / "screenshots"
AXE_SCRIPT = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DESKTOP = (1280, 900)
PHONE = (375, 812)
BLOCKING_IMPACTS = ("serious", "critical")


def missing_tools():
    """Name what the browser test needs and this machine lacks."""
    needed = {CHROMIUM: "Debian's chromium", CHROMEDRIVER: "Debian's chromium-driver",
              str(AXE_SCRIPT): "axe-core (npm ci in browser_tests/)"}
    return [what for path, what in needed.items() if not Path(path).exists() and not shutil.which(path)]


def start_chromium(proxy_port, profile_dir):
    """
    Start headless Chromium whose HTTP proxy is the development LMS.

    The development LMS serves every site on one port and tells them apart by the Host's name, as
    the LMS does; through the proxy the browser asks for http://alpha.localhost/... and sends
    ``Host: alpha.localhost`` (``<-loopback>`` sends .localhost names through the proxy too).
    """
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile_dir}",
                 f"--proxy-server=http://127.0.0.1:{proxy_port}", "--proxy-bypass-list=<-loopback>",
                 f"--window-size={DESKTOP[0]},{DESKTOP[1]}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    return driver


def screenshot(driver, name, size):
    """Write a screenshot of the whole page at ``size``'s width to var/screenshots/<name>.png; return its path."""
    width, height = size
    driver.set_window_size(width, height)
    full_height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, max(height, full_height + 140))  # the window's frame is not page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(width, height)
    return path


def axe_violations(driver):
    """Run axe-core (every rule of its default set) on the page; return its violations, summarised."""
    driver.execute_script(AXE_SCRIPT.read_text(encoding="utf-8"))
    violations = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' '))}))), e => done({error: String(e)}));"
    )
    if isinstance(violations, dict):
        raise RuntimeError(f"axe-core failed: {violations['error']}")
    return violations


class AxeReport:
    """The violations of every page checked, by impact; written to var/screenshots/axe.json."""

    def __init__(self):
        """Start with no page checked."""
        self.pages = {}

    def check(self, driver, name):
        """Check the page the browser shows, under ``name``."""
        self.pages[name] = axe_violations(driver)

    def by_impact(self):
        """Count the violations of all pages by impact."""
        counts = {impact: 0 for impact in ("minor", "moderate", "serious", "critical")}
        for violations in self.pages.values():
            for violation in violations:
                counts[violation["impact"]] = counts.get(violation["impact"], 0) + 1
        return counts

    def blocking(self):
        """Return the serious and critical violations, as (page, rule id, elements)."""
        return [(name, v["id"], v["nodes"]) for name, violations in self.pages.items() for v in violations
                if v["impact"] in BLOCKING_IMPACTS]

    def write(self):
        """Write the report; return its path."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / "axe.json"
        path.write_text(json.dumps({"by_impact": self.by_impact(), "pages": self.pages}, indent=2), encoding="utf-8")
        return path
