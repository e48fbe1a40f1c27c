"""
The site's webhooks as the token page shows them: each with its last deliveries, and the form that adds one.

The rules are ``webhooks.endpoints``' (as for the API): this module reads the page's form and
shapes what the template shows. A webhook's secret is never read here: the views pass the one
just made (or rotated) to the page, which shows it that once.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

from tahoe_registration_api.i18n import user_text
from tahoe_registration_api.webhooks import endpoints
from tahoe_registration_api.webhooks.addresses import URL_MAX
from tahoe_registration_api.webhooks.events import EVENT_TYPES

RECENT_DELIVERIES = 10
# What each event type says, in the page's words (a type missing here is shown by its name alone).
EVENT_DESCRIPTIONS = {
    "learner.registered": gettext_lazy("a learner is registered"),
    "learner.updated": gettext_lazy("a learner's details are changed"),
    "learner.disabled": gettext_lazy("a learner's account is switched off"),
    "learner.enabled": gettext_lazy("a learner's account is switched on again"),
    "enrollment.created": gettext_lazy("a learner is enrolled in a course"),
    "enrollment.deactivated": gettext_lazy("a learner is unenrolled from a course"),
    "registration_job.completed": gettext_lazy("a registration job is finished"),
}
NO_EVENT = gettext_lazy("Pick one or more events.")


@dataclass
class WebhookForm:
    """The form that adds a webhook: what was typed and ticked, and what is wrong with it (field: message)."""

    url: str = ""
    events: tuple = ()
    errors: dict = field(default_factory=dict)

    @classmethod
    def posted(cls, post):
        """Return the form the admin sent: the URL as typed, the events ticked."""
        return cls(url=post.get("url", ""), events=tuple(post.getlist("events")))

    @property
    def shown_url(self):
        """Return the URL to show back in the form (a refused one, to be corrected): at most a few times too long."""
        return self.url[:4 * URL_MAX]

    def data(self):
        """Return the form as ``endpoints.parse`` reads a webhook (the API's JSON)."""
        return {"url": self.url, "events": list(self.events)}

    def refused(self, field_errors):
        """Keep the parse's errors, in the page's words where the API's would not fit."""
        self.errors = {name: str(NO_EVENT) if name == "events" and not self.events else user_text(message)
                       for name, message in field_errors.items()}
        return self

    def choices(self):
        """Return the event types to tick: (type, what it says, whether it is ticked), in the documented order."""
        return [(event, EVENT_DESCRIPTIONS.get(event, ""), event in self.events) for event in EVENT_TYPES]


@dataclass
class NewSecret:
    """A secret just made (``rotated``: by a rotation), shown this once with its webhook."""

    endpoint: object
    secret: str
    rotated: bool = False

    @property
    def previous_expires(self):
        """Return until when the previous secret signs too (a rotation), else None."""
        return self.endpoint.previous_expires if self.rotated else None


def posted_id(post):
    """Return the webhook id a form posted (``webhook``), None when it is not a number (no webhook has it)."""
    value = post.get("webhook", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 19 else None


def page_context(site):
    """Return what the page's webhooks part shows of the site: its webhooks, and what a new one may be."""
    return {
        "webhooks": site_webhooks(site),
        "webhooks_max": endpoints.MAX_PER_SITE,
        "webhook_deliveries_shown": RECENT_DELIVERIES,
        "webhooks_disable_after": settings.TAHOE_REGISTRATION_API_WEBHOOK_DISABLE_AFTER,
        "webhook_retry_hours": retry_hours(),
        "webhook_url_help": url_help(),
    }


def retry_hours():
    """Return about how many hours a failed delivery is tried again (the retry schedule's sum)."""
    return round(sum(float(delay) for delay in settings.TAHOE_REGISTRATION_API_WEBHOOK_RETRY_SCHEDULE) / 3600)


def url_help():
    """Return what a webhook's URL may be, as the operator's settings say."""
    http = settings.TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_HTTP
    if settings.TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_PRIVATE:
        return (gettext("It starts with https:// or http:// and may name any address, a private network's too.")
                if http else gettext("It starts with https:// and may name any address, a private network's too."))
    return (gettext("It starts with https:// or http:// and names a public address (not a private network's).")
            if http else gettext("It starts with https:// and names a public address (not a private network's)."))


def site_webhooks(site):
    """
    Return the site's webhooks, oldest first, as the page shows them (never a secret).

    Each endpoint gains ``details`` (``endpoints.describe``: events, state, the rotation's
    overlap) and ``recent_deliveries`` (its last ``RECENT_DELIVERIES`` attempts, newest first).
    """
    shown = list(endpoints.site_endpoints(site.pk))
    for endpoint in shown:
        endpoint.details = endpoints.describe(endpoint)
        endpoint.recent_deliveries = list(endpoints.attempts(endpoint)[:RECENT_DELIVERIES])
    return shown
