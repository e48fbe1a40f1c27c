"""
The one module that calls the Open edX platform.

Every verb imports the platform lazily, so the package imports and its tests run
without the platform. Written for upstream Open edX, Sumac to Verawood; see
``docs/decisions/0002-create-accounts-from-the-platforms-form-and-models.rst``, and
``docs/decisions/0018-the-platform-boundary-in-verawoods-source.rst`` for each name checked
in Verawood's source.

Verb called inside the registration's transaction: ``create_account``; by a dry run:
``validate_account``; by the drivers, to read a learner's fields: ``extension_field_names``. Verb called after it
committed: ``announce_registration``. Verbs called by the email task on a Celery worker:
``send_activation_email``, ``send_password_reset_email``, ``send_enrollment_email``. Verbs of the
site's courses and enrollments (``courses.py``, ``enrollments.py``): ``existing_course_keys``,
``describe_courses``, ``course_modes``, ``enrollment_rows``, ``enrollment_state``, ``enroll``,
``unenroll``, ``allow_enrollment``, ``disallow_enrollment``, ``record_manual_enrollment``. Verbs of the
site's learners (``learners.py``): ``learner_profiles``, ``email_taken_by_another``, ``change_learner_email``,
``change_learner_name``, ``change_learner_language``, ``disable_learner``, ``enable_learner``; and the
email task's ``send_email_change_notice``.
"""

import json
import secrets
import uuid
from contextlib import contextmanager

import crum
from django.conf import settings
from django.test import RequestFactory
from edx_django_utils.cache import RequestCache

from tahoe_registration_api import hashing
from tahoe_registration_api.data import EnrollmentState, NewAccount
from tahoe_registration_api.exceptions import (
    DuplicateAccount,
    EmailNotDelivered,
    EnrollmentPrevented,
    InvalidRegistration,
)
from tahoe_registration_api.features import feature

# A stored password value that is no valid hash and does not start with "!": no password
# ever matches it, yet the platform's reset flows (emailed link and "forgot password")
# accept the learner. See docs/decisions/0004-passwordless-learners-without-hashing.rst.
UNSET_PASSWORD_PREFIX = "tahoe-registration-api$unset$"
# The request cache in which the platform keeps the current site's configuration
# (``site_configuration.helpers.get_current_site_configuration``).
SITE_CONFIGURATION_CACHE = "site_config"


def unset_password_value():
    """Return a stored password value that matches no password and keeps reset possible."""
    return UNSET_PASSWORD_PREFIX + secrets.token_urlsafe(24)


def password_was_set(user):
    """Whether the learner has a password of their own (not the unset value, nor an unusable one)."""
    return user.has_usable_password() and not user.password.startswith(UNSET_PASSWORD_PREFIX)


def _platform_conflicts(username, email):
    """Return the fields the platform's own (global) duplicate checks refuse, retired accounts included."""
    from common.djangoapps.student.models import (
        email_exists_or_retired,
        username_exists_or_retired,
    )

    conflicts = set()
    if username_exists_or_retired(username):
        conflicts.add("username")
    if email_exists_or_retired(email):
        conflicts.add("email")
    return conflicts


@contextmanager
def _as_a_request_of(site, user, secure=False):
    """
    Run platform code that reads "the current site" as a request of ``site`` would, then undo it.

    The platform builds and sends emails from the current request's site (its configuration:
    name, sender, links). A Python caller may have no request, or one of another site: then the
    block runs under the platform's ``emulate_http_request``, on a request for the site's domain
    (over HTTPS when ``secure``) where there was none. That helper rewrites the current
    request's ``site`` and ``user``, and so do the platform's email tasks where Celery runs them
    eagerly, inside the API call being answered: without the undo, the LMS's middleware would
    see the learner as the caller (and store the learner's email in a session).
    """
    from openedx.core.lib.celery.task_utils import emulate_http_request

    request = crum.get_current_request()
    attributes = request.__dict__ if request is not None else {}
    kept = {name: attributes[name] for name in ("site", "user") if name in attributes}
    emulated = request is None or kept.get("site") != site  # else: the API call itself, of this site
    try:
        if emulated:
            crum.set_current_request(request or RequestFactory().get("/", SERVER_NAME=site.domain, secure=secure))
            RequestCache(SITE_CONFIGURATION_CACHE).clear()  # what the platform cached of another site
            with emulate_http_request(site=site, user=user):
                yield
        else:
            yield
    finally:
        if emulated:
            RequestCache(SITE_CONFIGURATION_CACHE).clear()
        crum.set_current_request(request)
        if request is not None:
            for name in ("site", "user"):
                if name in kept:
                    setattr(request, name, kept[name])
                else:
                    request.__dict__.pop(name, None)


