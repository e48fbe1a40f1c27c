"""
The token page: ``GET /tahoe/api/token/`` and its changes, each a POST with the LMS's CSRF check.

A signed-in admin of the request's site (staff too where ``TAHOE_REGISTRATION_API_ALLOW_STAFF``)
sees whether the API is on for the site, their own token (its last four characters and creation
time), a ready ``curl`` command, the site's webhooks (each with its last deliveries; a switched-off
one with why) and the site's recent API activity. Creating or rotating a token shows the full key
once, in that POST's answer; adding a webhook or rotating its secret shows the secret once, the
same way. Anyone else signed in gets a 403 page; a visitor is sent to the LMS's sign-in page
(``LOGIN_URL``) and back. A change whose body names a charset other than UTF-8 is a 415 page, a
webhook the site does not have a 404 page, a refused webhook the page with its form's errors
(400, or 409 when the site has as many webhooks as it may): never a 500.
"""

import functools

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from tahoe_registration_api import api, audit
from tahoe_registration_api.exceptions import InvalidRegistration, TooManyWebhooks, WebhookNotFound
from tahoe_registration_api.i18n import user_text
from tahoe_registration_api.lookups import cached_site_switches
from tahoe_registration_api.pages import site_webhooks, tokens
from tahoe_registration_api.pages.access import managed_organization
from tahoe_registration_api.pages.activity import recent_activity
from tahoe_registration_api.pages.site_webhooks import NewSecret, WebhookForm, posted_id
from tahoe_registration_api.rest_api.parsers import UnsupportedCharset, enforce_charset
from tahoe_registration_api.switches import registration_api_enabled
from tahoe_registration_api.webhooks import endpoints

# The LMS's own Django base template, where the LMS provides one; the plugin's plain one elsewhere.
LMS_BASE_TEMPLATE = "main_django.html"
PLUGIN_BASE_TEMPLATE = "tahoe_registration_api/base.html"
EXAMPLE_BODY = '{"username": "auserton", "email": "alex.userton@example.com", "name": "Alex Userton"}'


@functools.lru_cache(maxsize=None)
def base_template():
    """Return the name of the base template the pages extend."""
    try:
        get_template(LMS_BASE_TEMPLATE)
    except TemplateDoesNotExist:
        return PLUGIN_BASE_TEMPLATE
    return LMS_BASE_TEMPLATE


def site_admin_page(view):
    """Serve ``view`` to a signed-in user who acts for the request's site; a 403 page to anyone else."""
    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if managed_organization(request) is None:
            context = {"base_template": base_template(), "site_domain": request.site.domain}
            return render(request, "tahoe_registration_api/forbidden.html", context, status=403)
        return view(request, *args, **kwargs)
    return wrapper


def readable_body(view, unchanged=gettext_lazy("Your token was not changed")):
    """
    Check a POST's CSRF token once its body is known to be UTF-8; any other charset is a 415 page.

    ``unchanged`` is the 415 page's heading: what the refused POST did not change.

    Django's CSRF middleware reads a POST's form before the view runs and fails with a 500 on a
    charset it cannot decode it in (``rot13`` on Django 4.2; anything but UTF-8 on Django 5.1+),
    so the page looks at the charset first, then makes the very check the middleware would make.
    """
    protected = csrf_protect(view)

    @csrf_exempt  # checked below, once the form can be read
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            enforce_charset(request)
        except UnsupportedCharset as exc:
            # Whatever reads the form from here on (the LMS's context processors do) reads it as UTF-8.
            request.encoding = "utf-8"
            context = {"base_template": base_template(), "site_domain": request.site.domain,
                       "problem": user_text(exc.field_errors.get("Content-Type") or exc.developer_message),
                       "unchanged": str(unchanged)}
            return render(request, "tahoe_registration_api/unreadable_body.html", context, status=415)
        return protected(request, *args, **kwargs)
    return wrapper


readable_webhook_body = functools.partial(readable_body, unchanged=gettext_lazy("The site's webhooks were not changed"))


# pylint: disable-next=too-many-arguments
def render_token_page(request, new_key=None, message=None, status=200, *, new_secret=None, webhook_message=None,
                      webhook_form=None):
    """
    Render the token page; ``new_key`` is the key just created or rotated, shown this once.

    ``new_secret`` (a ``NewSecret``) is a webhook's secret just made, shown this once too;
    ``webhook_message`` says what became of a webhook; ``webhook_form`` is the form to add one
    as it was posted, with its errors.
    """
    token = tokens.token_of(request.user)
    context = {
        "base_template": base_template(),
        "site_domain": request.site.domain,
        "api_enabled": registration_api_enabled(cached_site_switches(api.platform_adapter(), request.site)),
        "token": token,
        "token_last_four": token.key[-4:] if token else None,
        "new_key": new_key,
        "message": message,
        "curl": (f"curl -X POST {request.build_absolute_uri(reverse('tahoe-api:registrations'))} \\\n"
                 "  -H 'Authorization: Token <your-token>' -H 'Content-Type: application/json' \\\n"
                 f"  -d '{EXAMPLE_BODY}'"),
        "activity": recent_activity(request.site, request.GET.get("page")),
        **site_webhooks.page_context(request.site),
        "new_secret": new_secret,
        "webhook_message": webhook_message,
        "webhook_form": webhook_form or WebhookForm(),
    }
    response = render(request, "tahoe_registration_api/token_page.html", context, status=status)
    if new_key or new_secret:
        response["Cache-Control"] = "no-store"  # the key (the secret) is in this answer only
    return response


