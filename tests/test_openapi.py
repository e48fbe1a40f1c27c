"""docs/openapi.yaml is a valid OpenAPI document and says what the code does."""

import json
import re
import types
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from rest_framework import serializers

from tahoe_registration_api import enrollment_input, exceptions, learner_input
from tahoe_registration_api.data import EnrollmentState
from tahoe_registration_api.enrollments import ACTIONS, Change, EnrollmentRequest
from tahoe_registration_api.models import WebhookEndpoint
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
from tahoe_registration_api.rest_api.v1.webhook_views import attempt_body, webhook_body
from tahoe_registration_api.webhooks import addresses, delivery, endpoints, events, signing
from tahoe_registration_api.webhooks.events import EVENT_TYPES

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
    codes |= set(re.findall(r'\(\s*"([a-z-]+)",\s*(?:gettext_noop\()?"The request could not be processed', source))
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
             "courses", "course", "enrollments", "learners", "learner",
             "webhooks", "webhook", "webhook-rotate", "webhook-enable", "webhook-deliveries")
    for path in SPEC["paths"]:
        url = f"/tahoe/api{path}".replace("{user_id}", "7").replace("{job_id}", "8f0c6d0e-3f5e-4a59-9a57-2f4a4d1b2c3e")
        url = url.replace("{course_id}", "course-v1:alpha+Intro+2026").replace("{webhook_id}", "4")
        assert resolve(url).url_name in names, path
    assert {resolve(f"/tahoe/api{path}").url_name for path in SPEC["paths"] if "{" not in path} >= {
        "bulk", "jobs", "courses", "enrollments", "webhooks"}
    mounted = {resolve(f"/tahoe/api{path}".replace("{course_id}", "k").replace("{user_id}", "7").replace(
        "{job_id}", "8f0c6d0e-3f5e-4a59-9a57-2f4a4d1b2c3e").replace("{webhook_id}", "4")).url_name
        for path in SPEC["paths"]}
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
    learner = LearnerSerializer({"user_id": 7, "username": "ada", "email": "ada@example.com", "name": "Ada",
                                 "is_active": True, "disabled": False, "language": None,
                                 "date_joined": datetime(2026, 12, 5, tzinfo=timezone.utc)}).data
    validator("Learner").validate(dict(learner))
    validator("LearnerChanged").validate({**learner, **({"dry_run": True} if dry_run else {})})


# The site's webhooks, and what they post --------------------------------------------------------

WEBHOOKS = SPEC["paths"]["/v1/webhooks/"]
WEBHOOK = SPEC["paths"]["/v1/webhooks/{webhook_id}/"]
ROTATE = SPEC["paths"]["/v1/webhooks/{webhook_id}/rotate/"]["post"]
ENABLE = SPEC["paths"]["/v1/webhooks/{webhook_id}/enable/"]["post"]
DELIVERIES = SPEC["paths"]["/v1/webhooks/{webhook_id}/deliveries/"]["get"]
EVENTS = SPEC["x-webhooks"]
EVENT_HEADERS = {"webhook-id", "webhook-timestamp", "webhook-signature"}


def test_every_answer_of_the_webhook_endpoints_is_documented():
    assert set(WEBHOOKS["get"]["responses"]) == {"200", "400", "401", "403", "404", "429", "503"}
    assert set(WEBHOOKS["post"]["responses"]) == {"201", "400", "401", "403", "409", "413", "415", "429", "503"}
    assert set(WEBHOOK["get"]["responses"]) == {"200", "401", "403", "404", "429", "503"}
    assert set(WEBHOOK["delete"]["responses"]) == {"204", "401", "403", "404", "429", "503"}
    for operation in (ROTATE, ENABLE):
        assert set(operation["responses"]) == {"200", "401", "403", "404", "413", "415", "429", "503"}
    assert set(DELIVERIES["responses"]) == {"200", "400", "401", "403", "404", "429", "503"}
    for operation in (WEBHOOK["get"], WEBHOOK["delete"], ROTATE, ENABLE, DELIVERIES):
        assert exceptions.WebhookNotFound.error_code in operation["responses"]["404"]["description"]
    conflict = WEBHOOKS["post"]["responses"]["409"]["description"]
    assert exceptions.TooManyWebhooks.error_code in conflict and str(endpoints.MAX_PER_SITE) in conflict
    assert {"url", "events", "non_field_errors"} <= set(
        WEBHOOKS["post"]["responses"]["400"]["description"].replace(",", " ").split())
    assert f"{int(endpoints.ROTATION_OVERLAP.total_seconds() // 3600)} hours" in ROTATE["description"]
    assert set(query_parameters(WEBHOOKS["get"])) == set(query_parameters(DELIVERIES)) == {"page", "page_size"}


