"""The v2 registration endpoint: v1's, with Appsembler v2's keys in a 409's body."""

from tahoe_registration_api.exceptions import DuplicateAccount
from tahoe_registration_api.rest_api.v1.views import RegistrationView


class RegistrationV2View(RegistrationView):
    """
    Register a learner exactly as ``POST /tahoe/api/v1/registrations/`` does.

    ``POST /tahoe/api/v2/registrations/`` takes the same body, credentials and rules. Its 409
    body is v1's error object plus Appsembler v2's ``invalid-params``: the sorted list of the
    conflicting fields (``["email"]``, ``["username"]`` or ``["email", "username"]``); its
    ``user_message`` is the error object's own.
    """

    def handle_exception(self, exc):
        """Answer as v1, adding ``invalid-params`` to a 409."""
        response = super().handle_exception(exc)
        if isinstance(exc, DuplicateAccount):
            response.data["invalid-params"] = sorted(exc.fields)
        return response
