"""
A SCIM ``PatchOp`` (RFC 7644 section 3.5.2) applied to a ``User`` resource, giving the resource it asks for.

What providers send is read as they send it: ``op`` in any case (Entra ID's ``Replace``), an ``add``
or ``replace`` without a ``path`` whose value holds attributes (Okta's ``{"active": false}``, Entra
ID's dotted ``"name.givenName"``), paths such as ``name.familyName`` and ``emails[type eq
"work"].value`` (which adds the address when the learner has none of that type). Operations on
attributes the service does not keep (``resources.NOT_KEPT``, another schema's extension) change
nothing; an unknown attribute is a 400 ``invalidPath``. The result is then read as a replace is.
"""

import copy
import re

from tahoe_registration_api.scim import schemas
from tahoe_registration_api.scim.errors import ScimProblem
from tahoe_registration_api.scim.resources import NOT_KEPT

KEPT = {"username": "userName", "name": "name", "displayname": "displayName", "emails": "emails",
        "active": "active", "externalid": "externalId", "password": "password"}
NAME_PARTS = {"formatted": "formatted", "givenname": "givenName", "familyname": "familyName"}
EMAIL_PARTS = {"value": "value", "type": "type", "primary": "primary"}
OPERATIONS = ("add", "replace", "remove")
PATH = re.compile(r"^(?P<attr>[A-Za-z][\w$-]*)(?:\[(?P<filter>[^\]]*)\])?(?:\.(?P<sub>[A-Za-z][\w$-]*))?\Z")
VALUE_FILTER = re.compile(r'^\s*(?P<sub>[A-Za-z]+)\s+eq\s+(?P<value>"(?:[^"\\]|\\.)*"|true|false)\s*\Z', re.I)
MAX_OPERATIONS = 100


def invalid(detail, scim_type="invalidValue"):
    """Return a 400 of the given SCIM error type."""
    return ScimProblem(400, detail, scim_type)


def apply_patch(resource, body):
    """Return a copy of ``resource`` with ``body``'s operations applied, in order; raise a 400 otherwise."""
    if not isinstance(body, dict):
        raise invalid("A PatchOp must be a JSON object.", "invalidSyntax")
    given = {key.lower(): value for key, value in body.items() if isinstance(key, str)}
    schema_list = given.get("schemas")
    if schema_list is not None and (not isinstance(schema_list, list) or schemas.PATCH_OP not in schema_list):
        raise invalid(f"schemas: Must list {schemas.PATCH_OP}.", "invalidSyntax")
    operations = given.get("operations")
    if not isinstance(operations, list) or not operations:
        raise invalid("Operations: Must be a list of at least one operation.", "invalidSyntax")
    if len(operations) > MAX_OPERATIONS:
        raise invalid(f"Operations: At most {MAX_OPERATIONS} operations.", "invalidSyntax")
    patched = copy.deepcopy(resource)
    for number, operation in enumerate(operations):
        _apply(patched, *_read_operation(operation, number))
    return patched


def _read_operation(operation, number):
    """Return an operation's ``(op, path, value)``: ``op`` lower-cased, ``path`` None when absent."""
    if not isinstance(operation, dict):
        raise invalid(f"Operations[{number}]: Must be an object.", "invalidSyntax")
    given = {key.lower(): value for key, value in operation.items() if isinstance(key, str)}
    op = given.get("op")
    if not isinstance(op, str) or op.lower() not in OPERATIONS:
        raise invalid(f"Operations[{number}].op: Must be add, replace or remove.", "invalidSyntax")
    path = given.get("path")
    if path is not None and not isinstance(path, str):
        raise invalid(f"Operations[{number}].path: Must be a string.", "invalidPath")
    op = op.lower()
    if path is None and op == "remove":
        raise invalid(f"Operations[{number}]: A remove needs a path.", "noTarget")
    if path is None and not isinstance(given.get("value"), dict):
        raise invalid(f"Operations[{number}].value: Without a path, the value must be an object.", "invalidValue")
    if op != "remove" and "value" not in given:
        raise invalid(f"Operations[{number}].value: Required.", "invalidValue")
    return op, path, given.get("value")


def _apply(resource, op, path, value):
    """Apply one operation to ``resource``."""
    if path is None:
        for key, item in value.items():
            _apply(resource, op, key, item)
        return
    target = _read_path(path)
    if target is None:
        return  # an attribute the service does not keep
    attr, value_filter, sub = target
    if attr == "emails":
        _apply_emails(resource, op, value_filter, sub, value)
    elif attr == "name":
        _apply_name(resource, op, sub, value)
    elif op == "remove":
        resource.pop(attr, None)
    else:
        resource[attr] = value


