"""docs/openapi.yaml is a valid OpenAPI document and says what the code does."""

import re
from pathlib import Path

import yaml
from openapi_spec_validator import validate

from tahoe_registration_api import exceptions
from tahoe_registration_api.rest_api import errors
from tahoe_registration_api.rest_api.v1.serializers import RegistrationRequestSerializer

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
    for name in ("username", "email", "name", "password", "language"):
        assert schema["properties"][name]["maxLength"] == fields[name].max_length, name


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

    names = ("registrations", "registrations-v2", "resend", "resend-v2", "bulk", "jobs", "job", "job-results")
    for path in SPEC["paths"]:
        url = f"/tahoe/api{path}".replace("{user_id}", "7").replace("{job_id}", "8f0c6d0e-3f5e-4a59-9a57-2f4a4d1b2c3e")
        assert resolve(url).url_name in names, path
    assert {resolve(f"/tahoe/api{path}").url_name for path in SPEC["paths"] if "{" not in path} >= {"bulk", "jobs"}


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
