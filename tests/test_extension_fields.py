"""
The site's own profile fields: the LMS's extension form's fields, through every way in.

The development LMS's example form (``devlms.forms.LearnerExtensionForm``: company required,
title, department of three, a head count) is named as the LMS's ``REGISTRATION_EXTENSION_FORM``
(or Verawood's ``PROFILE_EXTENSION_FORM``); without one, unknown fields are ignored as ever.
"""

import json

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.test import TestCase
from hypothesis import given
from hypothesis import strategies as st

from devlms import fake_platform
from devlms.models import LearnerExtension, LearnerProfile
from tahoe_registration_api import learner_input
from tahoe_registration_api.exceptions import InvalidRegistration
from tests.conftest import learner_body
from tests.hostile import BULK, JOBS, JSON_ENDPOINTS, assert_json_answer, assert_refused, send, written
from tests.rows import row_counts
from tests.test_bulk import post_bulk
from tests.test_hostile_input import (
    EVERY_ENDPOINT,
    as_read,
    csv_cells,
    holds_lone_surrogate,
    hostile_value,
    json_value,
)
from tests.test_import_command import run_import, write_csv
from tests.test_jobs import csv_of, post_csv, results_of

MODEL_FORM = "devlms.forms.LearnerExtensionForm"
PLAIN_FORM = "devlms.forms.PlainExtensionForm"
PASSWORD = "Str0ng-enough-pw"


@pytest.fixture
def extension_form(settings):
    """The LMS has the example extension form (a ModelForm), named by the setting of the releases up to Ulmo."""
    settings.REGISTRATION_EXTENSION_FORM = MODEL_FORM
    return MODEL_FORM


def extension_of(username):
    """The extension record of the learner ``username``."""
    return LearnerExtension.objects.get(user__username=username)


# The single call -----------------------------------------------------------------------------


def test_a_registration_stores_the_extension_fields_in_the_forms_model(alpha, alpha_admin, extension_form):
    response = alpha_admin.register(alpha, learner_body(
        company="Example Corp", title="Engineer", department="engineering", employees=12, unknown="ignored"))
    assert response.status_code == 200, response.content
    extension = extension_of("auserton")
    assert extension.user_id == response.json()["user_id"]
    assert (extension.company, extension.title, extension.department, extension.employees) == (
        "Example Corp", "Engineer", "engineering", 12)


def test_verawoods_setting_names_the_form_too(alpha, alpha_admin, settings):
    settings.PROFILE_EXTENSION_FORM = MODEL_FORM
    response = alpha_admin.register(alpha, learner_body(company="Example Corp"))
    assert response.status_code == 200, response.content
    assert extension_of("auserton").company == "Example Corp"


@pytest.mark.parametrize("fields, refused", [
    ({}, "company"),  # required by the form
    ({"company": "Example Corp", "department": "marketing"}, "department"),  # not one of its choices
    ({"company": "x" * 101}, "company"),  # longer than the model's column
    ({"company": "Example Corp", "employees": -3}, "employees"),  # a positive integer
    ({"company": "Example Corp", "employees": "many"}, "employees"),
    ({"company": "Example Corp", "title": "t" * 65}, "title"),
])
def test_a_field_the_form_refuses_is_a_400_naming_it_and_nothing_is_written(
        alpha, alpha_admin, extension_form, fields, refused):
    before = row_counts()
    response = alpha_admin.register(alpha, learner_body(**fields))
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error_code"] == "validation-error"
    assert set(body["field_errors"]) == {refused}, body
    assert row_counts() == before


def test_the_api_s_own_fields_are_checked_first_as_the_platform_s_rules_come_after_them(
        alpha, alpha_admin, extension_form):
    before = row_counts()
    response = alpha_admin.register(alpha, learner_body(email="not-an-email", department="marketing"))
    assert response.status_code == 400
    assert set(response.json()["field_errors"]) == {"email"}
    assert row_counts() == before


