"""The SCIM service's refusals: an HTTP status, a SCIM error type (``scimType``) and a detail naming what is wrong."""


class ScimProblem(Exception):
    """A request the SCIM service refuses; answered as a SCIM ``Error`` (RFC 7644 section 3.12)."""

    def __init__(self, status, detail, scim_type=None):
        """Name the status (an int), what is wrong (``detail``) and, for a 400 or 409, the SCIM error type."""
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type


def invalid_value(attribute, message):
    """Return a 400 ``invalidValue`` naming the attribute."""
    return ScimProblem(400, f"{attribute}: {message}", "invalidValue")


def not_found(user_id):
    """Return the 404 of an id that is no learner of the site (or one the provider deleted)."""
    return ScimProblem(404, f"No User {user_id} on this site.")
