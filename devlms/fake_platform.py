"""
A fake of the plugin's platform adapter, ``tahoe_registration_api.edxapp``.

It serves the development LMS and the tests above the adapter. It has the adapter's
verbs with the same signatures (a test keeps them in step) and reproduces what the
platform does behind them: the form's validation rules, the global duplicate checks,
an inactive user with a profile and an activation key, and the activation and
password-reset emails (sent through Django's mail, printed to the console in
development), courses, their modes and enrollments as the platform keeps them (enrolling the
pre-enrolled email with ``auto_enroll`` when its learner is activated, as the platform's
receiver does), the platform's enrollment emails, a learner's changes (old names and emails kept
in the profile's meta, the support tool's disable and enable with its history, the old address
told of a new one), and the operator's extension form (``PROFILE_EXTENSION_FORM``, else
``REGISTRATION_EXTENSION_FORM``, as Verawood reads them; ``devlms.forms`` has examples).
It writes real rows; nothing here is imported by the plugin itself.
"""

import datetime
import json
import re
import unicodedata
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db.models import CharField, F, Q, Value
from django.utils import translation
from django.utils.http import int_to_base36
from django.utils.module_loading import import_string
from django.utils.translation import get_language, gettext, gettext_lazy
from opaque_keys.edx.keys import CourseKey

from devlms.models import (
    ActivationRecord,
    Course,
    CourseEnrollment,
    CourseEnrollmentAllowed,
    CourseMode,
    LearnerProfile,
    ManualEnrollmentRecord,
    PasswordToggleHistory,
    SiteConfiguration,
)
from tahoe_registration_api import hashing
from tahoe_registration_api.data import EnrollmentState, NewAccount

# The adapter's settings-only verbs are the platform's rules as the adapter reads them: reused.
from tahoe_registration_api.edxapp import (  # pylint: disable=unused-import  # password_was_set: a verb as is
    email_unique_platform_wide,
    password_was_set,
    unset_password_value,
)
from tahoe_registration_api.exceptions import DuplicateAccount, InvalidRegistration
from tahoe_registration_api.features import feature

ASCII_USERNAME = re.compile(r"^[-a-zA-Z0-9_]+\Z")
UNICODE_USERNAME = re.compile(r"^[\w .@_+-]+\Z", re.UNICODE)
# Records of what the platform would have announced; tests read it.
ANNOUNCED = []


def _platform_conflicts(username, email):
    """
    Apply the platform's global checks: an exact match on any user (MySQL's collation ignores case).

    The platform runs them in its form and in a ``pre_save`` receiver of the user, and the
    adapter reports them from ``create_account`` as ``DuplicateAccount``.

    With ``APPSEMBLER_MULTI_TENANT_EMAILS`` on, the platform is Appsembler's fork, whose email
    check is scoped to the learner's organization: ``api.py`` already checks that scope.
    """
    users = get_user_model().objects
    checks = users.filter(username=username).annotate(field=Value("username", output_field=CharField()))
    if email_unique_platform_wide():
        checks = checks.values_list("field").union(
            users.filter(email=email).annotate(field=Value("email", output_field=CharField())).values_list("field")
        )
    else:
        checks = checks.values_list("field")
    return {field for (field,) in checks}


def _username_errors(username):
    """Apply the platform's username rules: 2 to USERNAME_MAX_LENGTH characters of its allowed alphabet."""
    max_length = getattr(settings, "USERNAME_MAX_LENGTH", 30)
    if not 2 <= len(username) <= max_length:
        return [f"Username must be between 2 and {max_length} characters long."]
    pattern = UNICODE_USERNAME if feature("ENABLE_UNICODE_USERNAME") else ASCII_USERNAME
    if not pattern.match(username):
        return ["Usernames can only contain letters, numerals, and @/./+/-/_ characters."]
    return []


def _validation_errors(registration):
    """Apply the platform form's rules; return ``{field: message}``."""
    errors = {}
    username = registration.username.strip()
    if messages := _username_errors(username):
        errors["username"] = " ".join(messages)
    try:
        EmailValidator()(registration.email)
        if not 3 <= len(registration.email) <= 254:
            raise ValidationError("Email must be between 3 and 254 characters long.")
    except ValidationError as exc:
        errors["email"] = " ".join(exc.messages)
    name = registration.name.strip()
    if not name:
        errors["name"] = "Your legal name must be a minimum of one character long."
    elif re.search(r"[<>]", name):
        errors["name"] = "Full Name cannot contain the following characters: < >"
    elif "://" in name:
        errors["name"] = "Enter a valid name"
    if registration.has_password and (messages := _password_errors(registration)):
        errors["password"] = " ".join(messages)
    return errors


