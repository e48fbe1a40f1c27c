"""Rate counts live in the shared cache: several worker processes enforce one limit together."""

import pytest
from django.core.management import call_command

from tests.conftest import Caller, Site, make_user
from tests.live_lms import LiveLms

pytestmark = [pytest.mark.mariadb]


def test_four_worker_processes_enforce_one_limit(transactional_db):  # pylint: disable=unused-argument
    call_command("createcachetable", "devlms_cache", verbosity=0)
    alpha = Site("alpha.localhost", "alpha")
    token = Caller(make_user("alpha_admin", alpha, is_admin=True)).token
    # An hour's window: the count's fixed window is not crossed while the 16 calls run (with "10/m", a
    # run that crossed a minute's boundary let an 11th call through).
    server = LiveLms(workers=4, extra_env={"DEVLMS_CACHE": "database", "DEVLMS_RATE": "10/h"})
    try:
        results = [
            server.post(alpha.domain, token, {"username": f"r{i}", "email": f"r{i}@example.com", "name": "R"})
            for i in range(16)
        ]
    finally:
        server.stop()
    statuses = [status for status, _, _ in results]
    # With a per-process count, four workers would let up to 40 through.
    assert statuses.count(200) == 10, statuses
    assert statuses.count(429) == 6, statuses
