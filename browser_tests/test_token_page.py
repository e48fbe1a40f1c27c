"""
The token page in headless Chromium against the development LMS that ``make run`` serves.

A site admin signs in, creates a token, copies it with the page's button and registers a learner
with it; rotates it (the old key is refused, the new one accepted); sees both registrations in the
activity list. Another site's admin gets the 403 page.

Then the webhooks: the admin's refused form shows its errors next to its fields; two webhooks are
added (each secret shown once, copied with the page's button), a registration is delivered to
both (signed with the secret the page showed; the second receiver answers 410 Gone and is switched
off, the page says why); the admin switches it on again, rotates the first one's secret (the next
delivery is signed with both secrets) and removes the second.

Every page passes axe-core without a serious or critical violation; screenshots at desktop and
phone widths go to var/screenshots/, the report to var/screenshots/axe.json.
"""

import base64
import hashlib
import hmac
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
from tests.webhook_receiver import Answer, Receiver

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


@pytest.fixture(scope="module")
def report():
    """The accessibility report of every page the module's tests check (written by each test, as it ends)."""
    return AxeReport()


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
    copied = copied_with_the_button(driver, "tahoe-new-key", "tahoe-copy-key", "tahoe-copy-status")
    assert len(copied) == 40, copied
    return copied


def copied_with_the_button(driver, field, button, status):
    """Press the ``button`` that copies ``field``; return the clipboard's text, checked to be the field's."""
    shown = driver.find_element(By.ID, field).get_attribute("value")
    driver.find_element(By.ID, button).click()
    WebDriverWait(driver, 10).until(expected_conditions.text_to_be_present_in_element((By.ID, status), "copied"))
    copied = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, e => done('clipboard error: ' + e));"
    )
    assert copied == shown, copied
    return copied


def register(lms, key, username):
    """Register a learner on the site with ``key``, as an integrator's server does; return (status, body)."""
    body = json.dumps({"username": username, "email": f"{username}@example.com", "name": "Browser Tested"})
    status, text = lms.request("POST", SITE, "/tahoe/api/v1/registrations/", body=body, headers={
        "Authorization": f"Token {key}", "Content-Type": "application/json",
    })
    return status, json.loads(text)


def test_a_site_admin_manages_the_token_and_sees_the_activity(lms, browser, report):
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

    finish(report, shots)


def finish(report, shots):
    """Write the accessibility report so far and name the screenshots; fail on a serious or critical violation."""
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


# The webhooks ------------------------------------------------------------------------------------

@pytest.fixture
def receivers():
    """Two webhook receivers on the loopback: one answers 204, the other 410 Gone (its webhook is switched off)."""
    answering, gone = Receiver(), Receiver(default=Answer(status=410))
    yield answering, gone
    answering.close()
    gone.close()


def a_fresh_key(driver):
    """Create (or rotate) the signed-in admin's token on the page; return its key."""
    label = "Create a token" if driver.find_elements(By.XPATH, "//button[.='Create a token']") else "Rotate the token"
    driver.find_element(By.XPATH, f"//button[normalize-space()='{label}']").click()
    return WebDriverWait(driver, 15).until(
        lambda driver: driver.find_element(By.ID, "tahoe-new-key").get_attribute("value"))


def submit_and_wait(driver, button):
    """Press ``button`` (a form's submit button); wait until the POST's answer replaced the page."""
    button.click()
    WebDriverWait(driver, 15).until(expected_conditions.staleness_of(button))
    WebDriverWait(driver, 15).until(lambda driver: driver.execute_script("return document.readyState") == "complete")


def add_webhook(driver, url, events):
    """Fill in the form that adds a webhook and send it."""
    field = driver.find_element(By.ID, "webhook-url")
    field.clear()
    field.send_keys(url)
    for box in driver.find_elements(By.CSS_SELECTOR, "input[name='events']"):
        if box.is_selected() != (box.get_attribute("value") in events):
            driver.find_element(By.CSS_SELECTOR, f"label[for='{box.get_attribute('id')}']").click()
    submit_and_wait(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Add the webhook']"))


def new_secret(driver):
    """Return the webhook secret the page shows this once, copied with its button, seen on the screen."""
    field = driver.find_element(By.ID, "tahoe-new-secret")
    top, bottom, height = driver.execute_script(
        "const box = arguments[0].getBoundingClientRect(); return [box.top, box.bottom, window.innerHeight];", field)
    assert 0 <= top and bottom <= height, "the answer does not show the new secret without scrolling"
    secret = copied_with_the_button(driver, "tahoe-new-secret", "tahoe-copy-secret", "tahoe-copy-secret-status")
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32, secret
    return secret


def webhook_block(driver, url):
    """Return the page's block of the webhook to ``url``."""
    return driver.find_element(By.XPATH, f"//div[@class='tahoe-webhook'][.//dd/code[.='{url}']]")


def delivery_rows(driver, url):
    """Return the cells of the webhook's deliveries table, newest first."""
    return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in webhook_block(driver, url).find_elements(By.CSS_SELECTOR, "table.tahoe-deliveries tbody tr")]


def signed_with(delivery, secret):
    """Whether a delivery carries a Standard Webhooks signature made with ``secret``."""
    signed = f"{delivery.headers['webhook-id']}.{delivery.headers['webhook-timestamp']}.".encode() + delivery.body
    digest = hmac.new(base64.b64decode(secret[len("whsec_"):]), signed, hashlib.sha256).digest()
    return f"v1,{base64.b64encode(digest).decode()}" in delivery.headers["webhook-signature"].split()