def _password_errors(registration):
    """Return the password policy's messages, checked as the platform's form does (with the username, email)."""
    username = registration.username.strip()
    try:
        # A temporary user (its username and email), never saved.
        temporary = get_user_model()(username=username, email=registration.email) if username else None
        password_validation.validate_password(registration.password, temporary)
    except ValidationError as exc:
        return exc.messages
    return []


def _extension_form(data=None):
    """Return the operator's extension form (bound to ``data`` if given), None when the settings name none."""
    path = getattr(settings, "PROFILE_EXTENSION_FORM", None) or getattr(settings, "REGISTRATION_EXTENSION_FORM", None)
    if not path:
        return None
    form_class = import_string(path)
    return form_class() if data is None else form_class(data=data)


def extension_field_names():
    """Return the names of the extension form's fields, in its order; () when there is none."""
    form = _extension_form()
    return tuple(form.fields) if form is not None else ()


def _valid_extension_form(registration):
    """Bind the extension form as the platform does (with the learner's username, email and name); validate it."""
    data = dict(registration.extension_fields)
    data.update(username=registration.username, email=registration.email, name=registration.name)
    form = _extension_form(data)
    if form is None:
        return None, {}
    if form.is_valid():
        return form, {}
    return form, {"non_field_errors" if field == "__all__" else field: " ".join(messages)
                  for field, messages in form.errors.items()}


def validate_account(registration):
    """Run the platform's checks (global duplicates, then the forms' rules); return the bound extension form."""
    if conflicts := _platform_conflicts(registration.username.strip(), registration.email.strip()):
        raise DuplicateAccount(conflicts)
    extension_form, errors = _valid_extension_form(registration)
    errors = {**_validation_errors(registration), **errors}
    if errors:
        raise InvalidRegistration(field_errors=errors)
    return extension_form


def hash_password_ahead(registration):
    """Start hashing the learner's password if the policy (with the learner's username and email) accepts it."""
    if not registration.has_password or _password_errors(registration):
        return None
    return hashing.start(unicodedata.normalize("NFKC", registration.password))


def create_account(registration, site):  # pylint: disable=unused-argument
    """Create an inactive user, its profile, activation key and extension row; active when no email is wanted."""
    extension_form = validate_account(registration)
    user = get_user_model()(
        username=registration.username.strip(), email=registration.email.strip(), is_active=False
    )
    if registration.has_password:  # hashed ahead when the registration started it (hashing.ahead)
        hashing.set_password(user, unicodedata.normalize("NFKC", registration.password))
    else:
        user.password = unset_password_value()
    user.save()
    activation = ActivationRecord.objects.create(user=user, activation_key=uuid.uuid4().hex)
    profile = LearnerProfile(
        user=user, name=registration.name.strip(), language=registration.language or get_language())
    if extension_form is not None and not hasattr(extension_form, "save"):
        profile.meta = json.dumps(extension_form.cleaned_data, default=str)
    profile.save()
    if extension_form is not None and hasattr(extension_form, "save"):
        extension = extension_form.save(commit=False)
        extension.user = user
        extension.save()
    if registration.has_password and not registration.send_activation_email:
        user.is_active = True
        user.save(update_fields=["is_active"])
        enroll_pre_enrolled(user)
    return NewAccount(user=user, platform_records={"profile": profile, "registration": activation})


def announce_registration(account):
    """Record the ``REGISTER_USER`` signal the platform would send."""
    ANNOUNCED.append(account.user.id)


def learner_language(user):
    """Return the language of a learner's emails: their profile's, else the LMS's (as ACE and the platform pick it)."""
    if user is None:
        return settings.LANGUAGE_CODE
    language = LearnerProfile.objects.filter(user=user).values_list("language", flat=True).first()
    return language or settings.LANGUAGE_CODE