@require_GET
@readable_body
@site_admin_page
def token_page(request):
    """Show the page."""
    return render_token_page(request)


@require_POST
@readable_body
@site_admin_page
def create_token(request):
    """Create the admin's token and show its key once; a 409 when they already have one."""
    token = tokens.create_token(request.user)
    if token is None:
        return render_token_page(request, message=gettext("You already have a token: rotate it to get a new key."),
                                 status=409)
    audit.record_token_change(request, "token_created")
    return render_token_page(request, new_key=token.key, message=gettext("Your token was created."))


@require_POST
@readable_body
@site_admin_page
def rotate_token(request):
    """Give the admin's token a new key and show it once (the old key stops working); a 409 without one."""
    token = tokens.rotate_token(request.user)
    if token is None:
        return render_token_page(request, message=gettext("You have no token to rotate: create one."), status=409)
    audit.record_token_change(request, "token_rotated")
    return render_token_page(request, new_key=token.key,
                             message=gettext("Your token was rotated: the old key no longer works."))


@require_POST
@readable_body
@site_admin_page
def revoke_token(request):
    """Delete the admin's token."""
    if tokens.revoke_token(request.user):
        audit.record_token_change(request, "token_revoked")
        return render_token_page(request, message=gettext("Your token was revoked: its key no longer works."))
    return render_token_page(request, message=gettext("You have no token."))


def no_such_webhook(request):
    """Answer a change of a webhook the site does not have (another site's, a removed one): the page, a 404."""
    return render_token_page(request, webhook_message=gettext("There is no such webhook on this site."), status=404)


@require_POST
@readable_webhook_body
@site_admin_page
def create_webhook(request):
    """Add a webhook to the site and show its secret once; the form with its errors when it is refused."""
    form = WebhookForm.posted(request.POST)
    try:
        url, events = endpoints.parse(form.data())
        endpoint, secret = endpoints.create(request.site.pk, url, events, request.user.pk)
    except InvalidRegistration as exc:
        return render_token_page(request, webhook_form=form.refused(exc.field_errors), status=400,
                                 webhook_message=gettext("The webhook was not added: correct its form below."))
    except TooManyWebhooks as exc:
        return render_token_page(request, webhook_form=form.refused({"non_field_errors": user_text(exc.user_message)}),
                                 status=409, webhook_message=gettext("The webhook was not added."))
    audit.record_page_change(request, "webhook_create", "webhook_change")
    return render_token_page(request, new_secret=NewSecret(endpoint, secret),
                             webhook_message=gettext("Webhook {webhook} was added.").format(webhook=endpoint.pk))


@require_POST
@readable_webhook_body
@site_admin_page
def rotate_webhook(request):
    """Give a webhook of the site a new secret and show it once; the previous one signs for 24 hours more."""
    try:
        endpoint, secret = endpoints.rotate(request.site.pk, posted_id(request.POST))
    except WebhookNotFound:
        return no_such_webhook(request)
    audit.record_page_change(request, "webhook_rotate", "webhook_change")
    return render_token_page(request, new_secret=NewSecret(endpoint, secret, rotated=True),
                             webhook_message=gettext("The secret of webhook {webhook} was rotated.").format(
                                 webhook=endpoint.pk))


@require_POST
@readable_webhook_body
@site_admin_page
def remove_webhook(request):
    """Remove a webhook of the site, with its deliveries' records; the deliveries still owed to it are dropped."""
    endpoint_id = posted_id(request.POST)
    try:
        endpoints.remove(request.site.pk, endpoint_id)
    except WebhookNotFound:
        return no_such_webhook(request)
    audit.record_page_change(request, "webhook_delete", "webhook_change")
    return render_token_page(request,
                             webhook_message=gettext("Webhook {webhook} was removed.").format(webhook=endpoint_id))


@require_POST
@readable_webhook_body
@site_admin_page
def switch_on_webhook(request):
    """Switch a switched-off webhook of the site on again: new events reach it, its failures are forgotten."""
    endpoint_id = posted_id(request.POST)
    try:
        was_on = endpoints.get(request.site.pk, endpoint_id).enabled
        endpoint = endpoints.switch_on(request.site.pk, endpoint_id)
    except WebhookNotFound:
        return no_such_webhook(request)
    if was_on:
        return render_token_page(request, webhook_message=gettext("Webhook {webhook} is switched on.").format(
            webhook=endpoint.pk))
    audit.record_page_change(request, "webhook_enable", "webhook_change")
    return render_token_page(request, webhook_message=gettext(
        "Webhook {webhook} was switched on again: new events reach it.").format(webhook=endpoint.pk))