def test_a_form_field_refused_when_the_account_is_valid_leaves_no_user(alpha, alpha_admin, extension_form):
    """The platform's form decides in the learner's transaction: a refusal there rolls the user back."""
    before = row_counts()
    response = alpha_admin.register(alpha, learner_body(password=PASSWORD, company="Example Corp", employees=-1))
    assert response.status_code == 400
    assert not get_user_model().objects.filter(username="auserton").exists()
    assert row_counts() == before


def test_a_dry_run_checks_the_form_and_writes_nothing(alpha, alpha_admin, extension_form):
    before = row_counts()
    refused = alpha_admin.register(alpha, learner_body(department="marketing"), QUERY_STRING="dry_run=true")
    assert refused.status_code == 400
    assert {"company", "department"} == set(refused.json()["field_errors"])
    checked = alpha_admin.register(alpha, learner_body(company="Example Corp"), QUERY_STRING="dry_run=true")
    assert checked.status_code == 200, checked.content
    assert checked.json() == {"dry_run": True}
    assert row_counts() == before


def test_a_form_encoded_body_carries_the_extension_fields(alpha, alpha_admin, extension_form):
    response = alpha_admin.client.post(
        "/tahoe/api/v1/registrations/",
        "username=auserton&email=alex.userton%40example.com&name=Alex+Userton&company=Example+Corp&title=Engineer",
        content_type="application/x-www-form-urlencoded", HTTP_HOST=alpha.domain,
    )
    assert response.status_code == 200, response.content
    assert (extension_of("auserton").company, extension_of("auserton").title) == ("Example Corp", "Engineer")


def test_without_a_form_unknown_fields_are_ignored_as_ever(alpha, alpha_admin):
    response = alpha_admin.register(alpha, learner_body(company={"nested": ["anything"]}, title="\x00", x=1))
    assert response.status_code == 200, response.content
    assert not LearnerExtension.objects.exists()


def test_a_form_without_a_model_keeps_its_values_in_the_profile_s_meta(alpha, alpha_admin, settings):
    settings.REGISTRATION_EXTENSION_FORM = PLAIN_FORM
    assert alpha_admin.register(alpha, learner_body(title="Engineer")).status_code == 400  # company is required
    response = alpha_admin.register(alpha, learner_body(company="Example Corp", title="Engineer"))
    assert response.status_code == 200, response.content
    meta = json.loads(LearnerProfile.objects.get(user_id=response.json()["user_id"]).meta)
    assert meta == {"company": "Example Corp", "title": "Engineer"}


def test_form_fields_named_like_the_api_s_own_keep_the_api_s_meaning(settings):
    """username, email, name, password, send_activation_email, language and ref stay the API's."""
    assert learner_input.extension_names(("company", "name", "password", "ref", "title")) == ("company", "title")
    registration = learner_input.parse_registration(
        learner_body(password=PASSWORD, company="Example Corp"), ("name", "password", "company"))
    assert registration.extension_fields == (("company", "Example Corp"),)
    assert registration.password == PASSWORD


def test_a_form_field_named_like_the_api_s_gets_the_api_s_value_never_the_password(alpha, alpha_admin, settings):
    settings.REGISTRATION_EXTENSION_FORM = "tests.test_extension_fields.NamedLikeTheApiForm"
    response = alpha_admin.register(alpha, learner_body(password=PASSWORD, company="Example Corp"))
    assert response.status_code == 200, response.content
    meta = json.loads(LearnerProfile.objects.get(user_id=response.json()["user_id"]).meta)
    assert meta == {"company": "Example Corp", "name": "Alex Userton", "password": ""}


# Values the API refuses before the form sees them ---------------------------------------------------