def test_the_webhook_request_schema_is_what_the_code_reads():
    schema = SCHEMAS["WebhookRequest"]
    assert set(schema["properties"]) == set(schema["required"]) == {"url", "events"}
    assert schema["properties"]["url"]["maxLength"] == addresses.URL_MAX
    assert SCHEMAS["WebhookEventType"]["enum"] == list(EVENT_TYPES)
    body = WEBHOOKS["post"]["requestBody"]["content"]["application/json"]["example"]
    validator("WebhookRequest").validate(body)
    assert endpoints.parse_events(body["events"]) == body["events"]


def endpoint_row(**overrides):
    """A webhook endpoint as the model holds it (no database needed to show it)."""
    now = datetime(2026, 12, 5, 7, 19, 2, tzinfo=timezone.utc)
    values = {"pk": 4, "url": "https://crm.example.com/hooks", "events": json.dumps(list(EVENT_TYPES)),
              "created": now, "enabled": True, "failing_since": None, "disabled_at": None, "disabled_reason": "",
              "previous_expires": None}
    return types.SimpleNamespace(**{**values, **overrides})


@pytest.mark.parametrize("overrides", [
    {}, {"enabled": False, "failing_since": datetime(2026, 12, 1, tzinfo=timezone.utc),
         "disabled_at": datetime(2026, 12, 6, tzinfo=timezone.utc), "disabled_reason": "The endpoint answered 410."},
    {"previous_expires": datetime(2999, 1, 1, tzinfo=timezone.utc)},
])
def test_a_webhook_the_code_answers_is_valid_by_the_schema(overrides):
    shown = webhook_body(endpoint_row(**overrides))
    validator("Webhook").validate(shown)
    assert set(shown) == set(SCHEMAS["Webhook"]["properties"]) == set(SCHEMAS["Webhook"]["required"])
    created = webhook_body(endpoint_row(**overrides), signing.new_secret())
    validator("WebhookCreated").validate(created)
    assert set(created) - set(shown) == {"secret"}
    assert WEBHOOKS["post"]["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/WebhookCreated"}
    validator("WebhookCreated").validate(WEBHOOKS["post"]["responses"]["201"]["content"]["application/json"]["example"])


@pytest.mark.parametrize("status_code,error,next_attempt", [
    (204, "", None), (503, "", datetime(2026, 12, 5, 8, tzinfo=timezone.utc)), (None, "timeout", None),
])
def test_a_delivery_attempt_the_code_answers_is_valid_by_the_schema(status_code, error, next_attempt):
    attempt = types.SimpleNamespace(
        pk=9, webhook_id="msg_6eccbb4b25724785988a707f6e91d461", event="learner.registered", attempt=2,
        succeeded=status_code == 204, status_code=status_code, error=error, response="ok" * 512, duration_ms=12,
        at=datetime(2026, 12, 5, 7, 19, tzinfo=timezone.utc), next_attempt=next_attempt)
    shown = attempt_body(attempt)
    validator("WebhookAttempt").validate(shown)
    assert set(shown) == set(SCHEMAS["WebhookAttempt"]["properties"]) == set(SCHEMAS["WebhookAttempt"]["required"])
    assert SCHEMAS["WebhookAttempt"]["properties"]["response"]["maxLength"] == delivery.RESPONSE_KEPT