def _site_value(name, default):
    """Read a site-configuration value, falling back to the LMS setting."""
    from openedx.core.djangoapps.site_configuration import helpers as configuration_helpers

    return configuration_helpers.get_value(name, getattr(settings, name, default))


def _account_form(registration):
    """Bind the platform's ``AccountCreationForm`` to the registration, terms accepted on the learner's behalf."""
    from openedx.core.djangoapps.user_authn.views.registration_form import (
        AccountCreationForm,
    )

    configured = _site_value("REGISTRATION_EXTRA_FIELDS", {}) or {}
    # Only the agreements apply: the caller vouches for them. Other extra fields a site
    # requires of self-service sign-up (country, city, ...) are not part of this API.
    extra_fields = {key: configured[key] for key in ("honor_code", "terms_of_service") if key in configured}
    tos_required = extra_fields.get("terms_of_service") != "hidden" or extra_fields.get("honor_code") != "hidden"
    data = {
        "username": registration.username,
        "email": registration.email,
        "name": registration.name,
        # The form requires a password; for a passwordless learner it validates a random
        # one that is never stored (the policy is skipped, as for third-party sign-up).
        "password": registration.password if registration.has_password else secrets.token_urlsafe(32),
        # The form's check lower-cases the value and compares it with the string "true".
        "terms_of_service": "true",
        "honor_code": "true",
    }
    return AccountCreationForm(
        data=data,
        extra_fields=extra_fields,
        extended_profile_fields=[],
        do_third_party_auth=not registration.has_password,
        tos_required=tos_required,
    )


def _extension_form_loader():
    """
    Return the platform's function that builds the operator's extension form (None when it names none).

    The release's own mechanism, so that the API takes the very form the LMS's sign-up takes: up to
    Ulmo ``get_registration_extension_form`` reads ``REGISTRATION_EXTENSION_FORM``; Verawood's reads
    ``PROFILE_EXTENSION_FORM``, else the deprecated ``REGISTRATION_EXTENSION_FORM``; later releases
    call it ``get_profile_extension_form``. The newer name is taken where it exists. See
    docs/decisions/0017-the-sites-own-profile-fields-from-the-platforms-extension-form.rst.
    """
    from openedx.core.djangoapps.user_authn.views import registration_form

    return getattr(registration_form, "get_profile_extension_form", None) or (
        registration_form.get_registration_extension_form
    )


def extension_field_names():
    """Return the names of the fields of the LMS's extension form, in its order; () when it has none."""
    form = _extension_form_loader()()
    return tuple(form.fields) if form is not None else ()


def _extension_form(registration):
    """
    Bind the LMS's extension form to the learner's extension fields; None when the LMS has none.

    As the platform's registration binds one set of data to both forms, a form field named like one
    of the API's own fields is given the API's username, email or full name; never the password.
    """
    data = dict(registration.extension_fields)
    data.update(username=registration.username, email=registration.email, name=registration.name)
    return _extension_form_loader()(data=data)


def _form_errors(form):
    """Flatten the form's errors into ``{field: message}`` (a form-wide error under ``non_field_errors``)."""
    return {
        "non_field_errors" if field == "__all__" else field: " ".join(str(message) for message in messages)
        for field, messages in form.errors.items()
    }


def _valid_form(registration):
    """
    Return the platform's bound, valid forms: the account's and the extension's (or None).

    Both are validated, as the platform's registration validates them together; raises
    ``DuplicateAccount``, or ``InvalidRegistration`` naming the fields either form refuses.
    """
    form = _account_form(registration)
    extension_form = _extension_form(registration)
    errors = {}
    if not form.is_valid():
        # The form refuses an email taken anywhere (retired ones included) among its other
        # rules; a duplicate is a 409, checked only on this path, where it costs nothing extra.
        if conflicts := _platform_conflicts(registration.username, registration.email):
            raise DuplicateAccount(conflicts)
        errors.update(_form_errors(form))
    if extension_form is not None and not extension_form.is_valid():
        errors.update(_form_errors(extension_form))
    if errors:
        raise InvalidRegistration("Invalid fields: " + ", ".join(sorted(errors)) + ".", field_errors=errors)
    return form, extension_form


