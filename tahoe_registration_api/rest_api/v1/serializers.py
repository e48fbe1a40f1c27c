"""Serializers of the v1 registration endpoint: they map the body to ``learner_input`` (the domain), shape answers."""

from collections.abc import Mapping

from rest_framework import serializers
from rest_framework.utils import html

from tahoe_registration_api import learner_input
from tahoe_registration_api.exceptions import InvalidRegistration
from tahoe_registration_api.i18n import gettext_noop, message


def form_fields(form, extension_fields=()):
    """
    Return a form-encoded body's fields as DRF read forms: an empty ``language`` is null, an empty boolean absent.

    With them the values of the LMS's extension form's fields (``extension_fields``), if any.
    """
    names = learner_input.FIELDS + learner_input.ENROLLMENT_FIELDS + learner_input.extension_names(extension_fields)
    fields = {name: form[name] for name in names if name in form}  # a repeated key: its last value
    if fields.get("language") == "":
        fields["language"] = None
    if fields.get("send_activation_email") == "":
        del fields["send_activation_email"]
    return fields


class RegistrationRequestSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """
    The request body, validated by the domain (``learner_input.parse_registration``); other fields are ignored.

    The fields of the LMS's extension form (their names in the context's ``extension_fields``)
    are read too; the form validates them, in the adapter.

    The declared fields only describe the body (names, which are required, lengths: the OpenAPI
    document is checked against them); they validate nothing.
    """

    username = serializers.CharField(min_length=learner_input.USERNAME_MIN_LENGTH)
    email = serializers.EmailField(min_length=learner_input.EMAIL_MIN_LENGTH, max_length=learner_input.EMAIL_MAX_LENGTH)
    name = serializers.CharField(max_length=learner_input.NAME_MAX_LENGTH)
    password = serializers.CharField(required=False, allow_blank=True, allow_null=True, trim_whitespace=False,
                                     max_length=learner_input.PASSWORD_MAX_LENGTH)
    send_activation_email = serializers.BooleanField(required=False, default=True)
    language = serializers.CharField(required=False, allow_null=True, max_length=learner_input.LANGUAGE_MAX_LENGTH)
    courses = serializers.ListField(child=serializers.CharField(), required=False,
                                    max_length=learner_input.COURSES_MAX)
    mode = serializers.CharField(required=False, allow_null=True, max_length=learner_input.MODE_MAX_LENGTH)

    def get_fields(self):
        """Describe the username with its length of now (USERNAME_MAX_LENGTH is an operator setting)."""
        fields = super().get_fields()
        fields["username"] = serializers.CharField(
            min_length=learner_input.USERNAME_MIN_LENGTH, max_length=learner_input.username_max_length())
        return fields

    domain_error = None  # the domain's InvalidRegistration of the last validation, if any

    def to_internal_value(self, data):
        """Return the body as a ``RegistrationRequest``; the domain's field errors become DRF's, keyed by field."""
        if not isinstance(data, Mapping):
            # DRF's own 400, its message (and msgid) kept, in English beside its translation.
            refusal = message(gettext_noop("Invalid data. Expected a dictionary, but got {datatype}."),
                              datatype=type(data).__name__)
            self.domain_error = InvalidRegistration("Invalid fields: non_field_errors.",
                                                    field_errors={"non_field_errors": refusal})
            return super().to_internal_value(data)
        extension_fields = self.context.get("extension_fields", ())
        if html.is_html_input(data):
            data = form_fields(data, extension_fields)
        try:
            return learner_input.parse_registration(data, extension_fields)
        except InvalidRegistration as exc:
            self.domain_error = exc
            raise serializers.ValidationError(
                {field: [text] for field, text in exc.field_errors.items()}) from exc

    def is_valid(self, *, raise_exception=False):
        """
        Validate; with ``raise_exception``, raise the domain's ``InvalidRegistration`` where there is one.

        It is the error object DRF's ``ValidationError`` would give, but its messages keep their
        English (``developer_message``) beside their translation (``user_message``).
        """
        self.domain_error = None
        valid = super().is_valid()
        if not valid and raise_exception:
            raise self.domain_error or serializers.ValidationError(self.errors)
        return valid

    def to_registration(self):
        """Return the validated body: a ``RegistrationRequest``."""
        return self.validated_data


class RegistrationResponseSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """The success body: ``{"user_id": N}``."""

    user_id = serializers.IntegerField()


class CourseModeSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """One of a course's enrollment modes."""

    slug = serializers.CharField()
    name = serializers.CharField()
    min_price = serializers.IntegerField()
    currency = serializers.CharField()
    expiration_datetime = serializers.DateTimeField(allow_null=True)


class CourseSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """A course of the site, as the platform's course overview and modes describe it."""

    id = serializers.CharField()
    display_name = serializers.CharField()
    org = serializers.CharField()
    number = serializers.CharField()
    start = serializers.DateTimeField(allow_null=True)
    end = serializers.DateTimeField(allow_null=True)
    enrollment_start = serializers.DateTimeField(allow_null=True)
    enrollment_end = serializers.DateTimeField(allow_null=True)
    modes = CourseModeSerializer(many=True)


class EnrollmentSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """An enrollment in a course of the site (an inactive one is an unenrollment)."""

    course_id = serializers.CharField()
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    mode = serializers.CharField()
    is_active = serializers.BooleanField()
    created = serializers.DateTimeField()


def enrollment_answer(request, results, dry_run):
    """Return an enrollment call's answer, in the shape of the platform's bulk enroll API (plus the API's own keys)."""
    answer = {
        "action": request.action,
        "auto_enroll": request.auto_enroll,
        "email_students": request.email_learners,  # the bulk enroll API's name
        "email_learners": request.email_learners,
        "mode": request.mode,
        "courses": {
            key: {"action": request.action, "auto_enroll": request.auto_enroll,
                  "results": [change.as_dict() for change in changes]}
            for key, changes in results.items()
        },
    }
    if dry_run:
        answer["dry_run"] = True
    return answer


class LearnerSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """A learner of the site: ``is_active`` says activated (the platform's meaning), ``disabled`` switched off."""

    user_id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    name = serializers.CharField(allow_blank=True)
    is_active = serializers.BooleanField()
    disabled = serializers.BooleanField()
    language = serializers.CharField(allow_null=True)
    date_joined = serializers.DateTimeField()
