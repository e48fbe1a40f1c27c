"""
scim2-tester, a SCIM checker this project did not write, finds nothing wrong with the development LMS's service.

The service runs in a real HTTP server (pytest-django's live server); scim2-tester runs in its own
virtualenv and makes every check it has (discovery, the 405s and 404s, create, read, list, the
``attributes`` parameters, ``/.search``, replace, delete, and PATCH add, remove and replace of every
writable attribute): each must be a SUCCESS, unless a documented rule refused the tester's random
values (``scim_compliance.EXPLAINED_REFUSALS``: the platform's password policy refusing a random
password); those without a password always succeed. The same run inside the real LMS is the
platform suite's.
"""

import pytest

from tests.conftest import Caller, Site, make_user
from tests.scim_compliance import ALWAYS_SUCCEED, ESSENTIAL, report, run_scim2_tester, successes, unexplained


@pytest.mark.django_db(transaction=True)
def test_scim2_tester_finds_every_check_a_success(live_server):
    alpha = Site("alpha.localhost", "alpha")
    admin = Caller(make_user("alpha_admin", alpha, is_admin=True))
    results = run_scim2_tester(f"{live_server.url}/tahoe/scim/v2", alpha.domain, admin.token)
    print(report(results))  # the report, for `pytest -s`
    assert ESSENTIAL <= {result["title"] for result in results}, report(results)
    assert unexplained(results) == [], report(results)
    assert ALWAYS_SUCCEED <= successes(results), report(results)