def _save_extension(extension_form, user, profile):
    """
    Store the extension form's values where the platform's registration stores them: the form's model.

    As ``do_create_account``: ``save(commit=False)``, the new user set, saved (in the caller's
    transaction). A form without a model (a plain ``Form``, which the platform's own registration
    cannot save) has its values kept in the profile's ``meta``, where the platform's account API
    reads extended profile fields that have no model.
    """
    if hasattr(extension_form, "save"):
        instance = extension_form.save(commit=False)
        instance.user = user
        instance.save()
        if hasattr(extension_form, "save_m2m"):
            extension_form.save_m2m()
    else:
        profile.meta = json.dumps(extension_form.cleaned_data, default=str)


def validate_account(registration):
    """
    Run the platform's checks of a registration and write nothing (a dry run).

    The form's rules (password policy included), and the global duplicates with retired
    usernames and emails, which a real call meets when the user is saved.
    """
    _valid_form(registration)
    if conflicts := _platform_conflicts(registration.username, registration.email):
        raise DuplicateAccount(conflicts)


def hash_password_ahead(registration):
    """
    Start hashing the learner's password (``hashing.start``) if the platform's policy accepts it; else None.

    The policy as the platform's form applies it (its ``validate_password``, with a user of the
    learner's username and email), to the password as the form cleans it (stripped) and as
    ``create_account`` hashes it (normalized): a password the form refuses is never hashed.
    """
    from common.djangoapps.util.password_policy_validators import normalize_password, validate_password
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError

    if not registration.has_password:
        return None
    password = registration.password.strip()
    try:
        validate_password(password, get_user_model()(username=registration.username.strip(),
                                                     email=registration.email.strip()))
    except ValidationError:
        return None
    return hashing.start(normalize_password(password))


def create_account(registration, site):
    """
    Create the learner's user, activation record and profile, as ``do_create_account`` does.

    Runs inside the caller's transaction. Hashes the password once when one is given and
    never otherwise; the account is active only when no activation email is wanted.
    """
    from common.djangoapps.student.helpers import AccountValidationError
    from common.djangoapps.student.models import Registration, UserAttribute, UserProfile
    from common.djangoapps.util.password_policy_validators import normalize_password
    from django.contrib.auth import get_user_model
    from django.utils.translation import get_language
    from openedx.core.djangoapps.lang_pref import LANGUAGE_KEY
    from openedx.core.djangoapps.user_api.models import UserPreference

    form, extension_form = _valid_form(registration)
    user = get_user_model()(
        username=form.cleaned_data["username"],
        email=form.cleaned_data["email"],
        is_active=False,
    )
    if registration.has_password:  # hashed ahead when the registration started it (hashing.ahead)
        hashing.set_password(user, normalize_password(form.cleaned_data["password"]))
    else:
        user.password = unset_password_value()
    try:
        user.save()  # the platform's pre_save receiver refuses retired usernames and emails
    except AccountValidationError as exc:
        raise DuplicateAccount({exc.field}) from exc

    # One INSERT: the profile is new, so the platform's save receivers on it (they compare it with
    # the stored one, to report changed settings and forget a cached country) have nothing to do.
    profile = UserProfile(user=user, name=form.cleaned_data["name"])
    if extension_form is not None:
        _save_extension(extension_form, user, profile)
    UserProfile.objects.bulk_create([profile])
    # As create_account_with_params: the learner's language, or the one of the registering request.
    # One INSERT: the user is new, so there is no old value for the preference's save receivers
    # to look up or report (they would emit edx.user.settings.changed, from nothing to this value).
    UserPreference.objects.bulk_create(
        [UserPreference(user=user, key=LANGUAGE_KEY, value=registration.language or get_language())]
    )
    if site.id != settings.SITE_ID:
        # As the platform's create_or_set_user_attribute_created_on_site, without its
        # update_or_create: the user is new, so the attribute cannot exist yet.
        UserAttribute.objects.create(user=user, name="created_on_site", value=site.domain)
    # The activation record as Registration.register makes it; an account that wants no
    # activation email is activated by the platform's own Registration.activate, which saves
    # the record (once, here) and sends USER_ACCOUNT_ACTIVATED. Last, as in the platform's own
    # registration: activating enrolls the courses that pre-enrolled the email (auto_enroll), and
    # that enrollment reads the learner's profile.
    activation = Registration(user=user, activation_key=uuid.uuid4().hex)
    if registration.has_password and not registration.send_activation_email:
        activation.activate()
    else:
        activation.save()
    return NewAccount(user=user, platform_records={"profile": profile, "registration": activation})


