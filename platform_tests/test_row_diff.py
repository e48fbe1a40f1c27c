"""
A row diff against the platform: the tables a registration through the plugin leaves rows in,
against those of the platform's own registration (``POST /api/user/v2/account/registration/``).

Every table of every installed model (auto-created many-to-many tables included, on every
database) is counted before and after each registration; a table "gets rows" when its count
grew. The two sets must differ by exactly ``DOCUMENTED_DIFFERENCES``: a new difference, a
difference that went away, or one that changed sides fails, naming every differing table.
"""

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connections
from django.test import Client
from openedx.core.djangoapps.lang_pref import LANGUAGE_KEY
from openedx.core.djangoapps.user_api.models import UserPreference
from tahoe_sites.models import UserOrganizationMapping

from conftest import PASSWORD, PLATFORM_REGISTRATION_URL, learner_body
from rows import row_counts

PLATFORM = "platform"
PLUGIN = "plugin"

# {table: (the only side that gets rows in it, why)}.
DOCUMENTED_DIFFERENCES = {
    "django_session": (
        PLATFORM,
        "The platform logs the new learner in: create_account_with_params calls django_login on the registering "
        "request (register.py) and the view sets the logged-in cookies. lms.envs.test keeps sessions in the database "
        "(production.py: in the cache, so there it is a cache entry). The plugin never logs the learner in, and its "
        "view gives the LMS's request back the user the middleware found, so a token caller leaves no session.",
    ),
    "tahoe_sites_userorganizationmapping": (
        PLUGIN,
        "The plugin makes the learner a member (is_admin false) of the site's organization, with tahoe-sites' "
        "add_user_to_organization in the registration's transaction (api._create_account). The upstream "
        "platform's registration knows nothing of tahoe-sites: its learner belongs to no organization.",
    ),
    "tahoe_registration_api_outboxmessage": (
        PLUGIN,
        "The plugin owes the learner's email and the webhooks' learner.registered event to its outbox in the "
        "registration's own transaction (outbox.owe, one INSERT): each message (ids, the email's kind or the "
        "event's type, never an address or link) is claimed, sent and marked by the outbox's Celery task. The "
        "platform queues its activation email from its view, with no record of it.",
    ),
    "tahoe_registration_api_auditentry": (
        PLUGIN,
        "The plugin keeps every API call in its audit store (audit.store, ADR 0012) beside the audit log record, "
        "for the site's admins to see on the token page: the caller's, site's and learner's ids, never an email, "
        "name or password. The platform's registration keeps no such record.",
    ),
}

PLUGIN_FLOWS = {
    "password and activation email": {"password": PASSWORD},
    "password, no email": {"password": PASSWORD, "send_activation_email": False},
    "passwordless (reset email)": {},
}

# Rows every registration leaves, on both sides: what the comparison of counts must at least cover.
EXPECTED_SHARED = {"auth_user", "auth_userprofile", "auth_registration", "student_userattribute",
                   "student_usersignupsource", "user_api_userpreference"}

every_database = pytest.mark.django_db(transaction=True, databases="__all__")


def rows_added_by(action):
    """Run ``action``; return ``(its result, {table: rows added})`` for every table that grew."""
    before = row_counts(connections, audit_store=True)
    result = action()
    after = row_counts(connections, audit_store=True)
    return result, {table: rows - before[table] for table, rows in after.items() if rows > before[table]}


def register_through_the_platform(site, client=None):
    """POST the platform's own sign-up form for one learner on ``site``, as its registration page does."""
    # lms.envs.test limits this view to 5 registrations a minute per IP, counted in the default cache, which
    # each test empties first (conftest ``_fresh_start``); a test registers one learner here. (The limit is
    # read when the view's module is imported, so override_settings could not raise it anyway.)
    client = client or Client()
    response = client.post(PLATFORM_REGISTRATION_URL, data={
        "username": "pat_platform",
        "email": "pat.platform@example.com",
        "name": "Pat Platform",
        "password": PASSWORD,
        "terms_of_service": "true",
        "honor_code": "true",
    }, HTTP_HOST=site.domain)
    assert response.status_code == 200, response.content
    return get_user_model().objects.get(username="pat_platform")


