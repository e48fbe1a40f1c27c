"""
Hostile input never breaks the webhooks' endpoints: every answer is JSON, a success or the error object, never a 5xx.

The same hostility as the rest of the API's (``test_hostile_input.py``): random bodies, random
URLs and event lists, random paths, methods, query parameters, bytes and media types, lone
surrogates, deep nesting and an oversized body; a refused request writes nothing.
"""

import json
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tahoe_registration_api.models import WebhookEndpoint
from tahoe_registration_api.webhooks.events import EVENT_TYPES
from tests.hostile import assert_json_answer, assert_refused, send, written
from tests.test_hostile_input import hostile_text, hostile_value

HYPOTHESIS = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
WEBHOOKS = "/tahoe/api/v1/webhooks/"
PUBLIC_URL = "https://93.184.215.14/hooks"
LONE_SURROGATE = "\\ud800"

urls = st.sampled_from([PUBLIC_URL, "http://93.184.215.14/", "https://127.0.0.1/", "https://[::1]/x",
                        "https://169.254.169.254/", "javascript:alert(1)", "https://93.184.215.14:0/",
                        "https://xn--nxasmq6b.example.invalid/", "//93.184.215.14/x", "https://93.184.215.14/%00",
                        "HTTPS://93.184.215.14/X"]) | hostile_text | hostile_value
event_lists = st.lists(st.sampled_from(EVENT_TYPES) | hostile_text, max_size=9) | hostile_value
bodies = st.one_of(
    st.fixed_dictionaries({"url": urls, "events": event_lists}, optional={"secret": hostile_value,
                                                                          "enabled": hostile_value}),
    st.dictionaries(st.sampled_from(["url", "events", "URL", "id"]) | hostile_text, hostile_value, max_size=4),
    hostile_value,
)


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):  # pylint: disable=redefined-outer-name
    """Many calls per test: the rate limits are tested elsewhere."""
    settings.TAHOE_REGISTRATION_API_RATE = None


@pytest.fixture(name="hook")
def fixture_hook(alpha, alpha_admin):
    """A webhook of alpha."""
    response = send(alpha_admin, alpha, "POST", WEBHOOKS, json.dumps({"url": PUBLIC_URL,
                                                                      "events": ["learner.registered"]}))
    assert response.status_code == 201
    return response.json()


def state():
    """Everything a webhook request can write: the API's rows and the site's webhooks."""
    return {**written(), "webhooks": sorted(WebhookEndpoint.objects.values_list(
        "pk", "url", "events", "secret", "enabled", "previous_secret"))}


def assert_answer(response, before, succeeded):
    """Never a 5xx, always JSON; a refusal is the error object and wrote nothing."""
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if response.status_code == 204:
        return None
    body = assert_json_answer(response, before["written"], succeeded=succeeded)
    if response.status_code not in succeeded:
        assert state() == before["state"]
    return body


def snapshot():
    """What is written now (for ``assert_answer``)."""
    return {"written": written(), "state": state()}


@HYPOTHESIS
@given(body=bodies)
def test_any_webhook_body(alpha, alpha_admin, body):
    before = snapshot()
    response = send(alpha_admin, alpha, "POST", WEBHOOKS, json.dumps(body))
    answer = assert_answer(response, before, succeeded=(201,))
    assert response.status_code in (201, 400, 409), response.status_code
    if response.status_code == 201:
        assert answer["url"] == body["url"].strip() and set(answer["events"]) <= set(EVENT_TYPES)
    elif answer["error_code"] == "malformed-request":  # text that is no Unicode: named wherever it is
        assert answer["field_errors"]
    else:
        assert set(answer["field_errors"]) <= {"url", "events", "non_field_errors"} and answer["field_errors"]


@HYPOTHESIS
@given(segment=st.text(min_size=1, max_size=40) | st.integers().map(str) | st.binary(min_size=1, max_size=20),
       method=st.sampled_from(["GET", "PUT", "PATCH", "DELETE", "POST"]),
       under=st.sampled_from(["", "rotate/", "enable/", "deliveries/"]))