def announce_registration(account):
    """Send the platform's ``REGISTER_USER`` signal for a committed account."""
    from openedx.core.djangoapps.user_authn.views.register import (
        REGISTER_USER,
    )

    REGISTER_USER.send(sender=None, user=account.user, registration=account.platform_records["registration"])


@contextmanager
def _delivery_to(user=None, email=None):
    """
    Raise ``EmailNotDelivered`` unless an ACE message reached ``user`` (or the address ``email``) during the block.

    ACE reports a delivery by its ``ACE_MESSAGE_SENT`` signal, and swallows (logs) the SMTP errors
    of its email channel: without this, a failed send would look like a sent one.
    """
    from edx_ace.signals import ACE_MESSAGE_SENT

    delivered = []

    def receiver(sender, message, **kwargs):  # pylint: disable=unused-argument
        recipient = message.get("recipient", {})
        if (user is not None and str(recipient.get("user_id")) == str(user.id)) or (
                email is not None and str(recipient.get("email", "")).lower() == email.lower()):
            delivered.append(message.get("name"))

    ACE_MESSAGE_SENT.connect(receiver, weak=False)
    try:
        yield
    finally:
        ACE_MESSAGE_SENT.disconnect(receiver)
    if not delivered:
        raise EmailNotDelivered(f"No email reached {'learner ' + str(user.id) if user is not None else 'its address'}.")


def send_activation_email(user, site):
    """
    Send the platform's activation email to an inactive learner of ``site``, branded for ``site``.

    What ``compose_and_send_activation_email`` and the platform's ``send_activation_email`` task
    do together, on the plugin's own task: composed and sent as a request of ``site`` (the
    platform queues its task without a site, so it renders under the default one).
    """
    from common.djangoapps.student.models import Registration, UserProfile
    from common.djangoapps.student.views.management import compose_activation_email
    from edx_ace import ace
    from openedx.core.djangoapps.site_configuration import helpers as configuration_helpers

    with _as_a_request_of(site, user), _delivery_to(user):
        message = compose_activation_email(
            user,
            Registration.objects.get(user=user),
            # Teak keeps the flag in FEATURES; Verawood flattens it (FEATURES is then a proxy of it).
            route_enabled=feature("REROUTE_ACTIVATION_EMAIL"),
            profile_name=UserProfile.objects.get(user=user).name,
            registration_flow=True,
        )
        message.options["from_address"] = configuration_helpers.get_value("ACTIVATION_EMAIL_FROM_ADDRESS") or (
            configuration_helpers.get_value("email_from_address", settings.DEFAULT_FROM_EMAIL)
        )
        ace.send(message)


def send_password_reset_email(user, site, secure):
    """Send the platform's password-reset ("set your password") email to a learner of ``site`` (HTTPS if ``secure``)."""
    from openedx.core.djangoapps.user_authn.views.password_reset import (
        send_password_reset_email_for_user,
    )

    with _as_a_request_of(site, user, secure), _delivery_to(user):
        send_password_reset_email_for_user(user, crum.get_current_request())


def language_choices(site):  # pylint: disable=unused-argument
    """Return the codes of the languages a learner may be given: the released ones where dark-lang limits them."""
    from openedx.core.djangoapps.dark_lang.models import DarkLangConfig
    from openedx.core.djangoapps.lang_pref.api import released_languages

    if DarkLangConfig.current().enabled:
        return {language.code for language in released_languages()}
    return {code for code, _name in settings.LANGUAGES}


def email_unique_platform_wide():
    """Whether the platform refuses an email used on any site (upstream) or only within one (Tahoe fork)."""
    return not feature("APPSEMBLER_MULTI_TENANT_EMAILS")


def site_configuration_value(site, name, default=None):
    """Read ``name`` from ``site``'s configuration (the platform's SiteConfiguration), else ``default``."""
    from openedx.core.djangoapps.site_configuration.models import SiteConfiguration

    # Read afresh (the plugin caches the answer for TAHOE_REGISTRATION_API_CACHE_TIMEOUT): the
    # configuration the LMS loaded onto its cached Site objects is up to SITE_CACHE_TTL old.
    configuration = SiteConfiguration.objects.filter(site=site).first()
    if configuration is None:
        return default
    return configuration.get_value(name, default)