def send_activation_email(user, site):
    """Send the activation email, as the platform's task does, with a link to the learner's site, in their language."""
    key = ActivationRecord.objects.get(user=user).activation_key
    root_url = site_configuration_value(site, "LMS_ROOT_URL", None) or f"http://{site.domain}"
    with translation.override(learner_language(user)):
        mail.send_mail(
            subject=gettext("Action Required: Activate your account"),
            message=gettext("Hello {name},\n\nActivate your account: {link}\n").format(
                name=LearnerProfile.objects.get(user=user).name, link=f"{root_url}/activate/{key}"),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[user.email],
        )


def send_password_reset_email(user, site, secure):
    """Send the password-reset ("set your password") email, its link on the site's ``SITE_NAME`` as the LMS does."""
    scheme = "https" if secure else "http"
    host = site_configuration_value(site, "SITE_NAME", None) or site.domain
    link = (
        f"{scheme}://{host}/password_reset_confirm/{int_to_base36(user.id)}-"
        f"{default_token_generator.make_token(user)}/"
    )
    with translation.override(learner_language(user)):
        mail.send_mail(
            subject=gettext("Password reset"),
            message=gettext("Hello {name},\n\nSet your password: {link}\n").format(
                name=LearnerProfile.objects.get(user=user).name, link=link),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[user.email],
        )


def language_choices(site):  # pylint: disable=unused-argument
    """Return the codes of the development LMS's languages (``settings.LANGUAGES``)."""
    return {code for code, _name in settings.LANGUAGES}


def site_configuration_value(site, name, default=None):
    """Read ``name`` from the site's configuration (enabled ones only), else ``default``."""
    configuration = SiteConfiguration.objects.filter(site=site).first()
    if configuration is None:
        return default
    return configuration.get_value(name, default)


def bearer_authentication():
    """Return None: the development LMS has no OAuth2 provider, so bearer tokens are not accepted there."""
    return None


# Courses and enrollments, as the platform's course overviews, modes and enrollment records hold them.
DEFAULT_MODE = "audit"  # the platform's COURSE_MODE_DEFAULTS slug
ENROLLMENT_EMAIL_SUBJECTS = {
    "allowed_enroll": gettext_lazy("You have been invited to register for {course}"),
    "enrolled_enroll": gettext_lazy("You have been enrolled in {course}"),
    "allowed_unenroll": gettext_lazy("You have been unenrolled from {course}"),
    "enrolled_unenroll": gettext_lazy("You have been unenrolled from {course}"),
}


def existing_course_keys(keys, display_name=None):
    """Return, sorted, those of ``keys`` that are courses of the LMS (whose name contains ``display_name``)."""
    rows = Course.objects.filter(id__in=list(keys))
    if display_name:
        rows = rows.filter(display_name__icontains=display_name)
    return sorted(rows.values_list("id", flat=True))


def _modes(keys):
    """Return ``{key: [CourseMode, ...]}``; a course without modes has the default mode only, as the platform's."""
    modes = {key: [] for key in keys}
    for mode in CourseMode.objects.filter(course_id__in=list(keys)).order_by("min_price", "mode_slug"):
        modes[mode.course_id].append(mode)
    return {key: value or [CourseMode(course_id=key, mode_slug=DEFAULT_MODE, mode_display_name="Audit")]
            for key, value in modes.items()}


def describe_courses(keys):
    """Return the courses of ``keys`` in that order, with their modes."""
    courses = Course.objects.in_bulk(list(keys))
    modes = _modes([key for key in keys if key in courses])
    return [
        {
            "id": key, "display_name": course.display_name or key, "org": CourseKey.from_string(key).org,
            "number": CourseKey.from_string(key).course,
            "start": course.start, "end": course.end,
            "enrollment_start": course.enrollment_start, "enrollment_end": course.enrollment_end,
            "modes": [{"slug": mode.mode_slug, "name": mode.mode_display_name, "min_price": mode.min_price,
                       "currency": mode.currency, "expiration_datetime": mode.expiration_datetime}
                      for mode in modes[key]],
        }
        for key, course in ((key, courses.get(key)) for key in keys) if course is not None
    ]


def course_modes(keys):
    """Return ``{key: [slug, ...]}``."""
    return {key: [mode.mode_slug for mode in value] for key, value in _modes(keys).items()}


def enrollment_rows(keys, user_id=None, username=None, is_active=None):
    """Return the enrollments in the courses of ``keys`` as a query of dicts, oldest first."""
    rows = CourseEnrollment.objects.filter(course_id__in=list(keys))
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    if username is not None:
        rows = rows.filter(user__username__iexact=username)
    if is_active is not None:
        rows = rows.filter(is_active=is_active)
    return rows.order_by("id").values(
        "id", "course_id", "user_id", "mode", "is_active", "created", username=F("user__username"))