def _read_path(path):
    """Return ``(attribute, filter, sub-attribute)`` of a path, or None for an attribute not kept."""
    text = path.strip()
    if text.lower().startswith(schemas.USER.lower() + ":"):
        text = text[len(schemas.USER) + 1:]
    elif text.lower().startswith("urn:"):
        return None  # another schema's extension (e.g. the enterprise User's): not kept
    match = PATH.match(text)
    if match is None:
        raise invalid(f"{path}: Not a path of the User schema.", "invalidPath")
    attr, value_filter, sub = match.group("attr").lower(), match.group("filter"), match.group("sub")
    if attr in NOT_KEPT:
        return None
    if attr not in KEPT:
        raise invalid(f"{path}: The User schema has no such attribute.", "invalidPath")
    attr = KEPT[attr]
    if value_filter is not None and attr != "emails":
        raise invalid(f"{path}: Only emails can be filtered.", "invalidPath")
    if sub is not None:
        parts = {"name": NAME_PARTS, "emails": EMAIL_PARTS}.get(attr)
        if parts is None:
            raise invalid(f"{path}: {attr} has no sub-attributes.", "invalidPath")
        if sub.lower() not in parts:
            if attr == "name":
                return None  # a part of the name the service does not keep (middleName, ...)
            raise invalid(f"{path}: emails has no such sub-attribute.", "invalidPath")
        sub = parts[sub.lower()]
    return attr, _read_filter(path, value_filter), sub


def _read_filter(path, value_filter):
    """Read an email filter: ``(sub-attribute, value)``: ``type eq "work"``, ``value eq "x"``, ``primary eq true``."""
    if value_filter is None:
        return None
    match = VALUE_FILTER.match(value_filter)
    if match is None or match.group("sub").lower() not in EMAIL_PARTS:
        raise invalid(f"{path}: Only a filter such as type eq \"work\" is supported.", "invalidFilter")
    raw = match.group("value")
    expected = raw.lower() == "true" if raw.lower() in ("true", "false") else raw[1:-1].replace('\\"', '"')
    return EMAIL_PARTS[match.group("sub").lower()], expected


def _apply_name(resource, op, sub, value):
    """Apply an operation on ``name`` or one of its parts."""
    if sub is None:
        if op == "remove":
            resource.pop("name", None)
        elif op == "add" and isinstance(value, dict) and isinstance(resource.get("name"), dict):
            resource["name"] = {**resource["name"], **value}
        else:
            resource["name"] = value
        return
    name = resource.get("name") if isinstance(resource.get("name"), dict) else {}
    if op == "remove":
        name.pop(sub, None)
    else:
        name[sub] = value
    resource["name"] = name


def _matches(item, value_filter):
    """Whether an email matches ``(sub-attribute, value)`` (text case aside)."""
    sub, expected = value_filter
    actual = item.get(sub)
    if isinstance(expected, str) and isinstance(actual, str):
        return actual.lower() == expected.lower()
    return actual == expected


def _apply_emails(resource, op, value_filter, sub, value):  # pylint: disable=too-many-branches
    """Apply an operation on ``emails``, some of them (a filter) or a sub-attribute of them."""
    emails = [dict(item) for item in resource.get("emails") or [] if isinstance(item, dict)]
    chosen = [item for item in emails if value_filter is None or _matches(item, value_filter)]
    touched = []
    if op == "remove":
        if sub is None:
            emails = [item for item in emails if item not in chosen]
        else:
            for item in chosen:
                item.pop(sub, None)
    elif sub is not None:
        if not chosen:  # nothing of that kind yet: add it (Entra ID's email change)
            item = {value_filter[0]: value_filter[1]} if value_filter else {"primary": True}
            emails.append(item)
            chosen = [item]
        for item in chosen:
            item[sub] = value
        touched = chosen
    elif value_filter is not None:
        if op == "replace":
            touched = _as_list(value)
            emails = [item for item in emails if item not in chosen] + touched
        else:
            for item in chosen:
                item.update(value if isinstance(value, dict) else {})
            touched = chosen
    elif op == "replace":
        emails = touched = _as_list(value)
    else:  # add: new addresses join the list (one already there is updated)
        for new in _as_list(value):
            same = [item for item in emails if isinstance(new, dict) and _same_address(item, new)]
            if same:
                same[0].update(new)
                touched.append(same[0])
            else:
                emails.append(new)
                touched.append(new)
    _one_primary(emails, touched)
    resource["emails"] = emails


def _one_primary(emails, touched):
    """Leave one primary address: the one this operation made primary, the others no longer (RFC 7644 3.5.2)."""
    primaries = [item for item in emails if isinstance(item, dict) and item.get("primary") is True]
    if len(primaries) < 2:
        return
    made = [item for item in touched if isinstance(item, dict) and item.get("primary") is True]
    keep = made[-1] if made else primaries[-1]
    for item in primaries:
        if item is not keep:
            item["primary"] = False


def _same_address(item, new):
    """Whether two emails have the same address, case aside."""
    return str(item.get("value", "")).lower() == str(new.get("value", "")).lower()


def _as_list(value):
    """Return a multi-valued attribute's value as a list (a lone object becomes a list of one)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
