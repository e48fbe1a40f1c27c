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
