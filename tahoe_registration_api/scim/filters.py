"""
A SCIM ``filter`` (RFC 7644 section 3.4.2.2) as a Django query on the site's learners, by ``scim2-filter-parser``.

The attributes a filter may name: ``userName`` (case aside), ``externalId`` (exact: it is
``caseExact``), ``emails`` / ``emails.value`` (case aside; ``emails[type eq "work"].value`` too:
a learner has one Open edX address, whatever its type) and ``active``. Any other attribute is a 400
``invalidFilter`` naming it: the library would otherwise drop the clause and match more learners
than asked. The learners' query must carry the annotations ``scim_user_name``, ``scim_external_id``
and ``scim_active`` (``users.py``).
"""

from django.db.models import Q
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser
from scim2_filter_parser.transpilers.django_q_object import Transpiler as QTranspiler
from scim2_filter_parser.transpilers.sql import Transpiler as PathCollector

from tahoe_registration_api.scim import schemas
from tahoe_registration_api.scim.errors import ScimProblem

MAX_FILTER = 1000  # characters

ATTRIBUTES = {
    ("username", None): "scim_user_name",
    ("externalid", None): "scim_external_id",
    ("emails", None): "email",
    ("emails", "value"): "email",
    ("active", None): "scim_active",
}
IGNORED = {("emails", "type")}  # the type in ``emails[type eq "work"].value``: one address, whatever its type
CASE_EXACT = ("scim_external_id",)
CASE_INSENSITIVE = ("iexact", "icontains", "istartswith", "iendswith")


def invalid_filter(detail):
    """Return a 400 ``invalidFilter``."""
    return ScimProblem(400, f"filter: {detail}", "invalidFilter")


def filter_query(text):
    """Return the ``Q`` of a filter's text; raise a 400 ``invalidFilter`` for one that cannot be read or answered."""
    if len(text) > MAX_FILTER:
        raise invalid_filter(f"At most {MAX_FILTER} characters.")
    try:
        tree = SCIMParser().parse(SCIMLexer().tokenize(text))
        collector = PathCollector({})
        collector.transpile(tree)
    except Exception as exc:  # the library raises several kinds on bad text
        raise invalid_filter("Not a SCIM filter (e.g. userName eq \"jdoe\").") from exc
    attr_map = {}
    for path in collector.attr_paths:
        uri = (path.uri or "").lower()
        key = (path.attr_name.lower(), path.sub_attr.lower() if path.sub_attr else None)
        if uri not in ("", schemas.USER.lower()) or (key not in ATTRIBUTES and key not in IGNORED):
            name = ".".join(part for part in (path.uri, path.attr_name, path.sub_attr) if part)
            raise invalid_filter(f"{name} cannot be filtered on (userName, externalId, emails.value, active can).")
        if key in ATTRIBUTES:
            attr_map[(path.attr_name, path.sub_attr, path.uri)] = ATTRIBUTES[key]
    try:
        query = QTranspiler(attr_map).transpile(tree)
    except Exception as exc:  # an operator the transpiler has no lookup for
        raise invalid_filter("Not a filter this service can answer.") from exc
    if query is None:
        raise invalid_filter("Not a filter this service can answer.")
    return _case_exact(query)


def _case_exact(query):
    """Return ``query`` with the comparisons of case-exact attributes made exact (``externalId``)."""
    children = []
    for child in query.children:
        if isinstance(child, Q):
            children.append(_case_exact(child))
            continue
        lookup, value = child
        field, _, operator = lookup.partition("__")
        if field in CASE_EXACT and operator in CASE_INSENSITIVE:
            lookup = f"{field}__{operator[1:]}"
        children.append((lookup, value))
    return Q(*children, _connector=query.connector, _negated=query.negated)