def bearer_authentication():
    """Return the platform's OAuth2 ``BearerAuthentication`` (django-oauth-toolkit tokens)."""
    from openedx.core.lib.api.authentication import BearerAuthentication

    return BearerAuthentication()


# Courses and enrollments: the platform's course overviews and modes, its CourseEnrollment and
# CourseEnrollmentAllowed, through their own methods (their signals, events and filters run).
# The linter reads the platform through tests/edx_platform, whose stand-ins stop at accounts: these
# verbs are proven inside the real LMS (platform_tests/test_courses_and_enrollments.py).
# pylint: disable=import-error,no-name-in-module,no-member


def _course_keys(keys):
    """Return the ``CourseKey`` objects of canonical course key strings."""
    from opaque_keys.edx.keys import CourseKey

    return [CourseKey.from_string(key) for key in keys]


def existing_course_keys(keys, display_name=None):
    """Return, sorted, those of ``keys`` that have a course overview (whose name holds ``display_name``, case aside)."""
    from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

    if not keys:
        return []
    # The rows only: CourseOverview.get_from_id would load a missing or outdated course from the modulestore.
    rows = CourseOverview.objects.filter(id__in=_course_keys(keys))
    if display_name:
        rows = rows.filter(display_name__icontains=display_name)
    return sorted(str(key) for key in rows.values_list("id", flat=True))


def _mode_json(mode):
    """Return one of the platform's ``Mode`` tuples as the API shows it."""
    return {
        "slug": mode.slug,
        "name": mode.name,
        "min_price": mode.min_price,
        "currency": mode.currency,
        "expiration_datetime": mode.expiration_datetime,
    }


def describe_courses(keys):
    """Return the courses of ``keys`` (which exist) in that order: their overview's fields and their modes."""
    from common.djangoapps.course_modes.models import CourseMode
    from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

    course_keys = _course_keys(keys)
    overviews = {str(overview.id): overview for overview in CourseOverview.objects.filter(id__in=course_keys)}
    modes = {str(key): value for key, value in CourseMode.all_modes_for_courses(course_keys).items()}
    return [
        {
            "id": key,
            "display_name": overview.display_name_with_default,
            "org": overview.id.org,
            "number": overview.id.course,
            "start": overview.start,
            "end": overview.end,
            "enrollment_start": overview.enrollment_start,
            "enrollment_end": overview.enrollment_end,
            "modes": [_mode_json(mode) for mode in modes.get(key, ())],
        }
        for key, overview in ((key, overviews.get(key)) for key in keys) if overview is not None
    ]


def course_modes(keys):
    """Return ``{key: [slug, ...]}``: the modes of each course (the platform's default mode when it has none)."""
    from common.djangoapps.course_modes.models import CourseMode

    modes = CourseMode.all_modes_for_courses(_course_keys(keys))
    return {str(key): [mode.slug for mode in value] for key, value in modes.items()}


def enrollment_rows(keys, user_id=None, username=None, is_active=None):
    """
    Return the enrollments in the courses of ``keys`` as a query of dicts, oldest first, filtered as asked.

    Each has ``id``, ``course_id``, ``user_id``, ``username``, ``mode``, ``is_active`` and ``created``.
    """
    from common.djangoapps.student.models import CourseEnrollment
    from django.db.models import F

    rows = CourseEnrollment.objects.filter(course_id__in=_course_keys(keys))
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    if username is not None:
        rows = rows.filter(user__username__iexact=username)
    if is_active is not None:
        rows = rows.filter(is_active=is_active)
    return rows.order_by("id").values(
        "id", "course_id", "user_id", "mode", "is_active", "created", username=F("user__username"))


def enrollment_state(key, user=None, email=None):
    """
    Return the ``EnrollmentState`` of learner ``user`` (else of the address ``email``, nobody's) in course ``key``.

    Read from the rows, never the platform's request cache, as its bulk enroll's
    ``EmailEnrollmentState`` reads it: an active enrollment, and the email's enrollment-allowed record.
    """
    from common.djangoapps.student.models import CourseEnrollment, CourseEnrollmentAllowed

    [course] = _course_keys([key])
    mode, is_active = None, False
    if user is not None:
        record = CourseEnrollment.objects.filter(user=user, course_id=course).values_list("mode", "is_active").first()
        if record is not None:
            mode, is_active = record
        allowed = CourseEnrollmentAllowed.for_user(user).filter(course_id=course)
    else:
        allowed = CourseEnrollmentAllowed.objects.filter(course_id=course, email=email)
    allowed = allowed.values_list("auto_enroll", flat=True).first()
    return EnrollmentState(user=user is not None, enrollment=bool(is_active), allowed=allowed is not None,
                           auto_enroll=bool(allowed), mode=mode)