def register_through_the_plugin(admin, site, flow):
    """Register one learner on ``site`` through the plugin, with one of ``PLUGIN_FLOWS``."""
    response = admin.register(site, learner_body(**PLUGIN_FLOWS[flow]))
    assert response.status_code == 200, response.content
    return get_user_model().objects.get(pk=response.json()["user_id"])


def both_registrations(alpha, alpha_admin, flow):
    """``{side: (learner, {table: rows added})}`` for one learner registered on alpha each way."""
    return {
        PLATFORM: rows_added_by(lambda: register_through_the_platform(alpha)),
        PLUGIN: rows_added_by(lambda: register_through_the_plugin(alpha_admin, alpha, flow)),
    }


def sides_of_differences(tables):
    """``{table: the only side with rows in it}`` for the tables one side got and the other did not."""
    platform, plugin = tables[PLATFORM].keys(), tables[PLUGIN].keys()
    return {**{table: PLATFORM for table in platform - plugin}, **{table: PLUGIN for table in plugin - platform}}


def difference_report(found, documented):
    """Every differing table and the side that got it, marked where it departs from the documentation."""
    lines = []
    for table in sorted(found.keys() | documented.keys()):
        if table not in found:
            lines.append(f"  {table}: documented as {documented[table]} only, but both sides (or neither) get rows")
        elif table not in documented:
            lines.append(f"  {table}: only the {found[table]} gets rows  <-- NOT DOCUMENTED")
        elif found[table] != documented[table]:
            lines.append(f"  {table}: only the {found[table]} gets rows  <-- documented as {documented[table]} only")
        else:
            lines.append(f"  {table}: only the {found[table]} gets rows (documented)")
    return "The tables of a registration differ from DOCUMENTED_DIFFERENCES:\n" + "\n".join(lines)


@every_database
@pytest.mark.parametrize("flow", PLUGIN_FLOWS)
def test_the_plugin_and_the_platform_write_the_same_tables_but_the_documented_ones(alpha, alpha_admin, flow):
    """Platform's tables symmetric-difference the plugin's is exactly DOCUMENTED_DIFFERENCES, each on its side."""
    registrations = both_registrations(alpha, alpha_admin, flow)

    found = sides_of_differences({side: tables for side, (_, tables) in registrations.items()})
    documented = {table: side for table, (side, _) in DOCUMENTED_DIFFERENCES.items()}
    # A learner the caller vouches for is owed no email, but the webhooks' event is written all the same.
    assert found == documented, difference_report(found, documented)


@every_database
@pytest.mark.parametrize("flow", PLUGIN_FLOWS)
def test_each_learner_has_as_many_rows_in_each_table_both_write(alpha, alpha_admin, flow):
    """In every table both registrations write, the plugin's learner got as many rows as the platform's."""
    registrations = both_registrations(alpha, alpha_admin, flow)
    platform, plugin = registrations[PLATFORM][1], registrations[PLUGIN][1]

    shared = platform.keys() & plugin.keys()
    assert EXPECTED_SHARED <= shared
    assert {table: plugin[table] for table in shared} == {table: platform[table] for table in shared}


@every_database
def test_each_documented_difference_is_what_its_reason_says(alpha, alpha_admin):
    """The session is the platform learner's login; the membership the plugin's; both learners get pref-lang."""
    browser = Client()
    platform_learner = register_through_the_platform(alpha, browser)
    plugin_learner = register_through_the_plugin(alpha_admin, alpha, "password and activation email")

    (session,) = Session.objects.all()
    assert session.get_decoded()["_auth_user_id"] == str(platform_learner.pk)
    assert session.session_key in browser.cookies[settings.SESSION_COOKIE_NAME].value  # safe-sessions wraps the key

    assert sorted(UserPreference.objects.values_list("user", "key", "value")) == [
        (platform_learner.pk, LANGUAGE_KEY, settings.LANGUAGE_CODE),
        (plugin_learner.pk, LANGUAGE_KEY, settings.LANGUAGE_CODE),
    ]

    assert list(UserOrganizationMapping.objects.filter(user__in=[platform_learner, plugin_learner]).values_list(
        "user", "organization", "is_admin")) == [(plugin_learner.pk, alpha.organization.pk, False)]