@pytest.mark.parametrize("value, message", [
    ({"a": 1}, "Must be a string, a number, a boolean or null."),
    (["a"], "Must be a string, a number, a boolean or null."),
    ("a\x00b", "Must not contain control characters other than tabs and line breaks."),
    ("a\x1bb", "Must not contain control characters other than tabs and line breaks."),
    ("x" * (learner_input.EXTENSION_VALUE_MAX_LENGTH + 1), "Ensure this field has no more than 10000 characters."),
    (float("inf"), "Must be a finite number."),
])
def test_values_no_form_could_read_are_refused_naming_the_field(value, message):
    with pytest.raises(InvalidRegistration) as raised:
        learner_input.parse_registration(learner_body(title=value), ("company", "title"))
    assert raised.value.field_errors == {"title": message}


def test_line_breaks_and_scalars_reach_the_form_as_given():
    registration = learner_input.parse_registration(
        {**learner_body(), "title": "a\tb\r\nc", "employees": 3, "company": None, "flag": True},
        ("title", "employees", "company", "flag"))
    assert dict(registration.extension_fields) == {"title": "a\tb\r\nc", "employees": 3, "company": None, "flag": True}


# Hostile input in the new fields: the answers of every other field -------------------------------------

EXTENSION_NAMES = ["company", "title", "department", "employees"]
extension_fields = st.dictionaries(st.sampled_from(EXTENSION_NAMES), hostile_value | json_value, max_size=4)


@pytest.fixture
def no_rate_limit(settings):
    """Many examples per test: the rate limits are tested elsewhere."""
    settings.TAHOE_REGISTRATION_API_RATE = None
    settings.TAHOE_REGISTRATION_API_BULK_RATE = None
    settings.TAHOE_REGISTRATION_API_BULK_LEARNER_RATE = None


@EVERY_ENDPOINT
@given(endpoint=st.sampled_from(JSON_ENDPOINTS), fields=extension_fields, password=st.booleans())
def test_any_json_value_in_the_extension_fields(  # pylint: disable=too-many-arguments
        alpha, alpha_admin, extension_form, no_rate_limit, endpoint, fields, password):
    """Never a 5xx; a refusal (of any field, of any learner of a bulk call) writes nothing; a success stores the row."""
    learner = {**learner_body(password=PASSWORD if password else None), **fields}
    body = {"learners": [learner]} if endpoint in (BULK, JOBS) else learner
    encoded = json.dumps(body)
    before = written()
    response = send(alpha_admin, alpha, "POST", endpoint, encoded)
    answer = assert_json_answer(response, before)
    if holds_lone_surrogate(as_read(body)):
        assert_refused(response, 400, "malformed-request")
        return
    registered = get_user_model().objects.filter(username="auserton").first()
    if registered is not None:
        assert LearnerExtension.objects.filter(user=registered).exists()  # the user and its extension, or neither
        registered.delete()
    elif endpoint not in (BULK, JOBS):
        assert response.status_code == 400 and set(answer["field_errors"]) <= {*EXTENSION_NAMES, "password"}, answer


@EVERY_ENDPOINT
@given(cells=st.lists(csv_cells, min_size=4, max_size=4))
def test_any_csv_cells_in_the_extension_columns(alpha, alpha_admin, extension_form, no_rate_limit, cells):
    quoted = ",".join('"' + cell.replace('"', '""') + '"' for cell in cells)
    body = ("username,email,name," + ",".join(EXTENSION_NAMES) + "\nauserton,a@example.com,Alex,"
            + quoted + "\n").encode("utf-8")
    before = written()
    response = send(alpha_admin, alpha, "POST", JOBS, body, "text/csv")
    answer = assert_json_answer(response, before)
    if response.status_code == 202:
        rows = send(alpha_admin, alpha, "GET", f"{JOBS}{answer['job_id']}/results/")
        b"".join(rows.streaming_content).decode("utf-8")
        registered = get_user_model().objects.filter(username="auserton").first()
        if registered is not None:
            assert LearnerExtension.objects.filter(user=registered).exists()
            registered.delete()
    else:
        assert answer["error_code"] == "invalid-file", answer