def enroll(user, key, mode=None):
    """
    Enroll ``user`` in course ``key`` through ``CourseEnrollment.enroll``; return the enrollment's mode.

    Raise ``EnrollmentPrevented`` if the platform refuses.

    ``mode`` None: the learner's mode if already enrolled, else the course's default, as the
    platform's bulk enroll chooses (``honor`` for a white-label course).
    """
    from common.djangoapps.course_modes.models import CourseMode
    from common.djangoapps.student.models import CourseEnrollment, EnrollmentNotAllowed

    [course] = _course_keys([key])
    if mode is None:
        current, is_active = CourseEnrollment.enrollment_mode_for_user(user, course)
        mode = current if is_active else (CourseMode.HONOR if CourseMode.is_white_label(course) else None)
    try:
        enrollment = CourseEnrollment.enroll(user, course, mode=mode, check_access=False)
    except EnrollmentNotAllowed as exc:
        raise EnrollmentPrevented(str(exc)) from exc
    return enrollment.mode


def unenroll(user, key):
    """Unenroll ``user`` from course ``key`` (the record stays, inactive); raise ``EnrollmentPrevented`` if refused."""
    from common.djangoapps.student.models import CourseEnrollment, UnenrollmentNotAllowed

    try:
        CourseEnrollment.unenroll(user, _course_keys([key])[0])
    except UnenrollmentNotAllowed as exc:
        raise EnrollmentPrevented(str(exc)) from exc


def allow_enrollment(key, email, auto_enroll):
    """
    Pre-enroll the address ``email`` in course ``key`` (the platform's enrollment-allowed record), as bulk enroll does.

    A retired email is left alone, as the platform leaves it.
    """
    from common.djangoapps.student.models import CourseEnrollmentAllowed, is_email_retired

    if is_email_retired(email):
        return
    allowed, _ = CourseEnrollmentAllowed.objects.get_or_create(course_id=_course_keys([key])[0], email=email)
    allowed.auto_enroll = auto_enroll
    allowed.save()


def disallow_enrollment(key, user=None, email=None):
    """Delete the enrollment-allowed record of learner ``user`` (else of the address ``email``) in course ``key``."""
    from common.djangoapps.student.models import CourseEnrollmentAllowed

    [course] = _course_keys([key])
    records = CourseEnrollmentAllowed.for_user(user) if user is not None else CourseEnrollmentAllowed.objects.filter(
        email=email)
    for record in records.filter(course_id=course):
        record.delete()  # one by one, as the platform's bulk enroll deletes it (its signals, its history)


def _state_transition(action, before, after):
    """Return the platform's name of the change (its ``ManualEnrollmentAudit`` states), as its bulk enroll names it."""
    from common.djangoapps.student import models

    if action == "enroll":
        if before.user and after.enrollment:
            if before.enrollment:
                return models.ENROLLED_TO_ENROLLED
            return models.ALLOWEDTOENROLL_TO_ENROLLED if before.allowed else models.UNENROLLED_TO_ENROLLED
        if not before.user and after.allowed:
            return models.UNENROLLED_TO_ALLOWEDTOENROLL
        return models.DEFAULT_TRANSITION_STATE
    if before.enrollment:
        return models.ENROLLED_TO_UNENROLLED
    return models.ALLOWEDTOENROLL_TO_UNENROLLED if before.allowed else models.UNENROLLED_TO_UNENROLLED


def record_manual_enrollment(caller, key, email, change, reason, user=None):
    """
    Write the platform's ``ManualEnrollmentAudit`` of one change, as its bulk enroll writes it (the instructor's view).

    ``change`` = (action, before, after); ``caller`` made the change.
    """
    from common.djangoapps.student.models import CourseEnrollment, ManualEnrollmentAudit

    enrollment = CourseEnrollment.get_enrollment(user, _course_keys([key])[0]) if user is not None else None
    ManualEnrollmentAudit.create_manual_enrollment_audit(caller, email, _state_transition(*change), reason,
                                                         enrollment)


