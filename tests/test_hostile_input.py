"""Hostile input never breaks the endpoint: every answer is a JSON 4xx or a 200, never a 500."""

import json
import string

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tahoe_sites.models import UserOrganizationMapping

from tests.conftest import learner_body

ALLOWED = {200, 400, 409, 413, 415}
FIELDS = ["username", "email", "name", "password", "send_activation_email"]
HYPOTHESIS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

weird_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]), max_size=10),  # control, zero-width
    st.text(alphabet="аеорсхАВЕКМНОРСТХ" + string.ascii_letters, min_size=1, max_size=20),  # homoglyphs
    st.sampled_from(["", " ", "\u200b", "\x00", "a\u200bb", "Ａｌｅｘ", "ǅ", "ß", "İ", "\ud7ff", "true", "False"]),
    st.text(min_size=5000, max_size=6000),  # huge
)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | weird_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
bodies = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), json_value, max_size=7)


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    """Hundreds of examples per test: the rate limit is tested elsewhere."""
    settings.TAHOE_REGISTRATION_API_RATE = None


def post_raw(caller, site, payload, content_type):
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        return caller.client.generic("POST", "/tahoe/api/v1/registrations/", payload,
                                     content_type=content_type, HTTP_HOST=site.domain)


def assert_json_and_allowed(response):
    assert response.status_code in ALLOWED, (response.status_code, response.content[:300])
    body = response.json()
    if response.status_code == 200:
        assert set(body) == {"user_id"}
    else:
        assert body["error_code"] and isinstance(body["field_errors"], dict)


@HYPOTHESIS
@given(body=bodies)
def test_random_json_bodies(alpha, alpha_admin, body):
    assert_json_and_allowed(post_raw(alpha_admin, alpha, json.dumps(body), "application/json"))


@HYPOTHESIS
@given(username=weird_text, email=weird_text, name=weird_text, password=st.none() | weird_text)
def test_random_strings_in_every_field(alpha, alpha_admin, username, email, name, password):
    body = learner_body(username=username, email=email, name=name, password=password)
    assert_json_and_allowed(post_raw(alpha_admin, alpha, json.dumps(body), "application/json"))


CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data",
                 "application/xml", "", "application/json; charset=latin-1"]


@HYPOTHESIS
@given(payload=st.binary(max_size=300), content_type=st.sampled_from(CONTENT_TYPES))
def test_random_bytes_and_content_types(alpha, alpha_admin, payload, content_type):
    assert_json_and_allowed(post_raw(alpha_admin, alpha, payload, content_type))


@HYPOTHESIS
@given(local=st.text(alphabet=string.ascii_letters + string.digits + "._-", min_size=1, max_size=20),
       flips=st.lists(st.booleans(), min_size=1, max_size=40))
def test_emails_differing_only_in_case_never_both_register_on_one_site(alpha, alpha_admin, local, flips):
    assume(local[0] not in "._-" and local[-1] not in "._-" and ".." not in local)
    email = f"{local}@Example.com"
    variant = "".join(c.upper() if flip else c.lower() for c, flip in zip(email, flips + [False] * len(email)))
    assume(variant != email)
    users = get_user_model().objects
    first = post_raw(alpha_admin, alpha, json.dumps(learner_body(username=f"u{users.count()}a", email=email)),
                     "application/json")
    second = post_raw(alpha_admin, alpha, json.dumps(learner_body(username=f"u{users.count()}b", email=variant)),
                      "application/json")
    assert_json_and_allowed(first)
    assert second.status_code == 409 or first.status_code != 200
    members = UserOrganizationMapping.objects.filter(organization=alpha.organization, user__email__iexact=email)
    assert members.count() <= 1


@HYPOTHESIS
@given(username=st.text(alphabet=st.characters(categories=["L", "N", "M", "Pc", "Pd"]), min_size=2, max_size=30),
       unicode_allowed=st.booleans())
def test_unicode_usernames_with_and_without_the_platform_setting(alpha, alpha_admin, username, unicode_allowed):
    from django.conf import settings as django_settings
    from django.test import override_settings

    with override_settings(FEATURES={**django_settings.FEATURES, "ENABLE_UNICODE_USERNAME": unicode_allowed}):
        response = post_raw(alpha_admin, alpha, json.dumps(learner_body(
            username=username, email=f"x{get_user_model().objects.count()}@example.com")), "application/json")
    assert_json_and_allowed(response)
    if response.status_code == 200 and not unicode_allowed:
        assert username.isascii()


def test_an_empty_body(alpha, alpha_admin):
    response = post_raw(alpha_admin, alpha, b"", "application/json")
    assert response.status_code == 400
    assert set(response.json()["field_errors"]) == {"username", "email", "name"}
