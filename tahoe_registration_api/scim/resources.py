"""
The SCIM ``User`` resource of a learner: read from a request's body, and written from the learner.

A learner's Open edX records give the SCIM view its ``id``, email, full name and ``active``; the
site's ``ScimIdentity`` row gives what the platform keeps nowhere (``userName``, ``externalId``,
the name's parts, ``displayName``, the ``emails`` list), given back as the provider sent it as long
as it still agrees with the platform. When the learner was changed otherwise (the learner API, the
platform), the platform's values are shown. Attribute names are read case aside (RFC 7643 section 2.1).
"""

import json
import unicodedata
from dataclasses import dataclass, field
from typing import Optional, Tuple

from tahoe_registration_api.scim import schemas
from tahoe_registration_api.scim.errors import invalid_value

MAX_TEXT = 255  # userName, externalId, a name part, displayName, an email
MAX_EMAILS = 10
NAME_PARTS = ("formatted", "givenName", "familyName")
EMAIL_KEYS = ("value", "type", "primary")
BOOLEANS = {"true": True, "false": False}
# Core attributes a provider may send that the service does not keep (accepted, ignored).
NOT_KEPT = {
    "id", "meta", "schemas", "nickname", "profileurl", "title", "usertype", "preferredlanguage", "locale",
    "timezone", "phonenumbers", "ims", "photos", "addresses", "groups", "entitlements", "roles",
    "x509certificates",
    # the enterprise extension's, which Entra ID also sends without their schema (``"path": "manager"``)
    "employeenumber", "costcenter", "organization", "division", "department", "manager",
}


@dataclass(frozen=True)
class ScimUser:
    """A learner as a provider describes them (a create or a replace)."""

    user_name: str
    emails: Tuple[dict, ...]
    name: dict = field(default_factory=dict)
    display_name: Optional[str] = None
    active: Optional[bool] = None  # None: not given (the learner is switched on, and SCIM shows no ``active``)
    external_id: Optional[str] = None
    password: Optional[str] = None

    @property
    def email(self):
        """The learner's Open edX email: the primary address, else the first work one, else the first."""
        return chosen_email(self.emails)

    @property
    def enabled(self):
        """Whether the learner is to be switched on: unless ``active`` is false."""
        return self.active is not False

    @property
    def full_name(self):
        """The learner's Open edX full name."""
        return full_name(self.name, self.display_name, self.user_name)

    def kept(self):
        """Return, as JSON, what ``ScimIdentity.attributes`` keeps: the name's parts, displayName and emails."""
        return json.dumps({"name": self.name, "displayName": self.display_name, "emails": list(self.emails),
                           "active": self.active}, sort_keys=True)

    def __repr__(self):
        """Represent the user without personal data or the password."""
        return f"ScimUser(active={self.active!r}, password={'<set>' if self.password is not None else None})"


def chosen_email(emails):
    """Return the address among ``emails`` that is the learner's: primary, else the first work one, else the first."""
    for wanted in (lambda item: item.get("primary") is True, lambda item: item.get("type") == "work", bool):
        for item in emails:
            if wanted(item):
                return item["value"]
    return None


def full_name(name, display_name, user_name):
    """Return the full name: ``name.formatted``, else given and family names, else ``displayName``, else userName."""
    parts = " ".join(part for part in (name.get("givenName"), name.get("familyName")) if part)
    return name.get("formatted") or parts or display_name or user_name


def read_user(body):
    """
    Read a ``User`` from a POST or PUT body (or a patched resource); raise a 400 naming the attribute otherwise.

    ``userName`` and one email are required; ``password`` is a new password (never returned, so a
    replace or patch without one leaves the learner's as it is). Read-only attributes and those the service does
    not keep (``NOT_KEPT``, an extension's) are ignored, as are unknown ones (providers send their own).
    """
    if not isinstance(body, dict):
        raise invalid_value("body", "A User must be a JSON object.")
    values = {key.lower() if isinstance(key, str) else key: value for key, value in body.items()}
    schema_list = values.get("schemas")
    if schema_list is not None and (not isinstance(schema_list, list) or schemas.USER not in schema_list):
        raise invalid_value("schemas", f"Must list {schemas.USER}.")
    emails = _emails(values.get("emails"))
    if not emails:
        raise invalid_value("emails", "At least one email address is required.")
    password = values.get("password")
    if password is not None and not isinstance(password, str):
        raise invalid_value("password", "Must be a string.")
    return ScimUser(
        user_name=_text("userName", values.get("username"), required=True),
        emails=emails,
        name=_name(values.get("name")),
        display_name=_text("displayName", values.get("displayname")),
        active=_boolean("active", values.get("active"), default=None),
        external_id=_text("externalId", values.get("externalid"), strip=False),
        password=password or None,
    )


def _text(attribute, value, required=False, strip=True):
    """Read a string attribute (None when absent or null); at most MAX_TEXT characters, no control characters."""
    if value is None:
        if required:
            raise invalid_value(attribute, "Required.")
        return None
    if not isinstance(value, str):
        raise invalid_value(attribute, "Must be a string.")
    text = value.strip() if strip else value
    if required and not text:
        raise invalid_value(attribute, "Must not be blank.")
    if len(text) > MAX_TEXT:
        raise invalid_value(attribute, f"At most {MAX_TEXT} characters.")
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in text):
        raise invalid_value(attribute, "Must not hold control characters.")
    return text


