"""
Domain errors of the registration API, each with a stable machine-readable code.

Their ``user_message`` and field messages are English, marked for translation: the error
object says them in the request's language (``i18n.user_text``), its ``developer_message`` in English.
"""

from tahoe_registration_api.i18n import gettext_noop, message


class RegistrationError(Exception):
    """Base of every error the registration API reports to its caller."""

    error_code = "registration-error"
    user_message = gettext_noop("The registration could not be completed.")

    def __init__(self, developer_message=None, field_errors=None, user_message=None):
        """Keep the messages and the per-field details (``{field: message}``)."""
        self.developer_message = developer_message or self.user_message
        self.field_errors = dict(field_errors or {})
        if user_message:
            self.user_message = user_message
        super().__init__(self.developer_message)


class InvalidRegistration(RegistrationError):
    """One or more fields are missing, of the wrong type, or refused by the platform's rules."""

    error_code = "validation-error"
    user_message = gettext_noop("Some of the registration details are not valid.")


class DuplicateAccount(RegistrationError):
    """The username (platform-wide) or the email (within the site) is already taken."""

    user_message = gettext_noop("An account with these details already exists.")

    def __init__(self, fields, developer_message=None):
        """Name each conflicting field: ``username``, ``email`` or both."""
        self.fields = tuple(sorted(fields))
        # Neither message says where the existing account is: see docs/reference/rest_api.rst, "What a 409 reveals".
        messages = {
            "username": gettext_noop("This username is already taken."),
            "email": gettext_noop("An account with this email address already exists."),
        }
        super().__init__(
            developer_message or f"Conflicting fields: {', '.join(self.fields)}.",
            field_errors={field: messages[field] for field in self.fields},
        )

    @property
    def error_code(self):
        """Use the platform's codes: duplicate-username, duplicate-email, duplicate-email-username."""
        if self.fields == ("email", "username"):
            return "duplicate-email-username"
        return f"duplicate-{self.fields[0]}"


class RegistrationPrevented(RegistrationError):
    """An operator's ``StudentRegistrationRequested`` filter pipeline stopped the registration."""

    error_code = "registration-prevented"
    user_message = gettext_noop("The registration was stopped by the site's registration policy.")

    def __init__(self, message, status_code=403, error_code=None):
        """Keep the filter's message, status (a 4xx) and optional error code."""
        super().__init__(developer_message=message, user_message=message or None)
        self.status_code = status_code if 400 <= int(status_code or 0) < 500 else 403
        if error_code:
            self.error_code = error_code


class SiteNotFound(RegistrationError):
    """The request's Host names no Tahoe site."""

    error_code = "site-not-found"
    user_message = gettext_noop("This address is not a site that accepts registrations.")


class NotSiteAdmin(RegistrationError):
    """The caller is authenticated but is not an active admin of the request's site."""

    error_code = "not-site-admin"
    user_message = gettext_noop("You must be an admin of this site to register learners.")


class RegistrationApiDisabled(RegistrationError):
    """The operator switched the registration API off for this site."""

    error_code = "registration-api-disabled"
    user_message = gettext_noop("Registering learners through the API is switched off for this site.")


class RequestTooLarge(RegistrationError):
    """The request body is larger than TAHOE_REGISTRATION_API_MAX_BODY_BYTES."""

    error_code = "request-too-large"
    user_message = gettext_noop("The request body is too large.")


class TooManyLearners(RequestTooLarge):
    """A bulk call or a job holds more learners than the settings allow."""

    error_code = "too-many-learners"
    user_message = gettext_noop("There are too many learners in this request.")


class InvalidJobFile(RegistrationError):
    """A job's CSV cannot be read: no header, a required column missing, undecodable bytes."""

    error_code = "invalid-file"
    user_message = gettext_noop("The file cannot be read as a CSV of learners.")

    def __init__(self, line, problem):
        """Name the line (1 is the header) and what is wrong with it."""
        self.line = line
        line_message = message(gettext_noop("Line {line}: {problem}"), line=line, problem=message(problem))
        super().__init__(line_message, field_errors={"file": line_message})