def send_enrollment_email(site, key, message_type, email, user=None, auto_enroll=False, secure=True):
    """
    Send the platform's own enrollment email (``allowed_enroll``, ``enrolled_enroll``, ``allowed_unenroll``, ...).

    What its bulk enroll sends (``get_email_params``, ``send_mail_to_student``), composed and sent as a
    request of ``site``, in the learner's language when they have one.
    """
    from lms.djangoapps.instructor.enrollment import get_email_params, get_user_email_language, send_mail_to_student
    from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

    course = CourseOverview.objects.get(id=_course_keys([key])[0])
    with _as_a_request_of(site, user, secure), _delivery_to(user, email):
        params = get_email_params(course, auto_enroll, secure=secure)
        params.update(message_type=message_type, email_address=email, app_label="instructor",
                      push_notification_extra_context={
                          "notification_type": "unenroll" if message_type.endswith("unenroll") else "enroll",
                          "course_id": key})
        if user is not None:
            params["user_id"] = user.id
            if message_type.startswith("enrolled_"):
                params["full_name"] = user.profile.name
        send_mail_to_student(email, params, language=get_user_email_language(user) if user is not None else None)


# Learners: looked up, changed as the platform applies an administrator's change, switched off and on
# as the support tool's "User Disabled" does (its UserPasswordToggleHistory). Proven inside the real
# LMS (platform_tests/test_learners.py); the stand-ins in tests/edx_platform stop short of these too.


def _now_iso():
    """Return the time of now as the platform writes it into ``UserProfile.meta`` (ISO 8601, UTC)."""
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def learner_profiles(user_ids):
    """Return ``{user_id: {"name": ..., "language": ...}}``: the profile's full name, the ``pref-lang`` preference."""
    from common.djangoapps.student.models import UserProfile
    from openedx.core.djangoapps.lang_pref import LANGUAGE_KEY
    from openedx.core.djangoapps.user_api.models import UserPreference

    ids = list(user_ids)
    names = dict(UserProfile.objects.filter(user_id__in=ids).values_list("user_id", "name"))
    languages = dict(UserPreference.objects.filter(user_id__in=ids, key=LANGUAGE_KEY).values_list("user_id", "value"))
    return {user_id: {"name": names.get(user_id, ""), "language": languages.get(user_id)} for user_id in ids}


def email_taken_by_another(email, user):
    """Whether the platform refuses ``email`` for ``user``: another user's (case aside), or a retired one."""
    from common.djangoapps.student.models import is_email_retired
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(email__iexact=email).exclude(pk=user.pk).exists() or is_email_retired(email)


def change_learner_email(user, email):
    """
    Change the learner's email as the platform's ``confirm_email_change`` does once confirmed, without its link.

    The old address is appended to ``UserProfile.meta['old_emails']`` (``[old, ISO time]``), the
    user saved (the platform's receivers emit ``edx.user.settings.changed``), any pending change
    deleted. ``USER_EMAIL_CHANGED`` is not sent: it would stamp the caller's session with the address.
    """
    from common.djangoapps.student.helpers import AccountValidationError
    from common.djangoapps.student.models import PendingEmailChange, UserProfile

    profile = UserProfile.objects.get(user=user)
    meta = profile.get_meta()
    meta.setdefault("old_emails", []).append([user.email, _now_iso()])
    profile.set_meta(meta)
    profile.save()
    user.email = email
    try:
        user.save()  # the platform's pre_save receiver refuses a retired email
    except AccountValidationError as exc:
        raise DuplicateAccount({"email"}) from exc
    PendingEmailChange.objects.filter(user=user).delete()


def change_learner_name(user, name, caller):
    """Change the learner's full name as the platform's account API does: the old one kept in ``meta['old_names']``."""
    from common.djangoapps.student.models import UserProfile

    profile = UserProfile.objects.get(user=user)
    meta = profile.get_meta()
    meta.setdefault("old_names", []).append([
        profile.name, f"Name changed through the Tahoe registration API by {caller.username}", _now_iso()])
    profile.set_meta(meta)
    profile.name = name
    profile.save()  # the platform's receiver emits edx.user.settings.changed


def change_learner_language(user, language):
    """Set the learner's ``pref-lang`` through the platform's preferences API (as the learner, as registration does)."""
    from openedx.core.djangoapps.lang_pref import LANGUAGE_KEY
    from openedx.core.djangoapps.user_api.preferences.api import set_user_preference

    set_user_preference(user, LANGUAGE_KEY, language)


