"""
An enrollment call's body, validated by the domain: a JSON object in, an ``EnrollmentRequest`` out.

``{"action": "enroll" | "unenroll", "identifiers": [...], "courses": [...], "auto_enroll": false,
"email_learners": false, "mode": null}``. As the platform's bulk enroll API reads them,
``identifiers`` and ``courses`` may also be one string, split on commas and white space, and
``email_students`` is another name of ``email_learners``. Other keys are ignored.
"""

import re
import unicodedata
from collections.abc import Mapping

from tahoe_registration_api.enrollments import ACTIONS, EnrollmentRequest
from tahoe_registration_api.exceptions import InvalidCourseIds, InvalidRegistration, TooManyEnrollments
from tahoe_registration_api.i18n import gettext_noop, join, message
from tahoe_registration_api.learner_input import COURSE_KEY_MAX_LENGTH, parse_course_key

IDENTIFIER_MAX_LENGTH = 254  # the longest email; usernames are shorter
MODE_MAX_LENGTH = 100  # the platform's CourseMode.mode_slug
ID_MAX = 2**63 - 1
BOOLEANS = {"true": True, "false": False}
_SPLIT = re.compile(r"[\n\r\s,]+")  # as the platform's bulk enroll splits its lists
LISTED = 10  # refused items named in one message
USER_MESSAGE = gettext_noop("Some of the enrollment details are not valid.")


def parse_enrollment_request(data, limit, setting="TAHOE_REGISTRATION_API_ENROLL_MAX"):
    """
    Return the body as an ``EnrollmentRequest`` whose courses are canonical keys (not yet checked against the site).

    Raises ``InvalidRegistration`` naming every refused field; ``TooManyEnrollments`` (a 413)
    when identifiers × courses exceeds ``limit``; ``InvalidCourseIds`` naming each course key
    that does not parse.
    """
    if not isinstance(data, Mapping):
        raise InvalidRegistration("The body is not a JSON object.", user_message=USER_MESSAGE,
                                  field_errors={"non_field_errors": gettext_noop("The body must be a JSON object.")})
    errors, values = {}, {}
    for name, read in (("action", _action), ("identifiers", _identifiers), ("courses", _courses),
                       ("auto_enroll", _boolean), ("email_learners", _boolean), ("mode", _mode)):
        value = data.get(name, data.get("email_students")) if name == "email_learners" else data.get(name)
        try:
            values[name] = read(value)
        except ValueError as exc:
            errors[name] = message(exc.args[0])
    if errors:
        raise InvalidRegistration("Invalid fields: " + ", ".join(sorted(errors)) + ".", field_errors=errors,
                                  user_message=USER_MESSAGE)
    size = len(values["identifiers"]) * len(values["courses"])
    if size > limit:
        refusal = message(gettext_noop("Names {identifiers} identifiers in {courses} courses ({size} enrollments); "
                                       "at most {limit} are accepted in one call ({setting})."),
                          identifiers=len(values["identifiers"]), courses=len(values["courses"]), size=size,
                          limit=limit, setting=setting)
        raise TooManyEnrollments(refusal, field_errors={"identifiers": refusal})
    if unparsed := [text for text in values["courses"] if parse_course_key(text) is None]:
        raise InvalidCourseIds(unparsed)
    return EnrollmentRequest(
        action=values["action"], identifiers=tuple(values["identifiers"]),
        courses=tuple(dict.fromkeys(parse_course_key(text) for text in values["courses"])),
        auto_enroll=values["auto_enroll"], email_learners=values["email_learners"], mode=values["mode"],
    )


def _action(value):
    """Return the action: ``enroll`` or ``unenroll``."""
    if value not in ACTIONS:
        raise ValueError(gettext_noop('Required: "enroll" or "unenroll".'))
    return value


def _list(value, what):
    """Return a list field's items: a JSON list, or one string split as the platform splits it."""
    if value is None:
        raise ValueError(message(gettext_noop("Required: a list of {what}."), what=message(what)))
    if isinstance(value, str):
        value = [item for item in _SPLIT.split(value) if item]
    if not isinstance(value, list):
        raise ValueError(message(gettext_noop("Must be a list of {what}."), what=message(what)))
    if not value:
        raise ValueError(message(gettext_noop("Must hold at least one of the {what}."), what=message(what)))
    return value


def _refused(items, check):
    """Return the message naming the first refused items (by index), or None."""
    refused = [message(gettext_noop("[{index}] {problem}"), index=index, problem=message(problem))
               for index, item in enumerate(items) if (problem := check(item))]
    if not refused:
        return None
    listed = join(refused[:LISTED], "; ")
    if len(refused) > LISTED:
        return message(gettext_noop("{listed} (and {more} more)."), listed=listed, more=len(refused) - LISTED)
    return message(gettext_noop("{listed}."), listed=listed)


def _text_problem(text, max_length):
    """Return what is wrong with one text item, or None."""
    if not text.strip():
        return gettext_noop("is blank")
    if len(text) > max_length:
        return message(gettext_noop("is longer than {max_length} characters"), max_length=max_length)
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs") for char in text):
        return gettext_noop("holds control, invisible or surrogate characters")
    return None


def _identifier_problem(item):
    """Return what is wrong with one identifier (a user id, a username or an email), or None."""
    if isinstance(item, bool) or not isinstance(item, (str, int)):
        return gettext_noop("is not a user id (a number), a username or an email (a string)")
    if isinstance(item, int):
        return None if 0 < item <= ID_MAX else gettext_noop("is not a user id")
    return _text_problem(item, IDENTIFIER_MAX_LENGTH)


def _identifiers(value):
    """Return the learners: user ids, usernames or emails."""
    items = _list(value, gettext_noop("user ids, usernames or emails"))
    if refusal := _refused(items, _identifier_problem):
        raise ValueError(refusal)
    return items


def _courses(value):
    """Return the course keys, as given (parsed later: one that does not parse is named by ``invalid-course-ids``)."""
    items = _list(value, gettext_noop("course keys"))
    if refusal := _refused(items, lambda item: gettext_noop("is not a string") if not isinstance(item, str)
                           else _text_problem(item, COURSE_KEY_MAX_LENGTH)):
        raise ValueError(refusal)
    return [item.strip() for item in items]


def _boolean(value):
    """Return False when absent or null; JSON true/false or "true"/"false" in any letter case."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in BOOLEANS:
        return BOOLEANS[value.strip().lower()]
    raise ValueError(gettext_noop('Must be true or false (a JSON boolean or the string "true" or "false").'))


def _mode(value):
    """Return None (the course's default), or a mode's slug."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(gettext_noop("Must be a course mode's slug (a string) or null."))
    if problem := _text_problem(value, MODE_MAX_LENGTH):
        raise ValueError(message(gettext_noop("The mode {problem}."), problem=message(problem)))
    return value.strip()