def test_any_path_and_method(alpha, alpha_admin, hook, segment, method, under):
    piece = quote_from_bytes(segment, safe="") if isinstance(segment, bytes) else quote(segment, safe="")
    before = snapshot()
    response = send(alpha_admin, alpha, method, f"{WEBHOOKS}{piece}/{under}", "{}")
    assert_answer(response, before, succeeded=(200, 201, 204))
    assert response.status_code in (200, 201, 204, 400, 404, 405, 409, 415), response.status_code


@HYPOTHESIS
@given(params=st.lists(st.tuples(st.sampled_from(["page", "page_size", "event", "x"]) | hostile_text,
                                 hostile_text | st.integers().map(str)), max_size=3),
       deliveries=st.booleans())
def test_any_query_of_a_list(alpha, alpha_admin, hook, params, deliveries):
    path = f"{WEBHOOKS}{hook['id']}/deliveries/" if deliveries else WEBHOOKS
    query = "&".join(f"{quote(key.encode('utf-8', 'surrogatepass'), safe='')}="
                     f"{quote(value.encode('utf-8', 'surrogatepass'), safe='')}" for key, value in params)
    before = snapshot()
    response = send(alpha_admin, alpha, "GET", f"{path}?{query}")
    body = assert_answer(response, before, succeeded=(200,))
    assert response.status_code in (200, 400, 404), response.status_code
    if response.status_code == 200:
        assert set(body) == {"count", "next", "previous", "results"}


@HYPOTHESIS
@given(payload=st.binary(max_size=300),
       content_type=st.sampled_from(["application/json", "text/plain", "application/xml", "",
                                     "application/json; charset=latin-1", "application/x-www-form-urlencoded",
                                     "multipart/form-data; boundary=x"]))
def test_any_bytes_and_media_types(alpha, alpha_admin, payload, content_type):
    before = snapshot()
    response = send(alpha_admin, alpha, "POST", WEBHOOKS, payload, content_type=content_type)
    assert_answer(response, before, succeeded=(201,))
    assert response.status_code in (201, 400, 409, 415), response.status_code


@pytest.mark.parametrize("body, field", [
    ('{"url": "https://93.184.215.14/%s", "events": ["learner.registered"]}' % LONE_SURROGATE, "url"),
    ('{"url": "%s", "events": ["learner.%s"]}' % (PUBLIC_URL, LONE_SURROGATE), "events[0]"),
    ('{"url": "%s", "events": %s}' % (PUBLIC_URL, "[" * 2000 + "]" * 2000), "non_field_errors"),
])
def test_a_lone_surrogate_or_deep_nesting_is_a_400_naming_it(alpha, alpha_admin, body, field):
    before = snapshot()
    response = send(alpha_admin, alpha, "POST", WEBHOOKS, body)
    assert_answer(response, before, succeeded=())
    assert_refused(response, 400, "malformed-request", field)


def test_an_oversized_body_is_a_413(alpha, alpha_admin):
    before = snapshot()
    body = json.dumps({"url": PUBLIC_URL, "events": ["learner.registered"], "pad": "x" * 20000})
    response = send(alpha_admin, alpha, "POST", WEBHOOKS, body)
    assert_answer(response, before, succeeded=())
    assert response.status_code == 413


def test_a_latin_1_body_is_a_400_and_text_plain_a_415(alpha, alpha_admin):
    before = snapshot()
    body = ('{"url": "%s", "events": ["learner.registered"], "note": "Zoë"}' % PUBLIC_URL).encode("latin-1")
    assert_refused(send(alpha_admin, alpha, "POST", WEBHOOKS, body), 400, "malformed-request")
    response = send(alpha_admin, alpha, "POST", WEBHOOKS, json.dumps({"url": PUBLIC_URL}), content_type="text/plain")
    assert response.status_code == 415 and response.json()["error_code"]
    assert snapshot() == before
