"""Run scim2-tester (from its own virtualenv) against a SCIM service, and read its report."""

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "scripts" / "scim-compliance.py"
# Checks every run must have made (a report without them did not check the service).
ESSENTIAL = {
    "service_provider_config_endpoint", "query_all_resource_types", "query_all_schemas", "random_url",
    "object_creation", "object_query", "object_query_without_id", "object_query_with_attributes",
    "search_with_attributes", "object_replacement", "object_deletion", "check_add_attribute",
    "check_remove_attribute", "check_replace_attribute",
}


# The one refusal a check may meet that is not the service failing: the platform's password policy
# (Django's UserAttributeSimilarityValidator, in the LMS and its stand-in alike) refusing the random
# password scim2-tester made up, two random UUIDs being now and then "too similar". The policy is
# doing its job; the check runs again on the next run's random values.
PASSWORD_POLICY_REFUSAL = "password: The password is too similar to the "


def unexplained(results):
    """Return the results that are no SUCCESS and not the platform's password policy refusing a random password."""
    return [result for result in results
            if result["status"] != "SUCCESS" and not result["reason"].startswith(PASSWORD_POLICY_REFUSAL)]


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
