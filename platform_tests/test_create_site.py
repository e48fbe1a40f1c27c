"""Inside the LMS: ``tahoe_create_site`` makes a Tahoe site whose admin registers learners at once."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.core.management import CommandError, call_command
from organizations.models import Organization
from tahoe_sites.api import get_organization_by_site, is_active_admin_on_organization
from tahoe_sites.models import TahoeSite, UserOrganizationMapping

from conftest import Caller, learner_body, make_user


def manage(*args):
    """Run a management command of the LMS; return what it printed."""
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_site_made_by_the_command_lets_its_admin_register_a_learner():
    admin = make_user("gamma_admin")
    out = manage("tahoe_create_site", "gamma.localhost", "gamma", "--admin", "gamma_admin", "--name", "Gamma College")
    assert "Made gamma_admin an admin of gamma." in out
    organization = get_organization_by_site(Site.objects.get(domain="gamma.localhost"))
    assert (organization.short_name, organization.name) == ("gamma", "Gamma College")
    assert is_active_admin_on_organization(admin, organization)

    token = manage("tahoe_create_token", "gamma_admin").strip()
    caller = Caller(admin, authorization=f"Token {token}")
    response = caller.register("gamma.localhost", learner_body())
    assert response.status_code == 200, response.content
    learner = get_user_model().objects.get(pk=response.json()["user_id"])
    membership = UserOrganizationMapping.objects.get(user=learner)
    assert (membership.organization, membership.is_admin) == (organization, False)


def test_the_command_is_idempotent_and_refuses_a_taken_domain(alpha):
    make_user("gamma_admin")
    manage("tahoe_create_site", "gamma.localhost", "gamma", "--admin", "gamma_admin")
    counts = (Site.objects.count(), Organization.objects.count(), TahoeSite.objects.count(),
              UserOrganizationMapping.objects.count())
    again = manage("tahoe_create_site", "gamma.localhost", "gamma", "--admin", "gamma_admin")
    assert again.startswith("Nothing to change:")
    with pytest.raises(CommandError, match="already belongs to the organization alpha"):
        manage("tahoe_create_site", alpha.domain, "delta", "--admin", "gamma_admin")
    assert (Site.objects.count(), Organization.objects.count(), TahoeSite.objects.count(),
            UserOrganizationMapping.objects.count()) == counts