def _identify_disabled(user, disabled):
    """Tell Segment, after the commit, as the support tool does (nothing is sent without ``LMS_SEGMENT_KEY``)."""
    from common.djangoapps.track import segment
    from django.db import transaction

    transaction.on_commit(lambda: segment.identify(user.id, {"is_disabled": "true" if disabled else "false"}))


def disable_learner(user, caller, comment):
    """
    Switch the learner's account off as the support tool's "User Disabled" does.

    An unusable password (sign-in, password reset, OAuth2 bearer tokens and the platform's emails
    are refused; every session ends on its next request), a ``UserPasswordToggleHistory`` row by
    ``caller``, and the learner's OAuth2 access and refresh tokens deleted.
    """
    from common.djangoapps.student.models import UserPasswordToggleHistory
    from openedx.core.djangoapps.oauth_dispatch.api import destroy_oauth_tokens

    user.set_unusable_password()
    user.save()
    UserPasswordToggleHistory.objects.create(user=user, comment=comment[:255], created_by=caller, disabled=True)
    destroy_oauth_tokens(user)
    _identify_disabled(user, True)


def enable_learner(user, caller, comment):
    """
    Switch the learner's account on again: the "set your password" value (as a passwordless registration's).

    The support tool sets a random password; the plugin's unset value leaves the learner the
    platform's password reset (and the API's resend) to choose their own.
    """
    from common.djangoapps.student.models import UserPasswordToggleHistory

    user.password = unset_password_value()
    user.save()
    UserPasswordToggleHistory.objects.create(user=user, comment=comment[:255], created_by=caller, disabled=False)
    _identify_disabled(user, False)


def set_learner_password(user, password):
    """
    Give the learner a new password, checked by the platform's password policy (a 400 naming ``password``).

    As the platform's password reset does: normalized (NFKC) and hashed with the LMS's hasher, an
    account not yet activated is activated (the caller, an identity provider, vouches for the address
    as for a learner it creates with a password), every session ends on its next request (the session
    keeps a hash of the password field) and the learner's OAuth2 access and refresh tokens are deleted.
    """
    from common.djangoapps.util.password_policy_validators import normalize_password, validate_password
    from django.core.exceptions import ValidationError
    from openedx.core.djangoapps.oauth_dispatch.api import destroy_oauth_tokens

    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise InvalidRegistration(field_errors={"password": " ".join(exc.messages)}) from exc
    user.set_password(normalize_password(password))
    user.is_active = True
    user.save()
    destroy_oauth_tokens(user)


def send_email_change_notice(user, site, old_email, new_email, secure):
    """
    Tell the learner's old address of the change: the platform's ``EmailChangeConfirmation`` message.

    What ``confirm_email_change`` sends the old address, composed and sent as a request of ``site``,
    in the learner's language; sent even to a learner switched off since (ACE's policy would drop it).
    """
    from common.djangoapps.edxmako.shortcuts import marketing_link
    from common.djangoapps.student.message_types import EmailChangeConfirmation
    from django.urls import reverse
    from edx_ace import ace
    from edx_ace.recipient import Recipient
    from openedx.core.djangoapps.ace_common.template_context import get_base_template_context
    from openedx.core.djangoapps.lang_pref import LANGUAGE_KEY
    from openedx.core.djangoapps.site_configuration import helpers as configuration_helpers
    from openedx.core.djangoapps.user_api.preferences import api as preferences_api

    with _as_a_request_of(site, user, secure), _delivery_to(email=old_email):
        if feature("ENABLE_MKTG_SITE"):
            contact_link = marketing_link("CONTACT")
        else:
            host = configuration_helpers.get_value("SITE_NAME", settings.SITE_NAME)
            contact_link = f"{'https' if secure else 'http'}://{host}{reverse('contact')}"
        context = get_base_template_context(site)
        context.update({
            # The platform's base context reads a site's lower-case ``platform_name`` only; a site's
            # ``PLATFORM_NAME`` (which its other emails show) names it here too.
            "platform_name": configuration_helpers.get_value("PLATFORM_NAME", context["platform_name"]),
            "old_email": old_email,
            "new_email": new_email,
            "contact_link": contact_link,
            "from_address": configuration_helpers.get_value("email_from_address", settings.DEFAULT_FROM_EMAIL),
        })
        message = EmailChangeConfirmation().personalize(
            recipient=Recipient(user.id, old_email),
            language=preferences_api.get_user_preference(user, LANGUAGE_KEY),
            user_context=context,
        )
        message.options["skip_disable_user_policy"] = True
        ace.send(message)
