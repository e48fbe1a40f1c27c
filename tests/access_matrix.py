"""The expected access matrix: (endpoint x credential kind x caller role x site) -> HTTP status."""

CREDENTIALS = [
    "none", "malformed", "unknown", "expired", "Token", "JWT", "OAuth2 bearer", "session+CSRF", "session, no CSRF",
]
VALID_CREDENTIALS = ["Token", "JWT", "OAuth2 bearer", "session+CSRF"]
ROLES = ["alpha admin", "alpha learner", "beta admin", "inactive alpha admin", "staff", "superuser"]
SITES = ["alpha", "beta"]
# The endpoints of the matrix: (method, path); "{site}" is the short name of the site called, "{learner}"
# the id of a learner of that site. Reads and changes beside registration: every view of the API takes
# the same authentication and permission classes (tests/test_structure.py checks that each view shares
# the one policy).
ENDPOINTS = {
    "register": ("POST", "/tahoe/api/v1/registrations/"),
    "list courses": ("GET", "/tahoe/api/v1/courses/"),
    "enroll": ("POST", "/tahoe/api/v1/enrollments/"),
    "get a learner": ("GET", "/tahoe/api/v1/learners/{learner}/"),
    "change a learner": ("PATCH", "/tahoe/api/v1/learners/{learner}/"),
    "list webhooks": ("GET", "/tahoe/api/v1/webhooks/"),
    "create a webhook": ("POST", "/tahoe/api/v1/webhooks/"),
}
CREATED = {"create a webhook"}  # a success is a 201
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# SCIM (``/tahoe/scim/v2/``): identity providers send one bearer token, the site admin's API token; the
# platform's OAuth2 token, the documented Token and a JWT work too; sessions do not (machine to machine).
SCIM_CREDENTIALS = CREDENTIALS + ["API token as Bearer"]
SCIM_ENDPOINTS = {
    "list SCIM users": ("GET", "/tahoe/scim/v2/Users"),
    "create a SCIM user": ("POST", "/tahoe/scim/v2/Users"),
}


def expected_status(credential, role, site, staff_allowed=False, method="POST"):
    """What the contract promises for one cell (a session's CSRF token is checked on unsafe methods only)."""
    if credential in ("none", "malformed", "unknown", "expired"):
        return 401
    if role == "inactive alpha admin":
        return 401
    if credential == "session, no CSRF" and method not in SAFE_METHODS:
        return 403
    if role in ("staff", "superuser"):
        return 200 if staff_allowed else 403
    return 200 if role == f"{site} admin" else 403


def expected_scim_status(credential, role, site, staff_allowed=False):
    """What the SCIM service promises for one cell: no session is a credential there."""
    if credential.startswith("session"):
        return 401
    return expected_status(credential, role, site, staff_allowed)


def render(staff_allowed=False):
    """The matrix of an unsafe method (a POST) as a text table (printed in the closing note)."""
    header = ["credential", "role"] + [f"@{site}" for site in SITES]
    rows = [header]
    for credential in CREDENTIALS:
        for role in ROLES if credential in VALID_CREDENTIALS + ["session, no CSRF"] else ["any"]:
            rows.append([credential, role] + [
                str(expected_status(credential, role if role != "any" else "alpha admin", site, staff_allowed))
                for site in SITES
            ])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows)


if __name__ == "__main__":
    print(render())
    print("\nwith TAHOE_REGISTRATION_API_ALLOW_STAFF = True, staff and superuser rows become 200 on both sites")
    print("on a GET (the course, enrollment and learner lists, one course, one learner), 'session, no CSRF' answers "
          "as 'session+CSRF'")
