"""
Hostile input never breaks the SCIM service: every answer is SCIM JSON, a success or a SCIM ``Error``, never a 5xx.

The same hostility as the rest of the API's (``test_hostile_input.py``): random bodies for a create,
a replace and a patch, random filters, pages and attribute lists, random paths, methods, bytes and
media types, lone surrogates and deep nesting; a refused request writes nothing.
"""

import json
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tahoe_registration_api.models import ScimIdentity
from tests.hostile import written
from tests.scim import MEDIA_TYPE, PATCH_OP, SCIM, USERS, bearer, okta_user, scim, user_url
from tests.test_hostile_input import hostile_text, hostile_value

HYPOTHESIS = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
ATTRIBUTES = ["userName", "emails", "name", "displayName", "active", "externalId", "password", "schemas", "id",
              "meta", "groups", "USERNAME", "Emails"]
ERROR_KEYS = {"schemas", "status", "detail", "scimType"}

emails = st.lists(st.fixed_dictionaries({}, optional={
    "value": st.sampled_from(["a@example.com", "A@EXAMPLE.COM", "b@example.com", "not an email"]) | hostile_value,
    "type": st.sampled_from(["work", "home"]) | hostile_value,
    "primary": st.booleans() | hostile_value,
}), max_size=3) | hostile_value
user_bodies = st.one_of(
    st.fixed_dictionaries({"userName": st.sampled_from(["ada", "Ada", "bo@example.com"]) | hostile_text,
                           "emails": emails}, optional={
        "name": st.fixed_dictionaries({}, optional={"givenName": hostile_value, "formatted": hostile_value})
        | hostile_value,
        "active": st.sampled_from([True, False, "False", "TRUE"]) | hostile_value,
        "externalId": hostile_value, "password": st.sampled_from(["Str0ng-enough-pw", "a"]) | hostile_value,
        "displayName": hostile_value, "schemas": hostile_value,
    }),
    st.dictionaries(st.sampled_from(ATTRIBUTES) | hostile_text, hostile_value, max_size=6),
    hostile_value,
)
paths = st.sampled_from(["active", "userName", "name", "name.givenName", "emails", 'emails[type eq "work"].value',
                         'emails[value eq "a@example.com"]', "externalId", "displayName", "nickName",
                         "urn:ietf:params:scim:schemas:core:2.0:User:userName", "emails[type eq]", "name[x]",
                         "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"]) | hostile_text
operations = st.fixed_dictionaries({"op": st.sampled_from(["add", "Replace", "remove", "move"]) | hostile_value},
                                   optional={"path": paths | hostile_value, "value": hostile_value
                                             | st.dictionaries(paths, hostile_value, max_size=3)})
patch_bodies = st.one_of(
    st.fixed_dictionaries({"schemas": st.just([PATCH_OP]), "Operations": st.lists(operations, max_size=4)}),
    st.dictionaries(st.sampled_from(["schemas", "Operations", "operations"]) | hostile_text, hostile_value,
                    max_size=3),
    hostile_value,
)


@pytest.fixture(name="provider")
def fixture_provider(alpha_admin, settings):  # pylint: disable=redefined-outer-name
    """Alpha's identity provider, its rate limit off (hundreds of examples per test)."""
    settings.TAHOE_REGISTRATION_API_SCIM_RATE = None
    return bearer(alpha_admin)


@pytest.fixture(name="ada")
def fixture_ada(alpha, provider):
    """A User of alpha, created through SCIM."""
    response = scim(provider, alpha, "POST", USERS, okta_user("ada@okta.local"))
    assert response.status_code == 201
    return response.json()


def state():
    """Everything a SCIM request can write: the platform's rows and the providers' records."""
    return {**written(), "scim": sorted(ScimIdentity.objects.values_list(
        "user_id", "user_name", "user_name_key", "external_id", "attributes", "deprovisioned"))}


def assert_scim_answer(response, before, succeeded):
    """Assert a SCIM answer: never a 5xx, always SCIM JSON; an error is a SCIM ``Error`` and wrote nothing."""
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if response.status_code == 204:
        return None
    assert response["Content-Type"] == MEDIA_TYPE, response["Content-Type"]
    body = response.json()
    if response.status_code in succeeded:
        return body
    assert 400 <= response.status_code < 500, response.status_code
    assert set(body) <= ERROR_KEYS and body["status"] == str(response.status_code) and body["detail"], body
    assert state() == before
    return body


@HYPOTHESIS
@given(body=user_bodies)
def test_any_create(alpha, provider, body):
    before = state()
    answer = assert_scim_answer(scim(provider, alpha, "POST", USERS, json.dumps(body)), before, succeeded=(201,))
    if answer.get("id") and "status" not in answer:
        assert answer["userName"] and answer["emails"]


