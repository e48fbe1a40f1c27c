"""Site scoping through tahoe-sites: the Host decides, and one site's token never reaches another."""

import pytest
from django.contrib.auth import get_user_model
from tahoe_sites.models import UserOrganizationMapping

from tests.conftest import learner_body
from tests.rows import row_counts


def test_each_admin_registers_on_its_own_site(alpha, beta, alpha_admin, beta_admin):
    a = alpha_admin.register(alpha, learner_body(username="alearner", email="a@example.com"))
    b = beta_admin.register(beta, learner_body(username="blearner", email="b@example.com"))
    assert (a.status_code, b.status_code) == (200, 200)
    assert UserOrganizationMapping.objects.get(user_id=a.json()["user_id"]).organization == alpha.organization
    assert UserOrganizationMapping.objects.get(user_id=b.json()["user_id"]).organization == beta.organization


def test_a_token_of_site_a_cannot_create_users_on_site_b(alpha, beta, alpha_admin):  # pylint: disable=unused-argument
    before = row_counts()
    response = alpha_admin.register(beta, learner_body())
    assert response.status_code == 403
    assert response.json()["error_code"] == "not-site-admin"
    assert row_counts() == before


def test_a_token_of_site_a_cannot_probe_site_b(alpha, beta, alpha_admin, beta_admin):  # pylint: disable=unused-argument
    assert beta_admin.register(beta, learner_body()).status_code == 200
    taken = alpha_admin.register(beta, learner_body())
    free = alpha_admin.register(beta, learner_body(username="free", email="free@example.com"))
    assert taken.status_code == free.status_code == 403
    assert taken.json() == free.json()


def test_usernames_are_unique_platform_wide(alpha, beta, alpha_admin, beta_admin):
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    response = beta_admin.register(beta, learner_body(username="AUSERTON", email="someone.else@example.com"))
    assert response.status_code == 409
    assert list(response.json()["field_errors"]) == ["username"]


def test_upstream_refuses_an_email_used_on_another_site(alpha, beta, alpha_admin, beta_admin):
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    response = beta_admin.register(beta, learner_body(username="other"))
    assert response.status_code == 409
    assert list(response.json()["field_errors"]) == ["email"]


@pytest.mark.parametrize("flag_in_features", [True, False])
def test_with_tahoe_multi_tenant_emails_one_email_registers_on_each_site(
    alpha, beta, alpha_admin, beta_admin, settings, flag_in_features
):
    if flag_in_features:
        settings.FEATURES = {**settings.FEATURES, "APPSEMBLER_MULTI_TENANT_EMAILS": True}
    else:
        settings.APPSEMBLER_MULTI_TENANT_EMAILS = True
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    assert beta_admin.register(beta, learner_body(username="other")).status_code == 200
    again = alpha_admin.register(alpha, learner_body(username="third", email="ALEX.userton@example.com"))
    assert again.status_code == 409
    assert get_user_model().objects.filter(email__iexact="alex.userton@example.com").count() == 2


def test_an_admin_of_site_a_who_is_a_learner_elsewhere_does_not_exist(alpha, beta, alpha_admin):
    """tahoe-sites allows one organization per user: an admin of A is nobody on B."""
    assert UserOrganizationMapping.objects.filter(user=alpha_admin.user).count() == 1
    assert alpha_admin.register(beta, learner_body()).status_code == 403
