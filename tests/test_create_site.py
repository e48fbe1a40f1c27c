"""tahoe_create_site: creates a Tahoe site and its admin, idempotently, all or nothing."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site as DjangoSite
from django.core.management import CommandError, call_command
from organizations.models import Organization
from tahoe_sites.api import get_organization_by_site, is_active_admin_on_organization
from tahoe_sites.models import TahoeSite, UserOrganizationMapping

from tests.conftest import Caller, make_user


def create_site(*args):
    out = StringIO()
    call_command("tahoe_create_site", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def rows():
    """Every row the command may write, as comparable tuples."""
    return (
        sorted(DjangoSite.objects.values_list("domain", "name")),
        sorted(Organization.objects.values_list("short_name", "name")),
        sorted(TahoeSite.objects.values_list("site__domain", "organization__short_name")),
        sorted(UserOrganizationMapping.objects.values_list("user__username", "organization__short_name", "is_admin")),
    )


@pytest.mark.django_db
def test_it_creates_the_site_the_organization_their_link_and_the_admin():
    admin = make_user("gamma_admin")
    out = create_site("Gamma.Example.com", "gamma", "--admin", "gamma_admin", "--name", "Gamma College")
    site = DjangoSite.objects.get(domain="gamma.example.com")
    organization = get_organization_by_site(site)
    assert (organization.short_name, organization.name) == ("gamma", "Gamma College")
    assert is_active_admin_on_organization(admin, organization)
    assert out.splitlines() == [
        "Created the site gamma.example.com.",
        "Created the organization gamma.",
        "Linked gamma.example.com to the organization gamma (a Tahoe site).",
        "Made gamma_admin an admin of gamma.",
    ]


@pytest.mark.django_db
def test_the_new_sites_admin_registers_a_learner_through_the_api():
    make_user("gamma_admin")
    create_site("gamma.example.com", "gamma", "--admin", "gamma_admin")
    caller = Caller(make_user("outsider"))  # a user of no site is refused; the new admin is not
    body = {"username": "learner1", "email": "learner1@example.com", "name": "Learner One"}
    assert caller.register("gamma.example.com", body).status_code == 403
    response = Caller(get_user_model().objects.get(username="gamma_admin")).register("gamma.example.com", body)
    assert response.status_code == 200, response.content
    learner = UserOrganizationMapping.objects.get(user__username="learner1")
    assert learner.organization.short_name == "gamma" and not learner.is_admin


@pytest.mark.django_db
def test_a_second_run_changes_nothing_and_says_so():
    make_user("gamma_admin")
    create_site("gamma.example.com", "gamma", "--admin", "gamma_admin", "--name", "Gamma College")
    before = rows()
    out = create_site("gamma.example.com", "gamma", "--admin", "gamma_admin", "--name", "Gamma College")
    assert rows() == before
    assert out == ("Nothing to change: gamma.example.com is already the Tahoe site of the organization gamma, "
                   "administered by gamma_admin.\n")


@pytest.mark.django_db
def test_it_completes_what_exists_and_promotes_a_member(alpha):
    """An existing Site and Organization are reused and linked; a member of the organization is promoted."""
    member = make_user("member", alpha)
    DjangoSite.objects.create(domain="delta.example.com", name="delta")
    Organization.objects.create(short_name="delta", name="Delta")
    make_user("delta_admin")
    out = create_site("delta.example.com", "delta", "--admin", "delta_admin", "--name", "Delta University")
    assert out.splitlines() == [
        "Renamed the organization delta to 'Delta University'.",
        "Linked delta.example.com to the organization delta (a Tahoe site).",
        "Made delta_admin an admin of delta.",
    ]
    out = create_site(alpha.domain, "alpha", "--admin", "member")
    assert out == "Made member, already a member, an admin of alpha.\n"
    assert is_active_admin_on_organization(member, alpha.organization)
    assert DjangoSite.objects.filter(domain="delta.example.com").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("args, message", [
    (("alpha.localhost", "gamma", "--admin", "gamma_admin"),
     "The domain alpha.localhost already belongs to the organization alpha, not gamma."),
    (("gamma.example.com", "alpha", "--admin", "gamma_admin"),
     "The organization alpha already has the site alpha.localhost, not gamma.example.com."),
    (("gamma.example.com", "gamma", "--admin", "beta_member"),
     "beta_member is a member of the organization beta; a user belongs to one organization only."),
    (("gamma.example.com", "gamma", "--admin", "nobody"),
     "No user has the username 'nobody': create the user first."),
    (("gamma.example.com", "gamma", "--admin", "sleeper"),
     "The user 'sleeper' is not active: an inactive admin cannot call the API."),
    (("gamma example.com", "gamma", "--admin", "gamma_admin"),
     "'gamma example.com' is not a valid domain (a host name, optionally with :port)."),
    (("https://gamma.example.com", "gamma", "--admin", "gamma_admin"), "is not a valid domain"),
    (("gamma.example.com", "gamma college", "--admin", "gamma_admin"),
     "'gamma college' is not a valid short name: use letters, digits, '.', '-' and '_' only."),
    (("gamma.example.com", "gamma", "--admin", "gamma_admin", "--name", " "),
     "The display name (--name) must not be empty."),
])
def test_a_conflict_or_a_bad_argument_is_a_clear_error_and_writes_nothing(alpha, beta, args, message):
    make_user("gamma_admin")
    make_user("beta_member", beta)
    make_user("sleeper", is_active=False)
    before = rows()
    with pytest.raises(CommandError) as error:
        create_site(*args)
    assert message in str(error.value)
    assert rows() == before
    assert Organization.objects.get(pk=alpha.organization.pk).short_name == "alpha"  # as stored, not the fixture


@pytest.mark.django_db
def test_a_failure_after_the_first_write_leaves_nothing(monkeypatch):
    """The command is one transaction: an error while linking undoes the new Site and Organization."""
    make_user("gamma_admin")
    before = rows()

    def broken_link(organization, site):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("tahoe_sites.api.create_tahoe_site_by_link", broken_link)
    with pytest.raises(RuntimeError):
        create_site("gamma.example.com", "gamma", "--admin", "gamma_admin")
    assert rows() == before


def test_the_admin_option_is_required():
    with pytest.raises(CommandError, match="--admin"):
        create_site("gamma.example.com", "gamma")
