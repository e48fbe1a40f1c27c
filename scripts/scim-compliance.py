"""
Run scim2-tester's compliance checks against a SCIM service; print each result as one JSON line.

Runs in scim2-tester's own virtualenv (``make .venv-scim-tester/.installed``: it needs a newer
pydantic than the LMS pins). Usage: ``SCIM_TOKEN=<token> scim-compliance.py <service root URL> [<Host>]``;
the token is read from the environment so that it never shows in a process list. Exits 0 once every
result is printed, whatever they are: the caller judges them.
"""

import json
import os
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server


def main(url, host=None):
    """Check the service at ``url`` (its ``Host`` header ``host``) and print the results."""
    headers = {"Authorization": f"Bearer {os.environ['SCIM_TOKEN']}"}
    if host:
        headers["Host"] = host
    client = SyncSCIMClient(Client(base_url=url, headers=headers, timeout=60))
    for result in check_server(client):
        print(json.dumps({
            "status": result.status.name, "title": result.title, "reason": result.reason or "",
            "resource_type": result.resource_type or "", "tags": sorted(result.tags or ()),
        }))


if __name__ == "__main__":
    main(*sys.argv[1:])
