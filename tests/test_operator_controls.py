"""Operators' controls: the global switch, the per-site override, identity-provider sites, rate limits."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site as DjangoSite

from devlms.models import SiteConfiguration
from tests.conftest import Caller, learner_body, make_user
from tests.rows import row_counts


def configure(site, enabled=True, **values):
    SiteConfiguration.objects.update_or_create(site=site.site, defaults={"enabled": enabled, "site_values": values})


def assert_disabled(response):
    assert response.status_code == 403
    assert response.json()["error_code"] == "registration-api-disabled"


def test_the_global_switch_off_answers_a_clear_403(alpha, alpha_admin, settings):
    settings.TAHOE_REGISTRATION_API_ENABLED = False
    before = row_counts()
    assert_disabled(alpha_admin.register(alpha, learner_body()))
    assert row_counts() == before


@pytest.mark.parametrize("value", [True, "true", "True"])
def test_a_site_can_switch_it_on_when_the_global_switch_is_off(alpha, beta, alpha_admin, beta_admin, settings, value):
    settings.TAHOE_REGISTRATION_API_ENABLED = False
    configure(alpha, TAHOE_REGISTRATION_API_ENABLED=value)
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    assert_disabled(beta_admin.register(beta, learner_body(username="other", email="other@example.com")))


@pytest.mark.parametrize("value", [False, "false"])
def test_a_site_can_switch_it_off_when_the_global_switch_is_on(alpha, beta, alpha_admin, beta_admin, value):
    configure(alpha, TAHOE_REGISTRATION_API_ENABLED=value)
    assert_disabled(alpha_admin.register(alpha, learner_body()))
    assert beta_admin.register(beta, learner_body()).status_code == 200


def test_a_disabled_site_configuration_is_ignored(alpha, alpha_admin):
    configure(alpha, enabled=False, TAHOE_REGISTRATION_API_ENABLED=False)
    assert alpha_admin.register(alpha, learner_body()).status_code == 200


def test_identity_provider_sites_are_off_when_the_operator_says_so(alpha, beta, alpha_admin, beta_admin, settings):
    configure(alpha, ENABLE_TAHOE_IDP=True)
    assert alpha_admin.register(alpha, learner_body()).status_code == 200  # not asked yet
    settings.TAHOE_REGISTRATION_API_DISABLE_FOR_IDP_SITES = True
    assert_disabled(alpha_admin.register(alpha, learner_body(username="second", email="second@example.com")))
    assert beta_admin.register(beta, learner_body(username="third", email="third@example.com")).status_code == 200


@pytest.mark.parametrize("top_level", [False, True])
def test_platform_wide_identity_provider_switches_every_site_off(alpha, alpha_admin, settings, top_level):
    settings.TAHOE_REGISTRATION_API_DISABLE_FOR_IDP_SITES = True
    if top_level:  # Ulmo and later flatten FEATURES into top-level settings
        settings.ENABLE_TAHOE_IDP = True
    else:
        settings.FEATURES = {**settings.FEATURES, "ENABLE_TAHOE_IDP": True}
    assert_disabled(alpha_admin.register(alpha, learner_body()))


def test_the_main_site_is_no_tahoe_site(alpha, alpha_admin):  # pylint: disable=unused-argument
    main = DjangoSite.objects.get(pk=1)
    response = alpha_admin.register(main.domain, learner_body())
    assert response.status_code == 403
    assert response.json()["error_code"] == "site-not-found"


def rate_headers(response):
    return {name: response[name] for name in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")}


def test_rate_limit_headers_on_every_answer_and_429_over_the_limit(alpha, alpha_admin, settings):
    settings.TAHOE_REGISTRATION_API_RATE = "3/m"
    answers = [
        alpha_admin.register(alpha, learner_body(username=f"u{i}", email=f"u{i}@example.com")) for i in range(2)
    ] + [alpha_admin.register(alpha, {})]  # a 400 counts too
    assert [answer.status_code for answer in answers] == [200, 200, 400]
    assert [rate_headers(answer)["RateLimit-Remaining"] for answer in answers] == ["2", "1", "0"]
    assert {rate_headers(answer)["RateLimit-Limit"] for answer in answers} == {"3"}
    over = alpha_admin.register(alpha, learner_body(username="u9", email="u9@example.com"))
    assert over.status_code == 429
    assert over.json()["error_code"] == "rate-limited"
    assert 1 <= int(over["Retry-After"]) <= 60
    assert rate_headers(over)["RateLimit-Remaining"] == "0"
    assert not get_user_model().objects.filter(username="u9").exists()


def test_rates_are_per_caller(alpha, alpha_admin, settings):
    settings.TAHOE_REGISTRATION_API_RATE = "1/m"
    second_admin = Caller(make_user("alpha_admin2", alpha, is_admin=True))
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    assert alpha_admin.register(alpha, learner_body(username="b", email="b@example.com")).status_code == 429
    assert second_admin.register(alpha, learner_body(username="c1", email="c@example.com")).status_code == 200


def test_rates_are_per_site_not_per_ip(alpha, beta, settings):
    settings.TAHOE_REGISTRATION_API_RATE = "1/m"
    settings.TAHOE_REGISTRATION_API_ALLOW_STAFF = True
    staff = Caller(make_user("staffer", is_staff=True))
    assert staff.register(alpha, learner_body()).status_code == 200
    assert staff.register(alpha, learner_body(username="b1", email="b@example.com")).status_code == 429
    assert staff.register(beta, learner_body(username="b2", email="b2@example.com")).status_code == 200


def test_refused_callers_are_counted_too(alpha, alpha_learner, settings):
    settings.TAHOE_REGISTRATION_API_RATE = "2/m"
    assert [alpha_learner.register(alpha, learner_body()).status_code for _ in range(3)] == [403, 403, 429]


def test_no_rate_limit_when_switched_off(alpha, alpha_admin, settings):
    settings.TAHOE_REGISTRATION_API_RATE = None
    response = alpha_admin.register(alpha, learner_body())
    assert response.status_code == 200
    assert not response.has_header("RateLimit-Limit")