def _allowed_for(user, key):
    """Return the learner's enrollment-allowed records of a course: their email's, unclaimed or claimed by them."""
    return CourseEnrollmentAllowed.objects.filter(course_id=key, email=user.email).filter(
        Q(user__isnull=True) | Q(user=user))


def enrollment_state(key, user=None, email=None):
    """Return the learner's (else the address's) ``EnrollmentState`` in the course."""
    mode, is_active = None, False
    if user is not None:
        record = CourseEnrollment.objects.filter(user=user, course_id=key).values_list("mode", "is_active").first()
        if record is not None:
            mode, is_active = record
        allowed = _allowed_for(user, key)
    else:
        allowed = CourseEnrollmentAllowed.objects.filter(course_id=key, email=email)
    allowed = allowed.values_list("auto_enroll", flat=True).first()
    return EnrollmentState(user=user is not None, enrollment=bool(is_active), allowed=allowed is not None,
                           auto_enroll=bool(allowed), mode=mode)


def enroll(user, key, mode=None):
    """Enroll the learner (their mode kept when enrolled and none named; else the course's default); return the mode."""
    record = CourseEnrollment.objects.filter(user=user, course_id=key).first()
    if mode is None:
        mode = record.mode if record is not None and record.is_active else None
    if mode is None:
        slugs = course_modes([key])[key]
        mode = DEFAULT_MODE if DEFAULT_MODE in slugs else slugs[0]
    if record is None:
        CourseEnrollment.objects.create(user=user, course_id=key, mode=mode, is_active=True)
    else:
        record.mode, record.is_active = mode, True
        record.save()
    _allowed_for(user, key).filter(user__isnull=True).update(user=user)
    return mode


def unenroll(user, key):
    """Unenroll the learner: the record stays, inactive."""
    CourseEnrollment.objects.filter(user=user, course_id=key).update(is_active=False)


def allow_enrollment(key, email, auto_enroll):
    """Pre-enroll the address in the course."""
    allowed, _ = CourseEnrollmentAllowed.objects.get_or_create(course_id=key, email=email)
    allowed.auto_enroll = auto_enroll
    allowed.save()


def disallow_enrollment(key, user=None, email=None):
    """Delete the learner's (else the address's) enrollment-allowed record of the course."""
    records = _allowed_for(user, key) if user is not None else CourseEnrollmentAllowed.objects.filter(
        course_id=key, email=email)
    records.delete()


def enroll_pre_enrolled(user):
    """Enroll an activated learner in the courses that pre-enrolled their email with ``auto_enroll``."""
    for allowed in CourseEnrollmentAllowed.objects.filter(email=user.email, auto_enroll=True, user__isnull=True):
        enroll(user, allowed.course_id)


def record_manual_enrollment(caller, key, email, change, reason, user=None):  # pylint: disable=unused-argument
    """Record who changed the email's enrollment, how (the platform's transition names) and why."""
    action, before, _after = change
    if action == "enroll":
        transition = ("from enrolled to enrolled" if before.enrollment else "from unenrolled to enrolled") \
            if before.user else "from unenrolled to allowed to enroll"
    else:
        transition = "from enrolled to unenrolled" if before.enrollment else "from unenrolled to unenrolled"
    ManualEnrollmentRecord.objects.create(enrolled_by=caller, enrolled_email=email, course_id=key,
                                          state_transition=transition, reason=reason)


def send_enrollment_email(site, key, message_type, email, user=None, auto_enroll=False, secure=True):
    """Send the enrollment email the platform would, with a link to the course on the learner's site."""
    course = Course.objects.get(id=key)
    scheme = "https" if secure else "http"
    host = site_configuration_value(site, "SITE_NAME", None) or site.domain
    name = LearnerProfile.objects.filter(user=user).values_list("name", flat=True).first() if user else None
    with translation.override(learner_language(user)):
        greeting = (gettext("Dear {name}").format(name=name or user.username) if user
                    else gettext("Dear student"))
        if message_type == "allowed_enroll":
            register = f"{scheme}://{host}/register"
            next_step = (gettext("Register at {link} to join it (you will be enrolled).") if auto_enroll
                         else gettext("Register at {link} to join it.")).format(link=register)
        else:
            next_step = f"{scheme}://{host}/courses/{key}/about"
        mail.send_mail(
            subject=str(ENROLLMENT_EMAIL_SUBJECTS[message_type]).format(course=course.display_name or key),
            message=f"{greeting},\n\n{next_step}\n",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[email],
        )