@HYPOTHESIS
@given(body=user_bodies)
def test_any_replace(alpha, provider, ada, body):
    before = state()
    response = scim(provider, alpha, "PUT", user_url(ada["id"]), json.dumps(body))
    answer = assert_scim_answer(response, before, succeeded=(200,))
    assert response.status_code in (200, 400, 409), response.status_code
    if response.status_code == 200:
        assert answer["id"] == ada["id"]


@HYPOTHESIS
@given(body=patch_bodies)
def test_any_patch(alpha, provider, ada, body):
    before = state()
    response = scim(provider, alpha, "PATCH", user_url(ada["id"]), json.dumps(body))
    answer = assert_scim_answer(response, before, succeeded=(200,))
    assert response.status_code in (200, 400, 409), response.status_code
    if response.status_code == 200:
        assert answer["id"] == ada["id"] and answer["emails"]


query_values = st.one_of(
    st.binary(max_size=30),
    st.sampled_from([b'userName eq "ada@okta.local"', b'emails[type eq "work"].value eq "x"', b"active eq true",
                     b"1", b"-5", b"0", b"1e9999", b"9" * 400, b"userName,emails.value", b"meta",
                     b'userName eq "a" or (externalId pr)', b'externalId sw "00u"', b"\xed\xa0\x80"]),
)


@HYPOTHESIS
@given(params=st.lists(st.tuples(st.sampled_from(["filter", "startIndex", "count", "attributes",
                                                  "excludedAttributes"]) | st.text(max_size=5), query_values),
                       max_size=4))
def test_any_query_on_the_users(alpha, provider, ada, params):
    query = "&".join(f"{quote(name, safe='')}={quote_from_bytes(value, safe='')}" for name, value in params)
    before = state()
    response = scim(provider, alpha, "GET", USERS, QUERY_STRING=query)
    answer = assert_scim_answer(response, before, succeeded=(200,))
    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 200:
        assert answer["totalResults"] >= len(answer["Resources"])


@HYPOTHESIS
@given(body=hostile_value | st.dictionaries(st.sampled_from(["filter", "startIndex", "count", "attributes",
                                                             "schemas"]), hostile_value, max_size=4))
def test_any_search(alpha, provider, ada, body):
    before = state()
    response = scim(provider, alpha, "POST", f"{SCIM}.search", json.dumps(body))
    assert_scim_answer(response, before, succeeded=(200,))
    assert response.status_code in (200, 400), response.status_code


@HYPOTHESIS
@given(segment=st.text(min_size=1, max_size=40) | st.integers().map(str) | st.binary(min_size=1, max_size=20),
       method=st.sampled_from(["GET", "PUT", "PATCH", "DELETE", "POST"]),
       under=st.sampled_from(["", "Users/", "ResourceTypes/", "Schemas/"]))
def test_any_path(alpha, provider, ada, segment, method, under):
    path = f"{SCIM}{under}" + (quote_from_bytes(segment, safe="") if isinstance(segment, bytes)
                               else quote(segment, safe=""))
    before = state()
    response = scim(provider, alpha, method, path, json.dumps({"Operations": []}))
    assert_scim_answer(response, before, succeeded=(200, 201))
    assert response.status_code in (200, 201, 400, 404, 405, 409), response.status_code


@HYPOTHESIS
@given(payload=st.binary(max_size=300),
       content_type=st.sampled_from([MEDIA_TYPE, "application/json", "text/plain", "application/xml", "",
                                     "application/scim+json; charset=latin-1", "application/x-www-form-urlencoded"]),
       method=st.sampled_from(["POST", "PUT", "PATCH"]))
def test_any_bytes_and_media_types(alpha, provider, ada, payload, content_type, method):
    path = USERS if method == "POST" else user_url(ada["id"])
    before = state()
    response = scim(provider, alpha, method, path, payload, content_type=content_type)
    assert_scim_answer(response, before, succeeded=(200, 201))
    assert response.status_code in (200, 201, 400, 409, 415), response.status_code


@pytest.mark.parametrize("body", [
    '{"userName": "\\ud800", "emails": [{"value": "a@example.com"}]}',
    '{"userName": "ada2", "emails": [{"value": "a@example.com"}], "x": ' + "[" * 40 + "]" * 40 + "}",
])
def test_a_lone_surrogate_or_deep_nesting_is_a_400_invalid_syntax(alpha, provider, body):
    before = state()
    response = scim(provider, alpha, "POST", USERS, body)
    answer = assert_scim_answer(response, before, succeeded=())
    assert (response.status_code, answer["scimType"]) == (400, "invalidSyntax")


def test_an_oversized_body_is_a_scim_413(alpha, provider):
    before = state()
    body = json.dumps(okta_user(displayName="x" * 20000))
    response = scim(provider, alpha, "POST", USERS, body)
    assert_scim_answer(response, before, succeeded=())
    assert response.status_code == 413
