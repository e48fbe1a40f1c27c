"""
The token page: ``GET /tahoe/api/token/`` and its three changes, each a POST with the LMS's CSRF check.

A signed-in admin of the request's site (staff too where ``TAHOE_REGISTRATION_API_ALLOW_STAFF``)
sees whether the API is on for the site, their own token (its last four characters and creation
time), a ready ``curl`` command and the site's recent API activity. Creating or rotating shows
the full key once, in that POST's answer. Anyone else signed in gets a 403 page; a visitor is
sent to the LMS's sign-in page (``LOGIN_URL``) and back. A change whose body names a charset
other than UTF-8 is a 415 page, never a 500.
"""

import functools

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from tahoe_registration_api import api, audit
from tahoe_registration_api.lookups import cached_site_switches
from tahoe_registration_api.pages import tokens
from tahoe_registration_api.pages.access import managed_organization
from tahoe_registration_api.pages.activity import recent_activity
from tahoe_registration_api.rest_api.parsers import UnsupportedCharset, enforce_charset
from tahoe_registration_api.switches import registration_api_enabled

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


def readable_body(view):
    """
    Check a POST's CSRF token once its body is known to be UTF-8; any other charset is a 415 page.

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
                       "problem": exc.developer_message}
            return render(request, "tahoe_registration_api/unreadable_body.html", context, status=415)
        return protected(request, *args, **kwargs)
    return wrapper


def render_token_page(request, new_key=None, message=None, status=200):
    """Render the token page; ``new_key`` is the key just created or rotated, shown this once."""
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
    }
    response = render(request, "tahoe_registration_api/token_page.html", context, status=status)
    if new_key:
        response["Cache-Control"] = "no-store"  # the key is in this answer only
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
        return render_token_page(request, message="You already have a token: rotate it to get a new key.",
                                 status=409)
    audit.record_token_change(request, "token_created")
    return render_token_page(request, new_key=token.key, message="Your token was created.")


@require_POST
@readable_body
@site_admin_page
def rotate_token(request):
    """Give the admin's token a new key and show it once (the old key stops working); a 409 without one."""
    token = tokens.rotate_token(request.user)
    if token is None:
        return render_token_page(request, message="You have no token to rotate: create one.", status=409)
    audit.record_token_change(request, "token_rotated")
    return render_token_page(request, new_key=token.key,
                             message="Your token was rotated: the old key no longer works.")


@require_POST
@readable_body
@site_admin_page
def revoke_token(request):
    """Delete the admin's token."""
    if tokens.revoke_token(request.user):
        audit.record_token_change(request, "token_revoked")
        return render_token_page(request, message="Your token was revoked: its key no longer works.")
    return render_token_page(request, message="You have no token.")