# Learners: their profile's name and language, changes kept as the platform keeps them.


def learner_profiles(user_ids):
    """Return ``{user_id: {"name": ..., "language": ...}}`` (no profile: an empty name, no language)."""
    ids = list(user_ids)
    rows = {user_id: (name, language) for user_id, name, language in LearnerProfile.objects.filter(
        user_id__in=ids).values_list("user_id", "name", "language")}
    return {user_id: {"name": rows.get(user_id, ("", None))[0], "language": rows.get(user_id, ("", None))[1] or None}
            for user_id in ids}


def email_taken_by_another(email, user):
    """Whether another user has ``email`` (case aside)."""
    return get_user_model().objects.filter(email__iexact=email).exclude(pk=user.pk).exists()


def _profile_meta(profile):
    """Return the profile's meta as a dict (an extension form's values, old names and emails)."""
    try:
        meta = json.loads(profile.meta or "{}")
    except ValueError:
        meta = {}
    return meta if isinstance(meta, dict) else {}


def _append_to_meta(user, key, entry):
    """Append ``entry`` to the list ``key`` of the learner's profile meta (a profile is made if missing); return it."""
    profile, _ = LearnerProfile.objects.get_or_create(user=user)
    meta = _profile_meta(profile)
    meta.setdefault(key, []).append(entry)
    profile.meta = json.dumps(meta)
    return profile


def _now_iso():
    """Return now in ISO 8601, UTC, as the platform writes it into the profile's meta."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def change_learner_email(user, email):
    """Keep the old address in the profile's ``old_emails``; set and save the new one."""
    _append_to_meta(user, "old_emails", [user.email, _now_iso()]).save()
    user.email = email
    user.save()


def change_learner_name(user, name, caller):
    """Keep the old name in the profile's ``old_names`` with who changed it; set the new one."""
    old_name = LearnerProfile.objects.filter(user=user).values_list("name", flat=True).first() or ""
    profile = _append_to_meta(user, "old_names", [
        old_name, f"Name changed through the Tahoe registration API by {caller.username}", _now_iso()])
    profile.name = name
    profile.save()


def change_learner_language(user, language):
    """Set the learner's language (the platform's ``pref-lang``)."""
    profile, _ = LearnerProfile.objects.get_or_create(user=user)
    profile.language = language
    profile.save()


def disable_learner(user, caller, comment):
    """Switch the account off as the support tool does: an unusable password and a history row."""
    user.set_unusable_password()
    user.save()
    PasswordToggleHistory.objects.create(user=user, comment=comment[:255], created_by=caller, disabled=True)


def enable_learner(user, caller, comment):
    """Switch the account on: the "set your password" value and a history row."""
    user.password = unset_password_value()
    user.save()
    PasswordToggleHistory.objects.create(user=user, comment=comment[:255], created_by=caller, disabled=False)


def set_learner_password(user, password):
    """Give the learner a new password, checked by the LMS's password validators (a 400 naming ``password``), active."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise InvalidRegistration(field_errors={"password": " ".join(exc.messages)}) from exc
    user.set_password(unicodedata.normalize("NFKC", password))
    user.is_active = True  # as the platform's password reset does
    user.save()


def send_email_change_notice(user, site, old_email, new_email, secure):
    """Tell the old address of the change, as the platform's ``EmailChangeConfirmation`` does."""
    scheme = "https" if secure else "http"
    host = site_configuration_value(site, "SITE_NAME", None) or site.domain
    name = LearnerProfile.objects.filter(user=user).values_list("name", flat=True).first() or user.username
    with translation.override(learner_language(user)):
        mail.send_mail(
            subject=gettext("Email Change Confirmation"),
            message=gettext(
                "Hello {name},\n\nThe email of your account on {host} changed from {old_email} to {new_email}. "
                "If you did not ask for it, contact {link}\n"
            ).format(name=name, host=host, old_email=old_email, new_email=new_email,
                     link=f"{scheme}://{host}/support/contact_us"),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[old_email],
        )
