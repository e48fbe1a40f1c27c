"""Operator and development commands: tahoe_create_token, devlms_seed, the production settings hook."""

import os
import types
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from tahoe_sites.models import TahoeSite, UserOrganizationMapping

from tahoe_registration_api.settings import production
from tests.conftest import make_user


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_tahoe_create_token_creates_then_prints_the_same_token():
    user = make_user("integrator")
    first, created = run("tahoe_create_token", "integrator")
    second, again = run("tahoe_create_token", "integrator")
    assert first.strip() == second.strip() == Token.objects.get(user=user).key
    assert "Created" in created and again == ""


@pytest.mark.django_db
def test_tahoe_create_token_for_an_unknown_user_is_a_clear_error():
    with pytest.raises(CommandError, match="No user has the username 'nobody'"):
        run("tahoe_create_token", "nobody")


@pytest.mark.django_db
def test_devlms_seed_is_idempotent_and_prints_a_ready_curl_line():
    first, _ = run("devlms_seed")
    second, _ = run("devlms_seed")
    assert TahoeSite.objects.count() == 2
    assert UserOrganizationMapping.objects.filter(is_admin=True).count() == 2
    assert get_user_model().objects.count() == 2
    for domain, admin in (("alpha.localhost", "alpha_admin"), ("beta.localhost", "beta_admin")):
        token = Token.objects.get(user__username=admin).key
        assert f"-H 'Host: {domain}' -H 'Authorization: Token {token}'" in second
    assert first == second


@pytest.mark.django_db
def test_devlms_seed_prints_how_each_admin_signs_in_to_the_token_page(client):
    printed, _ = run("devlms_seed")
    for domain, admin in (("alpha.localhost", "alpha_admin"), ("beta.localhost", "beta_admin")):
        password = f"{admin.split('_')[0]}-dev-only-password"
        assert (f"sign in as {admin} with the development-only password {password} "
                f"at http://{domain}/tahoe/api/token/") in printed
        port = os.environ.get("PORT", "8000")
        assert f"--proxy-server=http://127.0.0.1:{port} --proxy-bypass-list='<-loopback>'" in printed
        response = client.post("/login", {"username": admin, "password": password, "next": "/tahoe/api/token/"},
                               HTTP_HOST=domain)
        assert response.status_code == 302 and response["Location"] == "/tahoe/api/token/"
        assert client.get("/tahoe/api/token/", HTTP_HOST=domain).status_code == 200
        client.logout()


def test_the_production_hook_reads_the_operators_values_from_env_tokens():
    settings = types.SimpleNamespace(
        INSTALLED_APPS=[], FEATURES={}, ENV_TOKENS={"TAHOE_REGISTRATION_API_ENABLED": True, "OTHER": 1}
    )
    production.plugin_settings(settings)
    assert settings.TAHOE_REGISTRATION_API_ENABLED is True
    assert settings.TAHOE_REGISTRATION_API_RATE == "60/m"
    assert "rest_framework.authtoken" in settings.INSTALLED_APPS
    assert settings.FEATURES == {"TAHOE_SITES_USE_ORGS_MODELS": False}
    assert not hasattr(settings, "OTHER")


def test_an_operators_own_value_wins_over_the_defaults():
    settings = types.SimpleNamespace(INSTALLED_APPS=["rest_framework.authtoken"],
                                     FEATURES={"TAHOE_SITES_USE_ORGS_MODELS": True},
                                     TAHOE_REGISTRATION_API_RATE="5/m")
    production.plugin_settings(settings)
    assert settings.TAHOE_REGISTRATION_API_RATE == "5/m"
    assert settings.INSTALLED_APPS == ["rest_framework.authtoken"]
    assert settings.FEATURES["TAHOE_SITES_USE_ORGS_MODELS"] is True
