"""No session is left behind by a call with stateless credentials; a session caller keeps its own."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.test import override_settings

from conftest import PASSWORD, Caller, learner_body, make_user
from credentials import bearer_authorization, jwt_authorization

ANSWERS = {
    200: learner_body(),
    400: learner_body(email="not-an-email"),
    409: learner_body(username="alpha_admin"),
}


def session_keys_in_cache():
    """The session keys the cache session backend stored (production keeps sessions in the cache)."""
    cache = caches[settings.SESSION_CACHE_ALIAS]
    return [key for key in cache._cache if "django.contrib.sessions" in key]  # pylint: disable=protected-access


def assert_no_session_left(response):
    """The answer sets no LMS session cookie, and no session was stored."""
    assert settings.SESSION_COOKIE_NAME not in response.cookies, response.cookies
    assert Session.objects.count() == 0
    assert session_keys_in_cache() == []


@pytest.mark.parametrize("status", sorted(ANSWERS))
def test_a_token_call_leaves_no_session(alpha, alpha_admin, status):
    """``Authorization: Token``: no session cookie and no session row, whatever the answer."""
    response = alpha_admin.register(alpha, ANSWERS[status])
    assert response.status_code == status, response.content
    assert_no_session_left(response)
    assert response.cookies == {} or set(response.cookies) <= {"csrftoken"}, response.cookies


@pytest.mark.parametrize("authorization", [jwt_authorization, bearer_authorization])
def test_a_jwt_or_bearer_call_leaves_no_session(alpha, authorization):
    """``Authorization: JWT`` and ``Bearer`` leave no session either."""
    admin = make_user("alpha_admin", alpha, is_admin=True)
    response = Caller(admin, authorization=authorization(admin)).register(alpha, learner_body())
    assert response.status_code == 200, response.content
    assert_no_session_left(response)


@override_settings(SESSION_ENGINE="django.contrib.sessions.backends.cache")
def test_with_sessions_in_the_cache_as_in_production_no_session_is_cached(alpha, alpha_admin):
    """With ``lms.envs.production``'s session engine, no session lands in the cache."""
    for body in ANSWERS.values():
        response = alpha_admin.register(alpha, body)
        assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert session_keys_in_cache() == []


def test_a_session_caller_keeps_its_session_and_stays_who_it_is(alpha):
    """A signed-in admin (CSRF token sent) registers a learner and is still signed in as itself."""
    admin = make_user("alpha_admin", alpha, is_admin=True)
    caller = Caller(authorization="", enforce_csrf_checks=True)
    assert caller.client.login(username="alpha_admin", password=PASSWORD)
    session_key = caller.client.session.session_key
    caller.request("GET", alpha, path="/login")  # the LMS hands out its CSRF cookie
    csrf = caller.client.cookies[settings.CSRF_COOKIE_NAME].value

    response = caller.register(alpha, learner_body(), HTTP_X_CSRFTOKEN=csrf)

    assert response.status_code == 200, response.content
    session = caller.client.session
    assert session.session_key == session_key
    assert int(session["_auth_user_id"]) == admin.id
    assert Session.objects.count() == 1


def test_a_session_caller_without_the_csrf_token_is_refused(alpha):
    """A session call without its CSRF token is a 403 and creates nothing."""
    make_user("alpha_admin", alpha, is_admin=True)
    caller = Caller(authorization="", enforce_csrf_checks=True)
    assert caller.client.login(username="alpha_admin", password=PASSWORD)

    response = caller.register(alpha, learner_body())

    assert response.status_code == 403
    assert response.json()["error_code"] == "permission-denied"
    assert not get_user_model().objects.filter(username="auserton").exists()
