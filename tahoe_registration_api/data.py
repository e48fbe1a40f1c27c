"""Frozen data objects that cross the plugin's layers."""

from dataclasses import dataclass
from typing import Any, NamedTuple, Optional, Tuple


@dataclass(frozen=True)
class RegistrationRequest:
    """What a caller asks for: one learner on one site."""

    username: str
    email: str
    name: str
    password: Optional[str] = None
    send_activation_email: bool = True
    # One of the LMS's languages (a code of settings.LANGUAGES); None: as the platform's registration.
    language: Optional[str] = None
    # The values of the LMS's extension form's own fields, ``((name, value), ...)`` in the form's
    # order (strings, numbers, booleans or None, as given); empty when the LMS has no such form.
    extension_fields: Tuple[Tuple[str, Any], ...] = ()
    # The courses to enroll the learner in, with the registration (their keys as given until the API checks
    # them against the site's, then canonical); and their mode (None: each course's default).
    courses: Tuple[str, ...] = ()
    mode: Optional[str] = None

    @property
    def has_password(self):
        """Whether the caller chose the learner's password."""
        return self.password is not None

    @property
    def activation_email_wanted(self):
        """Whether the learner gets the activation email (never without a password)."""
        return self.has_password and self.send_activation_email

    def __repr__(self):
        """Represent the request without its password."""
        return (
            f"RegistrationRequest(username={self.username!r}, email={self.email!r}, "
            f"name={self.name!r}, password={'<set>' if self.has_password else None}, "
            f"send_activation_email={self.send_activation_email!r})"
        )


@dataclass(frozen=True)
class NewAccount:
    """An account the platform created inside the registration's transaction."""

    user: object
    platform_records: dict


@dataclass(frozen=True)
class RegistrationResult:
    """The outcome of a successful registration."""

    user_id: int
    username: str
    is_active: bool


class ResultRow(NamedTuple):
    """One learner of a batch as its results show it: where it was in the input, who, and its outcome."""

    number: int  # its line in a CSV (the header is line 1), or its index + 1 in a JSON list
    ref: str
    username: str
    email: str
    outcome: Optional[str]  # the pipeline's result (``created``, ``exists``, ``refused``, ...); None while waiting
    user_id: Optional[int]
    error_code: str
    fields: str  # the fields in error, space-separated


@dataclass(frozen=True)
class EnrollmentState:
    """
    A learner's (or an email's) standing in one course, as the platform's bulk enroll API reports it.

    ``user``: the identifier is a learner of the site; ``enrollment``: an active enrollment;
    ``allowed``: a pre-enrollment (the platform's enrollment-allowed record) for the email;
    ``auto_enroll``: that record enrolls the learner on activation. ``mode`` is the enrollment's
    mode (an inactive one's too), never shown.
    """

    user: bool
    enrollment: bool
    allowed: bool
    auto_enroll: bool
    mode: Optional[str] = None

    def as_dict(self):
        """Return the state as the platform's bulk enroll API shows it."""
        return {"user": self.user, "enrollment": self.enrollment, "allowed": self.allowed,
                "auto_enroll": self.auto_enroll}


@dataclass(frozen=True)
class LearnerChange:
    """What a caller asks to change of a learner of its site; None: left as it is."""

    name: Optional[str] = None
    email: Optional[str] = None
    # One of the LMS's languages (checked by the domain against the site's), kept as the learner's ``pref-lang``.
    language: Optional[str] = None
    # True: switch the account off (the platform's "User Disabled"); False: on again.
    disabled: Optional[bool] = None
    # A new password (the platform's policy applies; SCIM's, never the learner API's): set once switched on.
    password: Optional[str] = None

    def __repr__(self):
        """Represent the change without the learner's name or email (personal data), or a password."""
        return (f"LearnerChange(name={'<set>' if self.name is not None else None}, "
                f"email={'<set>' if self.email is not None else None}, language={self.language!r}, "
                f"disabled={self.disabled!r}, password={'<set>' if self.password is not None else None})")
