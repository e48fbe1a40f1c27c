"""
The token page in headless Chromium against the development LMS that ``make run`` serves.

A site admin signs in, creates a token, copies it with the page's button and registers a learner
with it; rotates it (the old key is refused, the new one accepted); sees both registrations in the
activity list. Another site's admin gets the 403 page. Every page passes axe-core without a serious
or critical violation; screenshots at desktop and phone widths go to var/screenshots/.
"""

import json
import tempfile

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from browser_tests.browser import DESKTOP, PHONE, AxeReport, missing_tools, screenshot, start_chromium
from browser_tests.devlms_run import DevLms

SITE = "alpha.localhost"
OTHER_SITE = "beta.localhost"
PAGE = f"http://{SITE}/tahoe/api/token/"


@pytest.fixture(scope="module")
def lms():
    """The development LMS, migrated, seeded and served as ``make run`` does, on a fresh database."""
    with tempfile.TemporaryDirectory(prefix="tahoe-browser-") as var_dir:
        server = DevLms(var_dir)
        yield server
        server.stop()


@pytest.fixture
def browser(lms):
    """Headless Chromium with the development LMS as its proxy."""
    missing = missing_tools()
    if missing:  # a failure, never a skip: `make test` installs them (scripts/test-browser.sh)
        pytest.fail(f"The browser test needs {', '.join(missing)}.")
    with tempfile.TemporaryDirectory(prefix="tahoe-chromium-") as profile:
        driver = start_chromium(lms.port, profile)
        driver.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": f"http://{SITE}", "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
        })
        yield driver
        driver.quit()


def sign_in(driver, username, password):
    """Open the token page; the LMS's sign-in page comes first and sends the user back."""
    driver.get(PAGE)
    assert driver.current_url == f"http://{SITE}/login?next=/tahoe/api/token/"
    driver.find_element(By.ID, "id_username").send_keys(username)
    driver.find_element(By.ID, "id_password").send_keys(password, Keys.ENTER)
    WebDriverWait(driver, 15).until(expected_conditions.url_to_be(PAGE))


def press_by_keyboard(driver, label):
    """Reach the button labelled ``label`` with the Tab key alone and press it with Enter."""
    visited = []
    for _ in range(30):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        focused = driver.switch_to.active_element
        if focused.text == label:
            ActionChains(driver).send_keys(Keys.ENTER).perform()
            return
        visited.append(focused.get_attribute("outerHTML")[:80])
    raise AssertionError(f"{label!r} cannot be reached with the keyboard; focus went to {visited}")


def new_key_copied(driver):
    """Press the copy button; return the clipboard's text after checking it is the key on the page."""
    shown = driver.find_element(By.ID, "tahoe-new-key").get_attribute("value")
    driver.find_element(By.ID, "tahoe-copy-key").click()
    WebDriverWait(driver, 10).until(
        expected_conditions.text_to_be_present_in_element((By.ID, "tahoe-copy-status"), "copied"))
    copied = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, e => done('clipboard error: ' + e));"
    )
    assert copied == shown and len(copied) == 40, copied
    return copied


def register(lms, key, username):
    """Register a learner on the site with ``key``, as an integrator's server does; return (status, body)."""
    body = json.dumps({"username": username, "email": f"{username}@example.com", "name": "Browser Tested"})
    status, text = lms.request("POST", SITE, "/tahoe/api/v1/registrations/", body=body, headers={
        "Authorization": f"Token {key}", "Content-Type": "application/json",
    })
    return status, json.loads(text)


def test_a_site_admin_manages_the_token_and_sees_the_activity(lms, browser):
    report = AxeReport()
    shots = []
    username, password = lms.admins[SITE]

    browser.get(PAGE)
    report.check(browser, "sign-in page")
    sign_in(browser, username, password)
    assert "switched on" in browser.find_element(By.TAG_NAME, "main").text
    report.check(browser, "token page, seeded token")

    press_by_keyboard(browser, "Revoke the token")  # the seeded one: make run printed it
    WebDriverWait(browser, 15).until(
        expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "main"), "Your token was revoked"))
    report.check(browser, "token page, no token")
    press_by_keyboard(browser, "Create a token")
    WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located((By.ID, "tahoe-new-key")))
    first_key = new_key_copied(browser)
    report.check(browser, "token page, new key")
    shots.append(screenshot(browser, "token-page-new-key-desktop", DESKTOP))
    shots.append(screenshot(browser, "token-page-new-key-phone", PHONE))
    first_status, first = register(lms, first_key, "browser1")
    assert first_status == 200, first

    browser.find_element(By.XPATH, "//button[normalize-space()='Rotate the token']").click()
    # The old page's field goes stale as the POST's answer replaces the page: look again until the new one is there.
    WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda driver: driver.find_element(By.ID, "tahoe-new-key").get_attribute("value") != first_key)
    second_key = new_key_copied(browser)
    assert register(lms, first_key, "refused1")[0] == 401
    second_status, second = register(lms, second_key, "browser2")
    assert second_status == 200, second

    browser.get(PAGE)  # the key is not shown again: only its last four characters
    main = browser.find_element(By.TAG_NAME, "main").text
    assert second_key not in browser.page_source and f"ends in {second_key[-4:]}" in main
    rows = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "#tahoe-activity tbody tr")]
    assert str(second["user_id"]) in rows[0] and "registered" in rows[0]  # newest first
    assert "401" in rows[1] and "authentication-failed" in rows[1]
    assert str(first["user_id"]) in rows[2] and "registered" in rows[2]
    report.check(browser, "token page, activity")
    shots.append(screenshot(browser, "token-page-desktop", DESKTOP))
    shots.append(screenshot(browser, "token-page-phone", PHONE))
    browser.set_window_size(*PHONE)
    report.check(browser, "token page, activity, phone width")
    browser.set_window_size(*DESKTOP)

    browser.delete_all_cookies()
    other_username, other_password = lms.admins[OTHER_SITE]
    sign_in_refused(lms, browser, other_username, other_password)
    report.check(browser, "403 page")
    shots.append(screenshot(browser, "forbidden-page-phone", PHONE))

    report_path = report.write()
    print("\nScreenshots:", *[str(path) for path in shots], sep="\n  ")
    print(f"Accessibility (axe-core), violations by impact: {report.by_impact()}; report: {report_path}")
    assert not report.blocking(), report.blocking()


def sign_in_refused(lms, browser, username, password):
    """Sign in as ``username``, an admin of another site: the page answers 403."""
    browser.get(PAGE)
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys(password, Keys.ENTER)
    WebDriverWait(browser, 15).until(expected_conditions.url_to_be(PAGE))
    assert "You cannot manage the API token of this site" in browser.find_element(By.TAG_NAME, "h1").text
    session = browser.get_cookie("sessionid")["value"]
    status, _ = lms.request("GET", SITE, "/tahoe/api/token/", headers={"Cookie": f"sessionid={session}"})
    assert status == 403
