"""No wasted password hashing: once with a password, never without one."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher

from tests.conftest import learner_body

HASHES = []


class CountingHasher(MD5PasswordHasher):
    """A fast hasher that counts how often a password is hashed, and in which thread."""

    def encode(self, password, salt):
        HASHES.append(threading.current_thread().name)
        return super().encode(password, salt)


@pytest.fixture(autouse=True)
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = ["tests.test_password_hashing.CountingHasher"]
    HASHES.clear()


@pytest.mark.parametrize("send_activation_email", [True, False])
def test_a_registration_with_a_password_hashes_exactly_once(alpha, alpha_admin, send_activation_email):
    HASHES.clear()
    body = learner_body(password="Str0ng-enough-pw", send_activation_email=send_activation_email)
    assert alpha_admin.register(alpha, body).status_code == 200
    assert len(HASHES) == 1


def test_a_registration_without_a_password_never_hashes(alpha, alpha_admin):
    HASHES.clear()
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    assert not HASHES


@pytest.mark.parametrize("body", [learner_body(email="bad", password="Str0ng-enough-pw"), learner_body(name="<x>")])
def test_a_refused_registration_never_hashes(alpha, alpha_admin, body):
    HASHES.clear()
    assert alpha_admin.register(alpha, body).status_code == 400
    assert not HASHES


def test_the_hash_runs_in_a_thread_beside_the_registration_and_is_the_one_stored(alpha, alpha_admin):
    HASHES.clear()
    body = learner_body(password="Str0ng-enough-pw")
    assert alpha_admin.register(alpha, body).status_code == 200
    assert len(HASHES) == 1 and HASHES[0].startswith("tahoe-password-hash")
    learner = get_user_model().objects.get(username=body["username"])
    assert learner.password.startswith("md5$") and learner.check_password("Str0ng-enough-pw")


def test_a_password_the_policy_refuses_with_the_learners_username_is_never_hashed(alpha, alpha_admin, settings):
    settings.AUTH_PASSWORD_VALIDATORS = [
        {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"}]
    HASHES.clear()
    body = learner_body(username="grace-hopper-1906", password="grace-hopper-1906")
    response = alpha_admin.register(alpha, body)
    assert response.status_code == 400 and set(response.json()["field_errors"]) == {"password"}
    assert not HASHES