def test_every_event_type_is_under_x_webhooks_as_a_valid_post_with_its_headers():
    assert list(EVENTS) == list(EVENT_TYPES)
    # Each entry is a path item as 3.1's webhooks map holds them: valid where a path item is.
    validate({**SPEC, "paths": {**SPEC["paths"], **{f"/x-webhooks/{name}": item for name, item in EVENTS.items()}}})
    for name, item in EVENTS.items():
        assert set(item) == {"post"}, name
        operation = item["post"]
        assert {resolved(parameter)["name"] for parameter in operation["parameters"]} == EVENT_HEADERS, name
        content = operation["requestBody"]["content"]["application/json"]
        envelope = resolved(content["schema"])
        assert envelope["properties"]["type"]["enum"] == [name]
        assert set(envelope["properties"]) == set(envelope["required"]) == {"type", "timestamp", "data"}
        OAS30Validator({**content["schema"], "components": SPEC["components"]}).validate(content["example"])


def test_the_signed_headers_match_the_documented_forms():
    parameters = SPEC["components"]["parameters"]
    body = b'{"data":{},"timestamp":"2026-12-05T07:19:02Z","type":"learner.enabled"}'
    secrets = [signing.new_secret(), signing.new_secret()]
    for signers in (secrets[:1], secrets):  # one secret; two during a rotation's overlap
        headers = signing.headers(signers, "msg_6eccbb4b25724785988a707f6e91d461", 1796455142.7, body)
        for name, value in headers.items():
            parameter = next(parameter for parameter in parameters.values() if parameter["name"] == name)
            assert re.fullmatch(parameter["schema"]["pattern"], value), name
            assert re.fullmatch(parameter["schema"]["pattern"], str(parameter["example"])), name
    secret = SCHEMAS["WebhookCreated"]["allOf"][1]["properties"]["secret"]
    assert re.fullmatch(secret["pattern"], signing.new_secret())


def job_row(site_id):
    """A finished registration job of the site, as its event reads it."""
    return types.SimpleNamespace(pk=uuid.UUID("8f0c6d0e-3f5e-4a59-9a57-2f4a4d1b2c3e"), site_id=site_id, status="done",
                                 total=2, processed=2, created_count=1,
                                 finished_at=datetime(2026, 12, 5, 7, 40, tzinfo=timezone.utc))


INTRO = "course-v1:alpha+Intro+2026"
EVENTS_THE_CODE_WRITES = {  # each event type as the code writes it (in the change's transaction)
    "registered": lambda user, site_id: events.learner_registered(user, site_id, {INTRO: "audit"}),
    "registered without courses": events.learner_registered,
    "updated": lambda user, site_id: events.learner_updated(user, site_id, ["name", "email"]),
    "disabled": lambda user, site_id: events.learner_switched(user, site_id, disabled=True),
    "enabled": lambda user, site_id: events.learner_switched(user, site_id, disabled=False),
    "enrolled": lambda user, site_id: events.enrollment(user, site_id, INTRO, "audit", active=True),
    "unenrolled": lambda user, site_id: events.enrollment(user, site_id, INTRO, "audit", active=False),
    "job completed": lambda user, site_id: events.job_completed(job_row(site_id)),
}


@pytest.mark.parametrize("name", list(EVENTS_THE_CODE_WRITES))
def test_an_event_as_delivered_is_valid_by_its_documented_schema(name, alpha, alpha_learner, monkeypatch):
    owed = []
    monkeypatch.setattr(delivery.outbox, "owe", owed.extend)
    WebhookEndpoint.objects.create(site_id=alpha.site.pk, url="https://crm.example.com/hooks",
                                   events=json.dumps(list(EVENT_TYPES)), secret="sealed")
    delivery.FanOut.send(EVENTS_THE_CODE_WRITES[name](alpha_learner.user, alpha.site.pk))  # the worker's fan-out
    assert len(owed) == 1  # one endpoint, one delivery
    body = json.loads(owed[0].payload)["body"]  # what each endpoint is posted
    envelope = json.loads(body)
    assert body == json.dumps(envelope, separators=(",", ":"), sort_keys=True)  # compact, keys sorted
    assert set(envelope) == {"type", "timestamp", "data"}
    documented = EVENTS[envelope["type"]]["post"]["requestBody"]["content"]["application/json"]["schema"]
    OAS30Validator({**documented, "components": SPEC["components"]}).validate(envelope)
    data = resolved(resolved(documented)["properties"]["data"])
    assert set(data["required"]) <= set(envelope["data"]) == set(data["properties"]), name  # nothing undocumented
    assert envelope["data"]["site"] == {"id": alpha.site.pk, "domain": alpha.domain}