def _boolean(attribute, value, default):
    """Read a boolean: JSON true/false, or the strings "True"/"False" (any case) some providers send."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in BOOLEANS:
        return BOOLEANS[value.strip().lower()]
    raise invalid_value(attribute, "Must be true or false.")


def _name(value):
    """Read ``name``: the parts given (``formatted``, ``givenName``, ``familyName``), others ignored."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_value("name", "Must be an object.")
    given = {key.lower(): part for key, part in value.items() if isinstance(key, str)}
    name = {}
    for part in NAME_PARTS:
        text = _text(f"name.{part}", given.get(part.lower()))
        if text:
            name[part] = text
    return name


def _emails(value):
    """Read ``emails``: each with a ``value``, an optional ``type`` and ``primary``; at most one primary."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise invalid_value("emails", "Must be a list.")
    if len(value) > MAX_EMAILS:
        raise invalid_value("emails", f"At most {MAX_EMAILS} addresses.")
    emails = []
    for item in value:
        if not isinstance(item, dict):
            raise invalid_value("emails", "Each address must be an object with a value.")
        given = {key.lower(): part for key, part in item.items() if isinstance(key, str)}
        address = _text("emails.value", given.get("value"), required=True)
        kept = {"value": address}
        if (kind := _text("emails.type", given.get("type"))) is not None:
            kept["type"] = kind
        if given.get("primary") is not None:
            kept["primary"] = _boolean("emails.primary", given.get("primary"), default=False)
        emails.append(kept)
    if sum(1 for item in emails if item.get("primary") is True) > 1:
        raise invalid_value("emails", "At most one address may be primary.")
    return tuple(emails)


def represent(user, profile, identity, base_url):
    """
    Return learner ``user`` as a SCIM ``User``.

    ``profile``: the platform's ``{"name": ...}`` of the learner; ``identity``: the site's
    ``ScimIdentity`` of the learner, or None; ``base_url``: the service's root (for ``meta.location``).
    """
    kept = json.loads(identity.attributes) if identity is not None else {}
    user_name = identity.user_name if identity is not None else user.username
    resource = {"schemas": [schemas.USER], "id": str(user.pk)}
    if identity is not None and identity.external_id is not None:
        resource["externalId"] = identity.external_id
    resource["userName"] = user_name
    stored_name, display_name = kept.get("name") or {}, kept.get("displayName")
    platform_name = profile.get("name") or ""
    if full_name(stored_name, display_name, user_name) == platform_name:
        name = stored_name
    else:  # the name was changed otherwise: the platform's is the learner's
        name = {"formatted": platform_name} if platform_name else {}
    if name:
        resource["name"] = name
    if display_name is not None:
        resource["displayName"] = display_name
    emails = kept.get("emails") or []
    if not emails or (chosen_email(emails) or "").lower() != user.email.lower():
        emails = [{"value": user.email, "type": "work", "primary": True}]
    resource["emails"] = emails
    if identity is None or kept.get("active") is not None or not user.has_usable_password():
        resource["active"] = user.has_usable_password()  # switched off otherwise, it shows
    modified = max(user.date_joined, identity.modified) if identity is not None else user.date_joined
    resource["meta"] = {
        "resourceType": "User", "created": _timestamp(user.date_joined), "lastModified": _timestamp(modified),
        "location": f"{base_url}Users/{user.pk}",
    }
    return resource


def _timestamp(moment):
    """Return an aware datetime as RFC 3339 text."""
    return moment.isoformat().replace("+00:00", "Z")


ALWAYS_RETURNED = ("schemas", "id")


def attribute_list(text):
    """Read ``attributes`` / ``excludedAttributes``: comma-separated paths, as ``(attribute, sub-attribute)``."""
    paths = []
    for raw in (text or "").split(","):
        path = raw.strip()
        if not path:
            continue
        if path.lower().startswith(schemas.USER.lower() + ":"):
            path = path[len(schemas.USER) + 1:]
        attribute_name, _, sub = path.partition(".")
        paths.append((attribute_name.lower(), sub.lower() or None))
    return paths


def project(resource, attributes=None, excluded=None):
    """
    Return ``resource`` with only the ``attributes`` asked for, or without the ``excluded`` ones (RFC 7644 3.4.2.5).

    ``schemas`` and ``id`` are always returned; both lists are ``attribute_list``'s.
    """
    if attributes:
        kept = {}
        for key, value in resource.items():
            wanted = [sub for name, sub in attributes if name == key.lower()]
            if key in ALWAYS_RETURNED or None in wanted:
                kept[key] = value
            elif wanted:
                kept[key] = _sub_attributes(value, set(wanted), keep=True)
        return kept
    if excluded:
        kept = {}
        for key, value in resource.items():
            unwanted = [sub for name, sub in excluded if name == key.lower()]
            if key in ALWAYS_RETURNED or not unwanted:
                kept[key] = value
            elif None not in unwanted:
                kept[key] = _sub_attributes(value, set(unwanted), keep=False)
        return kept
    return resource


def _sub_attributes(value, subs, keep):
    """Return a complex value (or each of a list of them) with only (``keep``) or without the sub-attributes named."""
    if isinstance(value, list):
        return [_sub_attributes(item, subs, keep) for item in value]
    if not isinstance(value, dict):
        return value
    return {key: part for key, part in value.items() if (key.lower() in subs) == keep}