def test_a_site_admin_manages_webhooks_and_sees_their_deliveries(lms, browser, report, receivers):
    answering, gone = receivers
    shots = []
    sign_in(browser, *lms.admins[SITE])
    key = a_fresh_key(browser)
    browser.get(PAGE)
    assert "This site has no webhook." in browser.find_element(By.ID, "webhooks").text

    the_refused_form_shows_its_errors(browser, report, shots)
    first_secret, second_secret = two_webhooks_added(browser, report, shots, answering.url, gone.url)

    status, learner = register(lms, key, "hooked1")
    assert status == 200, learner
    (delivered,) = answering.wait_for(1)
    (refused,) = gone.wait_for(1)
    assert signed_with(delivered, first_secret) and signed_with(refused, second_secret)
    assert json.loads(delivered.body)["data"]["user_id"] == learner["user_id"]
    the_deliveries_and_the_switched_off_one_are_shown(browser, report, shots, answering.url, gone.url)

    submit_and_wait(browser, webhook_block(browser, gone.url).find_element(
        By.XPATH, ".//button[starts-with(normalize-space(), 'Switch on again')]"))
    assert "was switched on again" in browser.find_element(By.ID, "webhooks").text
    assert "410 Gone" not in webhook_block(browser, gone.url).text

    submit_and_wait(browser, webhook_block(browser, answering.url).find_element(
        By.XPATH, ".//button[starts-with(normalize-space(), 'Rotate the secret')]"))
    rotated = new_secret(browser)
    assert rotated != first_secret
    assert "The previous secret signs the deliveries too until" in browser.find_element(By.ID, "webhooks").text
    report.check(browser, "webhooks, rotated secret")
    assert register(lms, key, "hooked2")[0] == 200
    after_rotation = answering.wait_for(2)[1]
    assert signed_with(after_rotation, rotated) and signed_with(after_rotation, first_secret)  # 24 h of overlap
    assert len(gone.wait_for(2)) == 2  # switched on again: the next event reached it

    submit_and_wait(browser, webhook_block(browser, gone.url).find_element(
        By.XPATH, ".//button[starts-with(normalize-space(), 'Remove the webhook')]"))
    assert "was removed" in browser.find_element(By.ID, "webhooks").text
    assert gone.url not in browser.find_element(By.ID, "webhooks").text and answering.url in browser.page_source

    browser.get(PAGE)
    actions = [row.find_elements(By.TAG_NAME, "td")[1].text
               for row in browser.find_elements(By.CSS_SELECTOR, "#tahoe-activity tbody tr")]
    assert actions[:5] == ["webhook_delete", "register", "webhook_rotate", "webhook_enable", "register"], actions
    finish(report, shots)


def the_refused_form_shows_its_errors(browser, report, shots):
    """Send a refused URL and no event: the errors are next to their fields, the answer shows the webhooks."""
    add_webhook(browser, "ftp://files.example/hooks", [])
    assert browser.current_url.endswith("/webhooks/create/#webhooks")
    url_field = browser.find_element(By.ID, "webhook-url")
    assert url_field.get_attribute("aria-invalid") == "true"
    assert url_field.get_attribute("value") == "ftp://files.example/hooks"  # kept, to be corrected
    assert "The URL must start with https:// or http://." in browser.find_element(By.ID, "webhook-url-error").text
    assert "Pick one or more events." in browser.find_element(By.ID, "webhook-events-error").text
    report.check(browser, "webhooks, form errors")
    shots.append(screenshot(browser, "token-page-webhook-errors-phone", PHONE))


def two_webhooks_added(browser, report, shots, first_url, second_url):
    """Add a webhook to each URL; return their secrets, each shown once."""
    add_webhook(browser, first_url, ["learner.registered", "enrollment.created"])
    first_secret = new_secret(browser)
    assert "was added" in browser.find_element(By.ID, "webhooks").text
    report.check(browser, "webhooks, new secret")
    shots.append(screenshot(browser, "token-page-webhook-secret-desktop", DESKTOP))
    shots.append(screenshot(browser, "token-page-webhook-secret-phone", PHONE))
    add_webhook(browser, second_url, ["learner.registered"])
    second_secret = new_secret(browser)
    assert second_secret != first_secret
    return first_secret, second_secret


def the_deliveries_and_the_switched_off_one_are_shown(browser, report, shots, answering_url, gone_url):
    """Open the page again: no secret; each webhook's deliveries; the one that answered 410 switched off, and why."""
    browser.get(PAGE)
    assert "whsec_" not in browser.page_source
    assert [row[1:] for row in delivery_rows(browser, answering_url)] == [["learner.registered", "1", "204", "yes"]]
    assert [row[1:] for row in delivery_rows(browser, gone_url)] == [["learner.registered", "1", "410", "no"]]
    switched_off = webhook_block(browser, gone_url).text
    assert "switched off" in switched_off and "The endpoint answered 410 Gone on" in switched_off
    assert webhook_block(browser, answering_url).find_element(By.CSS_SELECTOR, "h4 .tahoe-status").text == "on"
    report.check(browser, "webhooks, deliveries, one switched off")
    shots.append(screenshot(browser, "token-page-webhooks-desktop", DESKTOP))
    shots.append(screenshot(browser, "token-page-webhooks-phone", PHONE))
    browser.set_window_size(*PHONE)
    report.check(browser, "webhooks, deliveries, one switched off, phone width")
    browser.set_window_size(*DESKTOP)