class InternalError(RegistrationError):
    """Something unexpected failed; nothing was written for this learner."""

    error_code = "internal-error"
    user_message = gettext_noop("Something went wrong; the learner was not registered.")
    status_code = 500


class JobNotFound(RegistrationError):
    """No job of this id on the site, for this caller (the same whether or not it exists elsewhere)."""

    error_code = "job-not-found"
    user_message = gettext_noop("There is no such registration job on this site.")


class ServiceUnavailable(RegistrationError):
    """The database is unreachable or kept refusing the registration; retrying later may work."""

    error_code = "service-unavailable"
    user_message = gettext_noop("The service is temporarily unavailable. Please try again later.")


class EmailNotDelivered(Exception):
    """The platform reported no delivery of a learner's email (the email task retries it)."""


class LearnerNotFound(RegistrationError):
    """The id is not a (non-admin) learner of the caller's site, whether or not it exists elsewhere."""

    error_code = "learner-not-found"
    user_message = gettext_noop("There is no such learner on this site.")


class NothingToSend(RegistrationError):
    """The learner is active and has set a password: there is no registration email to send again."""

    error_code = "nothing-to-send"
    user_message = gettext_noop("This learner is active and has a password; there is no email to send again.")


class IdempotencyKeyReused(RegistrationError):
    """The key was first used for another request."""

    error_code = "idempotency-key-reused"
    user_message = gettext_noop("This Idempotency-Key was already used for a different request.")
    status_code = 422

    def __init__(self):
        """Name nothing else: not the other request, not its answer."""
        super().__init__("This Idempotency-Key belongs to another request of yours; use a new key.")


class IdempotencyKeyInFlight(RegistrationError):
    """The first request of the key is still running."""

    error_code = "idempotency-key-in-flight"
    user_message = gettext_noop("A request with this Idempotency-Key is still being processed; retry shortly.")
    status_code = 409
    retry_after_seconds = 1


class InvalidCourseIds(InvalidRegistration):
    """Course keys that do not parse or are no course of the site: the same answer whether they exist or not."""

    error_code = "invalid-course-ids"
    user_message = gettext_noop("Some of the courses are not courses of this site.")

    def __init__(self, course_ids, field="courses"):
        """Name each refused key, as given, under ``field``."""
        self.course_ids = list(course_ids)
        listed = ", ".join(map(str, self.course_ids))
        super().__init__(
            f"Not courses of this site: {listed}.",
            field_errors={field: message(gettext_noop("Not courses of this site (or not course keys): {listed}."),
                                         listed=listed)},
        )


class TooManyEnrollments(RequestTooLarge):
    """An enrollment call names more identifiers × courses than TAHOE_REGISTRATION_API_ENROLL_MAX."""

    error_code = "too-many-enrollments"
    user_message = gettext_noop("There are too many enrollments in this request.")


class CourseNotFound(RegistrationError):
    """No course of this id on the caller's site (the same whether or not it exists elsewhere)."""

    error_code = "course-not-found"
    user_message = gettext_noop("There is no such course on this site.")


class EnrollmentPrevented(RegistrationError):
    """An operator's enrollment filter (openedx-filters) refused an enrollment or unenrollment."""

    error_code = "enrollment-prevented"
    user_message = gettext_noop("The enrollment was stopped by the site's enrollment policy.")
    status_code = 403


class LearnerDisabled(RegistrationError):
    """The learner's account is switched off: no registration email is sent until it is switched on again."""

    error_code = "learner-disabled"
    user_message = gettext_noop("This learner's account is switched off; switch it on before sending them an email.")
    status_code = 409


class WebhookNotFound(RegistrationError):
    """No webhook endpoint of the site has this id."""

    error_code = "webhook-not-found"
    user_message = gettext_noop("There is no such webhook on this site.")
    status_code = 404


class TooManyWebhooks(RegistrationError):
    """The site has as many webhook endpoints as a site may have."""

    error_code = "too-many-webhooks"
    user_message = gettext_noop("This site has as many webhooks as a site may have; remove one first.")
    status_code = 409
