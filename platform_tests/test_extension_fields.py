"""
Inside the LMS: the site's own profile fields, from the operator's extension form.

``REGISTRATION_EXTENSION_FORM`` names ``profile_extension.forms.LearnerExtensionForm`` (a ModelForm
of a model linked to the user, with its migration: platform_tests/profile_extension); the
platform's own loader builds it, its rules validate, and its row is stored with the learner.
"""

import csv
import io
import json

import pytest
from common.djangoapps.student.models import UserProfile
from django.contrib.auth import get_user_model
from django.core.management import call_command
from openedx.core.djangoapps.user_authn.views import registration_form
from profile_extension.models import LearnerExtension
from tahoe_sites.models import UserOrganizationMapping

from tahoe_registration_api import edxapp

from conftest import PASSWORD, learner_body
from rows import row_counts

FORM = "profile_extension.forms.LearnerExtensionForm"
DRY_RUN = "/tahoe/api/v1/registrations/?dry_run=true"
BULK_URL = "/tahoe/api/v1/registrations/bulk/"
JOBS_URL = "/tahoe/api/v1/registration-jobs/"


@pytest.fixture(name="extension_form")
def fixture_extension_form(settings):
    """The LMS's REGISTRATION_EXTENSION_FORM names the suite's form."""
    settings.REGISTRATION_EXTENSION_FORM = FORM
    return FORM


def test_the_adapter_reads_the_form_s_fields_through_the_platform_s_loader(transactional_db, settings):
    # pylint: disable=unused-argument
    assert edxapp.extension_field_names() == ()
    settings.REGISTRATION_EXTENSION_FORM = FORM
    assert edxapp.extension_field_names() == ("company", "title", "department")


def test_a_registration_with_extension_fields_stores_the_form_s_row_with_the_learner(
        alpha, alpha_admin, extension_form):
    response = alpha_admin.register(alpha, learner_body(
        password=PASSWORD, company="Example Corp", title="Engineer", department="engineering", notes="ignored"))
    assert response.status_code == 200, response.content
    user = get_user_model().objects.get(pk=response.json()["user_id"])
    extension = LearnerExtension.objects.get(user=user)
    assert (extension.company, extension.title, extension.department) == ("Example Corp", "Engineer", "engineering")
    assert UserProfile.objects.get(user=user).name == "Alex Userton"
    assert UserOrganizationMapping.objects.filter(user=user, organization=alpha.organization).exists()


@pytest.mark.parametrize("fields, refused", [
    ({"company": "Example Corp", "department": "marketing"}, "department"),  # not one of the model's choices
    ({"title": "Engineer"}, "company"),  # the form requires it
    ({"company": "x" * 101}, "company"),  # longer than the model's column
])
def test_a_field_the_form_refuses_is_a_400_naming_it_and_nothing_is_written(
        alpha, alpha_admin, extension_form, fields, refused):
    before = row_counts()
    response = alpha_admin.register(alpha, learner_body(password=PASSWORD, **fields))
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error_code"] == "validation-error"
    assert list(body["field_errors"]) == [refused], body
    assert row_counts() == before  # every table of the LMS: no user, profile, membership or extension row


def test_a_dry_run_checks_the_form_too(alpha, alpha_admin, extension_form):
    before = row_counts()
    refused = alpha_admin.register(alpha, learner_body(department="marketing"), url=DRY_RUN)
    assert refused.status_code == 400
    assert set(refused.json()["field_errors"]) == {"company", "department"}
    checked = alpha_admin.register(alpha, learner_body(company="Example Corp"), url=DRY_RUN)
    assert (checked.status_code, checked.json()) == (200, {"dry_run": True})
    assert row_counts() == before


def test_bulk_learners_each_with_their_own_fields(alpha, alpha_admin, extension_form):
    response = alpha_admin.register(alpha, {"learners": [
        {"ref": "a", **learner_body(username="ada", email="ada@example.org", company="Analytical")},
        {"ref": "b", **learner_body(username="bob", email="bob@example.org", company="Bobco", department="hr")},
        {"ref": "c", **learner_body(username="cy", email="cy@example.org", company="Cyclone", title="Chief")},
    ]}, url=BULK_URL)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [result["status"] for result in results] == [200, 400, 200]
    assert list(results[1]["field_errors"]) == ["department"]
    assert LearnerExtension.objects.get(user__username="ada").company == "Analytical"
    assert (LearnerExtension.objects.get(user__username="cy").title) == "Chief"
    assert not get_user_model().objects.filter(username="bob").exists()


def test_a_csv_job_reads_the_form_s_columns(alpha, alpha_admin, extension_form):
    text = "username,email,name,company,department\nada,ada@example.org,Ada,Analytical,sales\n" \
           "bob,bob@example.org,Bob,Bobco,hr\n"
    response = alpha_admin.client.post(JOBS_URL, text.encode("utf-8"), content_type="text/csv",
                                       **alpha_admin.headers(alpha.domain, {}))
    assert response.status_code == 202, response.content
    results = alpha_admin.request("GET", alpha, f"{JOBS_URL}{response.json()['job_id']}/results/")
    rows = list(csv.DictReader(io.StringIO(b"".join(results.streaming_content).decode("utf-8"))))
    assert [(row["username"], row["status"], row["fields"]) for row in rows] == [
        ("ada", "200", ""), ("bob", "400", "department")]
    assert LearnerExtension.objects.get(user__username="ada").department == "sales"


def test_the_import_command_reads_the_form_s_columns(alpha, extension_form, tmp_path):
    path = tmp_path / "learners.csv"
    path.write_text("username,email,name,company,title\nada,ada@example.org,Ada,Analytical,Countess\n",
                    encoding="utf-8")
    call_command("tahoe_import_learners", "--site", alpha.domain, str(path), stdout=io.StringIO(),
                 stderr=io.StringIO())
    extension = LearnerExtension.objects.get(user__username="ada")
    assert (extension.company, extension.title) == ("Analytical", "Countess")


def test_a_form_without_a_model_keeps_its_values_in_the_profile_s_meta(alpha, alpha_admin, settings):
    settings.REGISTRATION_EXTENSION_FORM = "profile_extension.forms.PlainExtensionForm"
    assert alpha_admin.register(alpha, learner_body(password=PASSWORD)).status_code == 400  # company is required
    response = alpha_admin.register(alpha, learner_body(password=PASSWORD, company="Example Corp"))
    assert response.status_code == 200, response.content
    meta = json.loads(UserProfile.objects.get(user_id=response.json()["user_id"]).meta)
    assert meta == {"company": "Example Corp", "name": "Alex Userton", "password": ""}


def test_without_a_form_the_fields_are_ignored_as_ever(alpha, alpha_admin):
    response = alpha_admin.register(alpha, learner_body(company="Example Corp", department="marketing"))
    assert response.status_code == 200, response.content
    assert not LearnerExtension.objects.exists()


def test_profile_extension_form_counts_where_the_release_s_platform_reads_it(alpha, alpha_admin, settings):
    """Verawood's setting: its loader reads it (and has get_extended_profile_model); Teak's ignores it, as the API."""
    settings.PROFILE_EXTENSION_FORM = FORM
    verawood = hasattr(registration_form, "get_extended_profile_model")
    assert edxapp.extension_field_names() == (("company", "title", "department") if verawood else ())
    response = alpha_admin.register(alpha, learner_body(department="marketing"))
    assert response.status_code == (400 if verawood else 200), response.content
    assert not LearnerExtension.objects.exists()
