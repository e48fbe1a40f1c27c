"""The contract's request body table: required fields, types, booleans, unknown fields."""

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import learner_body
from tests.rows import row_counts

REQUIRED = ("username", "email", "name")


@pytest.mark.parametrize("field", REQUIRED)
def test_each_required_field_missing_is_a_400_naming_it(alpha, alpha_admin, field):
    before = row_counts()
    response = alpha_admin.register(alpha, learner_body(**{field: None}))
    assert response.status_code == 400
    assert response.json()["error_code"] == "validation-error"
    assert list(response.json()["field_errors"]) == [field]
    assert row_counts() == before


def test_every_missing_field_is_named_at_once(alpha, alpha_admin):
    response = alpha_admin.register(alpha, {})
    assert response.status_code == 400
    assert set(response.json()["field_errors"]) == set(REQUIRED)


@pytest.mark.parametrize("field,value", [
    (field, value) for field in REQUIRED + ("password",) for value in (123, 1.5, True, ["auserton"], {"a": "b"}, None)
    if (field, value) != ("password", None)
])
def test_wrong_json_type_is_a_400_naming_the_field(alpha, alpha_admin, field, value):
    body = learner_body()
    body[field] = value
    response = alpha_admin.register(alpha, body)
    assert response.status_code == 400
    assert field in response.json()["field_errors"]
    assert not get_user_model().objects.filter(username="auserton").exists()


@pytest.mark.parametrize("value", ["", "   "])
@pytest.mark.parametrize("field", REQUIRED)
def test_blank_required_field_is_a_400(alpha, alpha_admin, field, value):
    response = alpha_admin.register(alpha, learner_body(**{field: value}))
    assert response.status_code == 400
    assert field in response.json()["field_errors"]


@pytest.mark.parametrize(
    "value,active",
    [(True, False), (False, True), ("true", False), ("false", True), ("False", True), ("TRUE", False),
     ("fAlSe", True)],
)
def test_send_activation_email_accepts_booleans_and_their_strings(alpha, alpha_admin, value, active):
    response = alpha_admin.register(alpha, learner_body(password="Str0ng-enough-pw", send_activation_email=value))
    assert response.status_code == 200
    assert get_user_model().objects.get(pk=response.json()["user_id"]).is_active is active


@pytest.mark.parametrize("value", ["yes", "no", "1", "0", 1, 0, "", "null", ["true"], {"v": True}, None, 2.0])
def test_any_other_boolean_is_a_400_naming_the_field(alpha, alpha_admin, value):
    before = row_counts()
    response = alpha_admin.register(alpha, learner_body(password="Str0ng-enough-pw", send_activation_email=value)
                                    if value is not None else {**learner_body(), "send_activation_email": None})
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["send_activation_email"]
    assert row_counts() == before


def test_unknown_fields_are_ignored_neither_stored_nor_an_error(alpha, alpha_admin):
    body = learner_body(title="CTO", department="R&D", company="Acme", is_staff=True, is_superuser=True)
    response = alpha_admin.register(alpha, body)
    assert response.status_code == 200
    user = get_user_model().objects.get(pk=response.json()["user_id"])
    assert (user.is_staff, user.is_superuser) == (False, False)
    assert user.devlms_profile.name == "Alex Userton"
    assert "CTO" not in str(user.__dict__) + str(user.devlms_profile.__dict__)


def test_terms_are_not_sent_by_the_caller(alpha, alpha_admin):
    response = alpha_admin.register(alpha, learner_body(terms_of_service="false", honor_code="false"))
    assert response.status_code == 200


@pytest.mark.parametrize("body", ["[]", '"text"', "42", "null", "true"])
def test_a_body_that_is_not_an_object_is_a_400(alpha, alpha_admin, body):
    response = alpha_admin.client.generic("POST", "/tahoe/api/v1/registrations/", body,
                                          content_type="application/json", HTTP_HOST=alpha.domain)
    assert response.status_code == 400
    assert response.json()["error_code"] == "validation-error"
    assert response.json()["field_errors"]


def test_malformed_json_is_a_json_400(alpha, alpha_admin):
    response = alpha_admin.client.generic("POST", "/tahoe/api/v1/registrations/", b'{"username": ',
                                          content_type="application/json", HTTP_HOST=alpha.domain)
    assert response.status_code == 400
    assert response.json()["error_code"] == "malformed-request"


def test_form_encoded_bodies_work_too(alpha, alpha_admin):
    response = alpha_admin.client.post(
        "/tahoe/api/v1/registrations/",
        "username=auserton&email=alex.userton%40example.com&name=Alex+Userton",
        content_type="application/x-www-form-urlencoded", HTTP_HOST=alpha.domain,
    )
    assert response.status_code == 200


def test_multipart_bodies_are_a_json_415(alpha, alpha_admin):
    response = alpha_admin.register(alpha, learner_body(), fmt="multipart")
    assert response.status_code == 415
    assert response.json()["error_code"] == "unsupported-media-type"


def test_other_content_types_are_a_json_415(alpha, alpha_admin):
    response = alpha_admin.client.generic("POST", "/tahoe/api/v1/registrations/", "username=x",
                                          content_type="text/plain", HTTP_HOST=alpha.domain)
    assert response.status_code == 415
    assert response.json()["error_code"] == "unsupported-media-type"
