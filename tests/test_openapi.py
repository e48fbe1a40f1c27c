"""docs/openapi.yaml is a valid OpenAPI document and says what the code does."""

import re
from pathlib import Path

import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from rest_framework import serializers

from tahoe_registration_api import enrollment_input, exceptions, learner_input
from tahoe_registration_api.data import EnrollmentState
from tahoe_registration_api.enrollments import ACTIONS, Change, EnrollmentRequest
from tahoe_registration_api.rest_api import errors
from tahoe_registration_api.rest_api.pagination import ListPagination
from tahoe_registration_api.rest_api.query import ID_MAX, TEXT_MAX_LENGTH
from tahoe_registration_api.rest_api.v1.serializers import (
    CourseModeSerializer,
    CourseSerializer,
    EnrollmentSerializer,
    LearnerSerializer,
    RegistrationRequestSerializer,
    enrollment_answer,
)

SPEC = yaml.safe_load((Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
OPERATION = SPEC["paths"]["/v1/registrations/"]["post"]
OPERATION_V2 = SPEC["paths"]["/v2/registrations/"]["post"]
SCHEMAS = SPEC["components"]["schemas"]


def test_the_document_is_valid_openapi():
    validate(SPEC)


def test_the_request_schema_matches_the_serializer():
    fields = RegistrationRequestSerializer().fields
    schema = SCHEMAS["RegistrationRequest"]
    assert set(schema["properties"]) == set(fields)
    assert set(schema["required"]) == {name for name, field in fields.items() if field.required}
    for name in ("username", "email", "name", "password", "language", "mode"):
        assert schema["properties"][name]["maxLength"] == fields[name].max_length, name
    courses = schema["properties"]["courses"]["oneOf"][0]
    assert courses["maxItems"] == fields["courses"].max_length == learner_input.COURSES_MAX
    assert courses["items"]["maxLength"] == learner_input.COURSE_KEY_MAX_LENGTH
    assert schema["properties"]["mode"]["maxLength"] == learner_input.MODE_MAX_LENGTH


def code_emitting_sources():
    """Every error code the code can answer with."""
    codes = {cls.error_code for cls in vars(exceptions).values()
             if isinstance(cls, type) and issubclass(cls, exceptions.RegistrationError)
             and isinstance(cls.__dict__.get("error_code"), str)}
    codes |= {exceptions.DuplicateAccount(fields).error_code
              for fields in (["username"], ["email"], ["email", "username"])}
    codes |= {code for code, _ in errors.DRF_CODES.values()}
    source = Path(errors.__file__).read_text(encoding="utf-8")
    codes |= set(re.findall(r'error_body\(\s*"([a-z-]+)"', source))
    codes |= set(re.findall(r'\(\s*"([a-z-]+)",\s*"The request could not be processed', source))
    return codes - {"registration-error"}  # the abstract base's code, never answered


def test_every_error_code_the_code_answers_is_documented_and_no_other():
    assert set(SCHEMAS["Error"]["properties"]["error_code"]["enum"]) == code_emitting_sources()


def test_every_status_of_the_contract_is_documented():
    assert {"200", "400", "401", "403", "409", "413", "415", "429", "503"} <= set(OPERATION["responses"])


def test_v2_documents_v1_s_answers_with_its_own_409():
    assert set(OPERATION_V2["responses"]) == set(OPERATION["responses"])
    assert OPERATION_V2["requestBody"] == OPERATION["requestBody"]
    conflict = OPERATION_V2["responses"]["409"]["content"]["application/json"]["schema"]
    assert conflict == {"$ref": "#/components/schemas/ConflictV2"}
    assert SCHEMAS["ConflictV2"]["allOf"][1]["required"] == ["invalid-params"]


def test_the_documented_paths_are_the_mounted_ones():
    from django.urls import resolve  # pylint: disable=import-outside-toplevel

    names = ("registrations", "registrations-v2", "resend", "resend-v2", "bulk", "jobs", "job", "job-results",
             "courses", "course", "enrollments", "learners", "learner")
    for path in SPEC["paths"]:
        url = f"/tahoe/api{path}".replace("{user_id}", "7").replace("{job_id}", "8f0c6d0e-3f5e-4a59-9a57-2f4a4d1b2c3e")
        url = url.replace("{course_id}", "course-v1:alpha+Intro+2026")
        assert resolve(url).url_name in names, path
    assert {resolve(f"/tahoe/api{path}").url_name for path in SPEC["paths"] if "{" not in path} >= {
        "bulk", "jobs", "courses", "enrollments"}
    mounted = {resolve(f"/tahoe/api{path}".replace("{course_id}", "k").replace("{user_id}", "7").replace(
        "{job_id}", "8f0c6d0e-3f5e-4a59-9a57-2f4a4d1b2c3e")).url_name for path in SPEC["paths"]}
    assert mounted == set(names)


def test_the_bulk_and_job_answers_are_documented():
    bulk = SPEC["paths"]["/v1/registrations/bulk/"]["post"]
    assert set(bulk["responses"]) == {"200", "400", "401", "403", "409", "413", "415", "422", "429"}
    assert SCHEMAS["BulkRequest"]["properties"]["learners"]["maxItems"] == 500
    jobs = SPEC["paths"]["/v1/registration-jobs/"]["post"]
    assert set(jobs["requestBody"]["content"]) == {"text/csv", "application/json"}
    assert set(jobs["responses"]) == {"202", "400", "401", "403", "413", "415", "429"}
    from tahoe_registration_api.rest_api import results as writer  # pylint: disable=import-outside-toplevel
    results = SPEC["paths"]["/v1/registration-jobs/{job_id}/results/"]["get"]["responses"]["200"]
    assert results["description"].split()[0].rstrip(".") == ",".join(writer.COLUMNS)
    from tahoe_registration_api.rest_api.v1.job_views import job_body  # pylint: disable=import-outside-toplevel
    assert set(SCHEMAS["Job"]["required"]) == set(job_body(type("Job", (), {
        "pk": 1, "status": "done", "total": 0, "processed": 0, "created_count": 0,
        "created_at": None, "started_at": None, "finished_at": None, "failure": ""})()))


def test_the_resend_answers_are_documented():
    resend = SPEC["paths"]["/v1/registrations/{user_id}/resend/"]["post"]
    assert set(resend["responses"]) == {"202", "401", "403", "404", "409", "415", "429"}
    assert SCHEMAS["ResendResult"]["properties"]["email"]["enum"] == ["activation", "password-reset"]


# The site's courses and its enrollments ---------------------------------------------------------

COURSES = SPEC["paths"]["/v1/courses/"]["get"]
COURSE = SPEC["paths"]["/v1/courses/{course_id}/"]["get"]
ENROLLMENTS = SPEC["paths"]["/v1/enrollments/"]["get"]
ENROLL = SPEC["paths"]["/v1/enrollments/"]["post"]


def resolved(value):
    """Return ``value`` with a local ``$ref`` (one level) replaced by what it names."""
    if isinstance(value, dict) and "$ref" in value:
        kind, name = value["$ref"].split("/")[-2:]
        return SPEC["components"][kind][name]
    return value


def validator(schema_name):
    """A validator of one of the document's schemas, its references resolved within the document."""
    return OAS30Validator({"$ref": f"#/components/schemas/{schema_name}", "components": SPEC["components"]})


def query_parameters(operation):
    """Return ``{name: parameter}`` of an operation's query parameters."""
    return {parameter["name"]: parameter for parameter in map(resolved, operation["parameters"])
            if parameter["in"] == "query"}


@pytest.mark.parametrize("schema_name,serializer", [
    ("Course", CourseSerializer), ("CourseMode", CourseModeSerializer), ("Enrollment", EnrollmentSerializer),
    ("Learner", LearnerSerializer),
])
def test_the_course_and_enrollment_schemas_match_their_serializers(schema_name, serializer):
    fields = serializer().fields
    schema = SCHEMAS[schema_name]
    assert set(schema["properties"]) == set(schema["required"]) == set(fields)
    types = {serializers.CharField: "string", serializers.IntegerField: "integer", serializers.EmailField: "string",
             serializers.BooleanField: "boolean", serializers.DateTimeField: "string"}
    for name, field in fields.items():
        documented = schema["properties"][name]
        if isinstance(field, serializers.ListSerializer):
            assert documented["type"] == "array", name
            continue
        assert documented["type"] == types[type(field)], name
        assert documented.get("nullable", False) == field.allow_null, name
        assert (documented.get("format") == "date-time") == isinstance(field, serializers.DateTimeField), name


def test_the_pages_are_drf_s():
    for page, item in (("CoursePage", "Course"), ("EnrollmentPage", "Enrollment"), ("LearnerPage", "Learner")):
        assert set(SCHEMAS[page]["required"]) == {"count", "next", "previous", "results"}
        assert SCHEMAS[page]["properties"]["results"]["items"] == {"$ref": f"#/components/schemas/{item}"}
    page_size = SPEC["components"]["parameters"]["PageSize"]
    assert page_size["schema"]["default"] == ListPagination.page_size
    assert str(ListPagination.max_page_size) in page_size["description"]
    assert {SPEC["components"]["parameters"]["Page"]["name"], page_size["name"]} == {
        ListPagination.page_query_param, ListPagination.page_size_query_param}


def test_the_lists_document_every_query_parameter_they_read():
    assert set(query_parameters(COURSES)) == {"page", "page_size", "org", "number", "display_name"}
    assert set(query_parameters(ENROLLMENTS)) == {"page", "page_size", "course_id", "user_id", "username",
                                                  "is_active"}
    for operation in (COURSES, ENROLLMENTS):
        for name, parameter in query_parameters(operation).items():
            if parameter["schema"].get("type") == "string" and "enum" not in parameter["schema"]:
                assert parameter["schema"]["maxLength"] == TEXT_MAX_LENGTH, name
    assert query_parameters(ENROLLMENTS)["user_id"]["schema"]["maximum"] == ID_MAX


def test_every_answer_of_the_new_endpoints_is_documented():
    assert set(COURSES["responses"]) == {"200", "400", "401", "403", "404", "429", "503"}
    assert set(COURSE["responses"]) == {"200", "401", "403", "404", "429", "503"}
    assert set(ENROLLMENTS["responses"]) == set(COURSES["responses"])
    assert set(ENROLL["responses"]) == {"200", "400", "401", "403", "409", "413", "415", "422", "429", "503"}
    assert "course-not-found" in COURSE["responses"]["404"]["description"]
    assert "invalid-course-ids" in ENROLL["responses"]["400"]["description"]
    assert "too-many-enrollments" in ENROLL["responses"]["413"]["description"]
    assert {"page", "page_size", "user_id", "is_active", "course_id"} <= set(
        COURSES["responses"]["400"]["description"].replace(",", " ").split())
    registration = SPEC["paths"]["/v1/registrations/"]["post"]["responses"]
    assert "invalid-course-ids" in registration["400"]["description"]
    assert "enrollment-prevented" in registration["403"]["description"]


def test_the_enrollment_request_schema_matches_what_the_code_reads():
    schema = SCHEMAS["EnrollmentRequest"]
    assert set(schema["properties"]) == {"action", "identifiers", "courses", "auto_enroll", "email_learners",
                                         "email_students", "mode"}
    assert set(schema["required"]) == {"action", "identifiers", "courses"}
    assert schema["properties"]["action"]["enum"] == list(ACTIONS)
    text, number = schema["properties"]["identifiers"]["oneOf"][0]["items"]["oneOf"]
    assert text["maxLength"] == enrollment_input.IDENTIFIER_MAX_LENGTH
    assert number["maximum"] == enrollment_input.ID_MAX
    assert schema["properties"]["courses"]["oneOf"][0]["items"]["maxLength"] == learner_input.COURSE_KEY_MAX_LENGTH
    assert schema["properties"]["mode"]["maxLength"] == enrollment_input.MODE_MAX_LENGTH


@pytest.mark.parametrize("body", [
    {"action": "enroll", "identifiers": [41, "ada", "dee@example.com"], "courses": ["course-v1:alpha+Intro+2026"]},
    {"action": "unenroll", "identifiers": "ada, bo", "courses": "course-v1:alpha+Intro+2026", "auto_enroll": "TRUE",
     "email_students": True, "mode": None},
])
def test_a_body_the_code_reads_is_valid_by_the_schema(body):
    enrollment_input.parse_enrollment_request(body, 500)  # read by the code
    validator("EnrollmentRequest").validate(body)


@pytest.mark.parametrize("dry_run", [False, True])
def test_the_enrollment_answer_the_code_gives_is_valid_by_the_schema(dry_run):
    request = EnrollmentRequest(action="enroll", identifiers=(41, "ada", "nobody", "bo"),
                                courses=("course-v1:alpha+Intro+2026",), auto_enroll=True, mode="verified")
    before = EnrollmentState(user=True, enrollment=False, allowed=False, auto_enroll=False)
    after = EnrollmentState(user=True, enrollment=True, allowed=False, auto_enroll=False)
    changes = [Change(41, before, after), Change("ada", before, after), Change("nobody", invalid=True),
               Change("bo", error=True)]
    answer = enrollment_answer(request, {"course-v1:alpha+Intro+2026": changes}, dry_run)
    validator("EnrollmentResult").validate(answer)
    schema = SCHEMAS["EnrollmentResult"]
    assert set(schema["required"]) | {"dry_run"} == set(schema["properties"])
    assert set(answer) == set(schema["required"]) | ({"dry_run"} if dry_run else set())
    assert set(SCHEMAS["EnrollmentState"]["properties"]) == set(before.as_dict())
    results = answer["courses"]["course-v1:alpha+Intro+2026"]["results"]
    assert [set(result) for result in results] == [
        set(SCHEMAS["EnrollmentChange"]["required"])] * 2 + [
        set(SCHEMAS["InvalidIdentifier"]["required"]), set(SCHEMAS["FailedChange"]["required"])]


# The site's learners --------------------------------------------------------------------------

LEARNERS = SPEC["paths"]["/v1/learners/"]["get"]
LEARNER = SPEC["paths"]["/v1/learners/{user_id}/"]["get"]
CHANGE = SPEC["paths"]["/v1/learners/{user_id}/"]["patch"]


def test_the_learner_lookups_document_every_query_parameter_they_read():
    assert set(query_parameters(LEARNERS)) == {"page", "page_size", "email", "username", "include_admins"}
    assert set(query_parameters(LEARNER)) == {"include_admins"}
    assert set(query_parameters(CHANGE)) == {"dry_run"}
    for name in ("email", "username"):
        assert query_parameters(LEARNERS)[name]["schema"]["maxLength"] == TEXT_MAX_LENGTH


def test_every_answer_of_the_learner_endpoints_is_documented():
    assert set(LEARNERS["responses"]) == {"200", "400", "401", "403", "404", "429", "503"}
    assert set(LEARNER["responses"]) == {"200", "400", "401", "403", "404", "429", "503"}
    assert set(CHANGE["responses"]) == {"200", "400", "401", "403", "404", "409", "413", "415", "422", "429", "503"}
    assert "learner-not-found" in LEARNER["responses"]["404"]["description"]
    assert "duplicate-email" in CHANGE["responses"]["409"]["description"]
    assert "username" in CHANGE["responses"]["400"]["description"]
    resend = SPEC["paths"]["/v1/registrations/{user_id}/resend/"]["post"]
    assert "learner-disabled" in resend["responses"]["409"]["description"]


def test_the_learner_change_schema_is_what_the_code_reads():
    schema = SCHEMAS["LearnerChange"]
    assert set(schema["properties"]) == {"name", "email", "language", "disabled"}
    assert "required" not in schema
    assert schema["properties"]["name"]["maxLength"] == learner_input.NAME_MAX_LENGTH
    assert schema["properties"]["email"]["maxLength"] == learner_input.EMAIL_MAX_LENGTH
    assert schema["properties"]["language"]["maxLength"] == learner_input.LANGUAGE_MAX_LENGTH
    body = {"name": "Ada Lovelace", "email": "ada@example.com", "language": "fr", "disabled": "TRUE"}
    validator("LearnerChange").validate({**body, "disabled": "true"})
    change = learner_input.parse_learner_change(body)
    assert {name: getattr(change, name) for name in schema["properties"]} == {**body, "disabled": True}


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_learner_the_code_answers_is_valid_by_the_schema(dry_run):
    from datetime import datetime, timezone  # pylint: disable=import-outside-toplevel

    learner = LearnerSerializer({"user_id": 7, "username": "ada", "email": "ada@example.com", "name": "Ada",
                                 "is_active": True, "disabled": False, "language": None,
                                 "date_joined": datetime(2026, 12, 5, tzinfo=timezone.utc)}).data
    validator("Learner").validate(dict(learner))
    validator("LearnerChanged").validate({**learner, **({"dry_run": True} if dry_run else {})})
