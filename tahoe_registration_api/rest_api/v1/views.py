"""The v1 registration endpoint."""

from django.db import transaction
from django.utils.decorators import method_decorator
from rest_framework import status
from rest_framework.authentication import TokenAuthentication
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from tahoe_registration_api import api
from tahoe_registration_api.rest_api.errors import exception_handler
from tahoe_registration_api.rest_api.v1.permissions import IsSiteAdmin, request_organization
from tahoe_registration_api.rest_api.v1.serializers import (
    RegistrationRequestSerializer,
    RegistrationResponseSerializer,
)


class TahoeApiView(APIView):
    """Base of every view of the plugin: one authentication, permission and error policy."""

    authentication_classes = (TokenAuthentication,)
    permission_classes = (IsSiteAdmin,)
    parser_classes = (JSONParser, FormParser)
    renderer_classes = (JSONRenderer,)

    def get_exception_handler(self):
        """Use the plugin's handler whatever the LMS's ``REST_FRAMEWORK`` says."""
        return exception_handler


# The platform's account creation refuses to run inside ATOMIC_REQUESTS' transaction;
# the registration manages (and retries) its own transaction.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class RegistrationView(TahoeApiView):
    """
    Register a learner on the site named by the request's Host.

    ``POST /tahoe/api/v1/registrations/`` with ``Authorization: Token <token>`` of an
    active admin of the site, and a JSON body:

    * ``username`` (string, required): unique on the whole platform, case-insensitively.
    * ``email`` (string, required): unique within the site's organization, case-insensitively.
    * ``name`` (string, required): the learner's full name.
    * ``password`` (string, optional): the platform's password policy applies. Without it
      the learner gets the password-reset ("set your password") email and stays inactive
      until they set one.
    * ``send_activation_email`` (boolean, optional, default true; ``"true"``/``"false"`` in
      any case are accepted): with a password, ``false`` creates an active account and
      sends no email. Without a password it is forced to false.

    Other fields are ignored. The Terms of Use / Privacy Policy (and honor code) are
    accepted on the learner's behalf.

    Answers 200 ``{"user_id": N}``; otherwise the Open edX error object (``error_code``,
    ``user_message``, ``developer_message``, ``field_errors``) with 400 (invalid fields),
    401 (no or bad credentials), 403 (not an admin of this site), 409 (username or
    email taken), 429 (over the rate limit) or 503 (database unavailable).
    """

    def post(self, request):
        """Validate the body, register the learner, answer ``{"user_id": N}``."""
        serializer = RegistrationRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = api.register_user(
            serializer.to_registration(),
            site=request.site,
            organization=request_organization(request),
            request=request,
        )
        return Response(RegistrationResponseSerializer({"user_id": result.user_id}).data, status=status.HTTP_200_OK)
