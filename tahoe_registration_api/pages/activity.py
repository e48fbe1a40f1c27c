"""What the API did on a site, from the audit store: the last entries, newest first, paged."""

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator

from tahoe_registration_api.audit import OPERATOR_ACTIONS, TOKEN_ACTIONS
from tahoe_registration_api.models import AuditEntry

LATEST = 100
PER_PAGE = 25


def recent_activity(site, page_number):
    """Return the page ``page_number`` of the site's last LATEST API calls (token changes left out)."""
    entries = list(
        AuditEntry.objects.filter(site_id=site.pk).exclude(action__in=TOKEN_ACTIONS)
        .order_by("-created", "-pk")[:LATEST]
    )
    callers = {entry.caller_id for entry in entries if entry.caller_id is not None}
    usernames = dict(get_user_model().objects.filter(pk__in=callers).values_list("pk", "username"))
    for entry in entries:
        entry.caller_username = usernames.get(entry.caller_id)
        entry.by_operator = entry.action in OPERATOR_ACTIONS
    return Paginator(entries, PER_PAGE).get_page(page_number)
