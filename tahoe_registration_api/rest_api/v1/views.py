"""The v1 registration endpoint."""

from django.db import transaction
from django.utils.decorators import method_decorator
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from tahoe_registration_api import api, audit, pipeline
from tahoe_registration_api.adapter import platform_adapter
from tahoe_registration_api.exceptions import InvalidRegistration, LearnerNotFound
from tahoe_registration_api.i18n import gettext_noop
from tahoe_registration_api.lookups import user_id_fits
from tahoe_registration_api.rest_api import idempotency
from tahoe_registration_api.rest_api.authentication import AUTHENTICATION_CLASSES
from tahoe_registration_api.rest_api.errors import exception_handler
from tahoe_registration_api.rest_api.parsers import (
    PARSER_CLASSES,
    enforce_body_limit,
    enforce_charset,
)
from tahoe_registration_api.rest_api.renderers import RENDERER_CLASSES
from tahoe_registration_api.rest_api.throttling import CallerSiteRateThrottle, rate_limit_headers
from tahoe_registration_api.rest_api.v1.permissions import IsSiteAdmin, request_organization
from tahoe_registration_api.rest_api.v1.serializers import (
    RegistrationRequestSerializer,
    RegistrationResponseSerializer,
)

DRY_RUN_VALUES = {"true": True, "1": True, "false": False, "0": False}


def dry_run_requested(request):
    """Read ``?dry_run=``: true/false (any case) or 1/0; anything else is a 400 naming ``dry_run``."""
    value = request.query_params.get("dry_run")
    if value is None:
        return False
    if value.strip().lower() not in DRY_RUN_VALUES:
        raise InvalidRegistration(field_errors={"dry_run": gettext_noop("Must be true or false.")})
    return DRY_RUN_VALUES[value.strip().lower()]


class TahoeApiView(APIView):
    """Base of every view of the plugin: one authentication, permission, limit, error and audit policy."""

    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = (IsSiteAdmin,)
    throttle_classes = (CallerSiteRateThrottle,)
    parser_classes = PARSER_CLASSES
    renderer_classes = RENDERER_CLASSES
    rate_limit_usage = None
    lms_user = None
    audit_action = "register"
    audit_learner_id = None  # the learner a call concerns, when its answer does not name them
    audit_actions_by_method = {}  # the action of a method whose calls are audited when ``audit_action`` is None
    idempotency = None  # the request's Idempotency-Key in use, if any
    body_limit_setting = "TAHOE_REGISTRATION_API_MAX_BODY_BYTES"

    def get_exception_handler(self):
        """Use the plugin's handler whatever the LMS's ``REST_FRAMEWORK`` says."""
        return exception_handler

    def initial(self, request, *args, **kwargs):
        """Refuse an oversized or non-UTF-8 body before anything reads it; keep the user the LMS's middleware found."""
        self.lms_user = getattr(request._request, "user", None)  # unevaluated: the session's user, if any
        enforce_body_limit(request, self.body_limit_setting)
        enforce_charset(request)  # before the session's CSRF check reads a form body
        super().initial(request, *args, **kwargs)

    def replay_or_claim_key(self, request, dry_run):
        """
        Give the stored answer of the request's ``Idempotency-Key``, or claim the key for this request.

        Returns the answer to give again (with ``Idempotent-Replayed``), or None: the request runs,
        and ``finalize_response`` keeps its answer for the key. A dry run never uses a key.
        """
        key = None if dry_run else idempotency.key_of(request)
        if key is None:
            return None
        self.idempotency = idempotency.Idempotency(request, key)
        return self.idempotency.replay_or_claim()

    def check_permissions(self, request):
        """Count the caller's rate before deciding its permission, so refused callers are limited too."""
        super().check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request):
        """Do nothing here: DRF would throttle after the permission; ``check_permissions`` did it before."""

    def finalize_response(self, request, response, *args, **kwargs):
        """Keep an idempotent answer; add the rate-limit and request-id headers; write the audit record."""
        if self.idempotency is not None:  # keep the answer (a 200, 400 or 409) for the key, or give the key up
            self.idempotency.store(response.status_code, getattr(response, "data", None))
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.rate_limit_usage is not None:
            for header, value in rate_limit_headers(self.rate_limit_usage).items():
                response[header] = value
        response[audit.REQUEST_ID_HEADER] = audit.request_id(request)
        action = self.audit_action or self.audit_actions_by_method.get(request.method)
        if action:
            audit.record_attempt(request, response, action, learner_id=self.audit_learner_id)
        self.forget_stateless_caller(request)
        return response

    def forget_stateless_caller(self, request):
        """
        Give the LMS's request back the user its middleware found, unless the caller used the session.

        DRF puts the caller it authenticated on the LMS's request too. A token, JWT or bearer
        credential authenticates this one call: left there, the LMS's middleware would treat the
        caller as signed in and write a session (and its cookie) on the way out.
        """
        if isinstance(getattr(request, "_authenticator", None), SessionAuthentication):
            return
        if self.lms_user is not None:
            request._request.user = self.lms_user