# Bulk, jobs and the import --------------------------------------------------------------------------


def test_bulk_learners_each_with_their_own_fields(alpha, alpha_admin, extension_form):
    response = post_bulk(alpha_admin, alpha, [
        {"ref": "a", **learner_body(username="ada", email="ada@example.com", company="Analytical", title="Countess")},
        {"ref": "b", **learner_body(username="bob", email="bob@example.com", department="marketing")},
        {"ref": "c", **learner_body(username="cy", email="cy@example.com", company="Cyclone", employees=7)},
    ])
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [result["status"] for result in results] == [200, 400, 200]
    assert results[1]["error_code"] == "validation-error"
    assert set(results[1]["field_errors"]) == {"company", "department"}
    assert (extension_of("ada").company, extension_of("ada").title) == ("Analytical", "Countess")
    assert (extension_of("cy").company, extension_of("cy").employees) == ("Cyclone", 7)
    assert not get_user_model().objects.filter(username="bob").exists()


def test_a_csv_job_reads_the_form_s_columns_by_name(alpha, alpha_admin, extension_form):
    response = post_csv(alpha_admin, alpha, csv_of(
        "username,email,name,Company,title,department,notes,ref",
        "ada,ada@example.com,Ada Lovelace,Analytical,Countess,engineering,ignored,r1",
        "bob,bob@example.com,Bob Refused,,,marketing,,r2",
    ))
    assert response.status_code == 202, response.content
    rows = results_of(alpha_admin, alpha, response.json()["job_id"])
    assert [(row["status"], row["error_code"]) for row in rows] == [("200", ""), ("400", "validation-error")], rows
    assert set(rows[1]["fields"].split()) == {"company", "department"}
    extension = extension_of("ada")
    assert (extension.company, extension.title, extension.department) == ("Analytical", "Countess", "engineering")
    assert not get_user_model().objects.filter(username="bob").exists()


def test_a_json_job_reads_the_form_s_fields(alpha, alpha_admin, extension_form):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = alpha_admin.client.post("/tahoe/api/v1/registration-jobs/", {"learners": [
            learner_body(company="Example Corp", employees=40)]}, format="json", HTTP_HOST=alpha.domain)
    assert response.status_code == 202, response.content
    assert (extension_of("auserton").company, extension_of("auserton").employees) == ("Example Corp", 40)


def test_the_import_command_reads_the_form_s_columns(alpha, tmp_path, extension_form):
    path = write_csv(tmp_path, "username,email,name,company,department",
                     "ada,ada@example.com,Ada Lovelace,Analytical,sales",
                     "bob,bob@example.com,Bob Refused,Bobco,marketing")
    status, out, _err = run_import("--site", alpha.domain, path)
    assert status != 0, out  # one row refused
    assert (extension_of("ada").company, extension_of("ada").department) == ("Analytical", "sales")
    assert not get_user_model().objects.filter(username="bob").exists()


def test_a_job_s_header_error_names_the_form_s_columns_among_the_optional_ones(alpha, alpha_admin, extension_form):
    response = post_csv(alpha_admin, alpha, csv_of("username,company", "ada,Analytical"))
    assert response.status_code == 400, response.content
    assert response.json()["error_code"] == "invalid-file"
    assert ("may have password, send_activation_email, language, ref, courses, mode, "
            "company, title, department, employees.") in response.json()["field_errors"]["file"]["user_message"]


# The adapter's verb -------------------------------------------------------------------------------


def test_the_fake_platform_names_the_form_s_fields(settings):
    assert fake_platform.extension_field_names() == ()
    settings.REGISTRATION_EXTENSION_FORM = MODEL_FORM
    assert fake_platform.extension_field_names() == ("company", "title", "department", "employees")


class NamedLikeTheApiForm(forms.Form):
    """A plain form whose ``name`` and ``password`` fields share the API's names."""

    company = forms.CharField()
    name = forms.CharField()
    password = forms.CharField(required=False)
