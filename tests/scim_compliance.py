"""Run scim2-tester (from its own virtualenv) against a SCIM service, and read its report."""

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "scripts" / "scim-compliance.py"
# Checks every run must have made (a report without them did not check the service), and those whose
# values hold no password, which every run must pass (the refusals below cannot meet them).
ALWAYS_SUCCEED = {
    "service_provider_config_endpoint", "service_provider_config_endpoint_methods", "query_all_resource_types",
    "query_resource_type_by_id", "resource_types_schema_validation", "access_invalid_resource_type",
    "query_all_schemas", "access_schema_by_id", "access_invalid_schema", "random_url", "object_creation",
    "object_query", "object_query_without_id", "object_deletion", "check_replace_attribute",
}
ESSENTIAL = {
    "service_provider_config_endpoint", "query_all_resource_types", "query_all_schemas", "random_url",
    "object_creation", "object_query", "object_query_without_id", "object_query_with_attributes",
    "search_with_attributes", "object_replacement", "object_deletion", "check_add_attribute",
    "check_remove_attribute", "check_replace_attribute",
}


# The one refusal a check may meet that is not the service failing: the platform's password policy
# (Django's UserAttributeSimilarityValidator, in the LMS and its stand-in alike) refusing the random
# password the tester made up, two random UUIDs being "too similar" about one time in five (docs/howto/scim.rst,
# "SCIM 2.0 for identity providers"). The policy is doing its job; the check runs again on the next
# run's values.
EXPLAINED_REFUSALS = (
    "password: The password is too similar to the ",
)


def successes(results):
    """Return the titles of the checks with at least one SUCCESS."""
    return {result["title"] for result in results if result["status"] == "SUCCESS"}


def unexplained(results):
    """Return the results that are no SUCCESS and none of the ``EXPLAINED_REFUSALS``."""
    return [result for result in results if result["status"] != "SUCCESS"
            and not any(refusal in result["reason"] for refusal in EXPLAINED_REFUSALS)]


def tester_python():
    """Return scim2-tester's Python (``SCIM_TESTER_PYTHON``, which the Makefile sets and installs)."""
    python = Path(os.environ.get("SCIM_TESTER_PYTHON", ROOT / ".venv-scim-tester" / "bin" / "python"))
    assert python.exists(), f"scim2-tester is not installed at {python}: run `make .venv-scim-tester/.installed`."
    return python


def run_scim2_tester(url, host, token, timeout=600):
    """Return scim2-tester's results (dicts: status, title, reason, resource_type, tags) for the service at ``url``."""
    done = subprocess.run([str(tester_python()), str(RUNNER), url, host], env={**os.environ, "SCIM_TOKEN": token},
                          capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def report(results):
    """Return the results as the CLI prints them: one ``STATUS title: reason`` line each."""
    return "\n".join(f"{result['status']} {result['title']}: {result['reason']}" for result in results)