# The LMS runs ATOMIC_REQUESTS; a registration manages its own transaction so that its
# claims commit or vanish with the account and a deadlock can be retried from the start.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class RegistrationView(TahoeApiView):
    """
    Register a learner on the site named by the request's Host.

    ``POST /tahoe/api/v1/registrations/`` by an active admin of the site, authenticated with
    ``Authorization: Token <token>`` (documented), ``JWT <jwt>``, ``Bearer <oauth2 token>``
    or a session with its CSRF token, and a JSON body:

    * ``username`` (string, required): unique on the whole platform, case-insensitively.
    * ``email`` (string, required): unique within the site's organization, case-insensitively.
    * ``name`` (string, required): the learner's full name.
    * ``password`` (string, optional; ``null`` or ``""`` mean none): the platform's password
      policy applies. Without it the learner gets the password-reset ("set your password")
      email and stays inactive until they set one.
    * ``send_activation_email`` (boolean, optional, default true; ``"true"``/``"false"`` in
      any case are accepted): with a password, ``false`` creates an active account and
      sends no email. Without a password it is forced to false.

    * ``language`` (string, optional): one of the LMS's languages (its released ones where
      dark-lang is on), kept as the learner's ``pref-lang``; without it, the request's language.

    * The fields of the LMS's extension form (``REGISTRATION_EXTENSION_FORM``, Verawood's
      ``PROFILE_EXTENSION_FORM``), by their names, when it has one: validated by that form and
      stored where the platform stores them; a refused one is a 400 naming it.

    Other fields are ignored. The Terms of Use / Privacy Policy (and honor code) are
    accepted on the learner's behalf.

    ``Idempotency-Key`` (header, 1-255 printable ASCII characters): the same key and request
    again gets the first 200, 400 or 409 again with ``Idempotent-Replayed: true``; the key with
    another request is a 422 ``idempotency-key-reused``; while its first request runs, a 409
    ``idempotency-key-in-flight`` with ``Retry-After``.

    ``?dry_run=true`` runs every check of a real call (fields, password policy, uniqueness on
    the site and platform-wide, the registration filter, switches and permissions, the rate
    limit) and answers 200 ``{"dry_run": true}`` or the very error a real call would give; it
    writes nothing, sends nothing and emits no event.

    Answers 200 ``{"user_id": N}``; otherwise the Open edX error object (``error_code``,
    ``user_message``, ``developer_message``, ``field_errors``) with 400 (invalid fields),
    401 (no or bad credentials), 403 (not an admin of this site, or the API is switched
    off for it), 409 (username or email taken), 413 (body too large), 422 (an Idempotency-Key
    reused), 429 (over the rate limit, with ``Retry-After``) or 503 (database unavailable).
    """

    def post(self, request):
        """Validate the body, register the learner, answer ``{"user_id": N}`` (``{"dry_run": true}`` for a dry run)."""
        dry_run = dry_run_requested(request)
        serializer = RegistrationRequestSerializer(  # parsed first: a 415 claims no key
            data=request.data, context={"extension_fields": platform_adapter().extension_field_names()})
        if (replay := self.replay_or_claim_key(request, dry_run)) is not None:
            return replay
        serializer.is_valid(raise_exception=True)
        if dry_run:
            self.audit_action = "dry_run"
        registrar = pipeline.Pipeline(site=request.site, organization=request_organization(request),
                                      request=request, dry_run=dry_run)
        # A single call is the pipeline's sequence of one; a refusal is raised as the error it is.
        outcome = registrar.one(serializer.to_registration(),
                                in_transaction=self._store_with_registration if self.idempotency else None)
        if outcome.error is not None:
            raise outcome.error
        if dry_run:
            return Response({"dry_run": True}, status=status.HTTP_200_OK)
        return Response(RegistrationResponseSerializer({"user_id": outcome.user_id}).data, status=status.HTTP_200_OK)

    def _store_with_registration(self, user):
        """Keep the 200's answer for the Idempotency-Key in the registration's transaction."""
        self.idempotency.store_with_registration(RegistrationResponseSerializer({"user_id": user.id}).data)


class ResendView(TahoeApiView):
    """
    Send a learner of the site the registration email they are still waiting for.

    ``POST /tahoe/api/v1/registrations/<user_id>/resend/`` (empty body) by an active admin of the
    site, with the credentials, switches and rate limit of a registration. A learner who never
    set a password gets the "set your password" email again, an inactive learner with a password
    the activation email: 202 ``{"user_id": N, "email": "password-reset"}`` (or ``"activation"``).
    409 ``nothing-to-send`` for an active learner with a password; 404 ``learner-not-found``
    for an id that is not a non-admin learner of this site, whether or not it exists elsewhere.
    """

    audit_action = "resend"

    def post(self, request, user_id):
        """Queue the email; answer which one."""
        if not user_id_fits(user_id):
            raise LearnerNotFound(f"No learner {user_id} on this site.")
        email = api.resend_registration_email(
            user_id, site=request.site, organization=request_organization(request), request=request,
        )
        return Response({"user_id": user_id, "email": email}, status=status.HTTP_202_ACCEPTED)
