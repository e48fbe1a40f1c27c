"""
``tahoe_create_site DOMAIN SHORT_NAME --admin USERNAME [--name NAME]``: make a Tahoe site.

On an upstream Open edX no Appsembler console creates Tahoe sites. This command does what the API
needs: the Django site of DOMAIN, the edx-organizations organization SHORT_NAME, tahoe-sites' link
between them, and the admin's membership of the organization. Idempotent: what already exists as
asked is reused, a second run changes nothing and says so. A state that contradicts the request
(the domain bound to another organization, the admin a member of another one) is an error, and
nothing is written: the command runs in one transaction.
"""

import re

from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.core.exceptions import ObjectDoesNotExist
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from organizations.models import Organization
from tahoe_sites import api as tahoe_sites
from tahoe_sites.models import UserOrganizationMapping

# A host name (letters, digits, hyphens; dot-separated labels), optionally with a port.
DOMAIN_RE = re.compile(r"^(?=.{1,100}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
                       r"(:[0-9]{1,5})?$")
# edx-organizations' rule for a short name (Organization.clean), bounded by the column's length.
SHORT_NAME_RE = re.compile(r"^[a-zA-Z0-9._-]{1,255}$")


class Command(BaseCommand):
    """Create, or confirm, a Tahoe site and its admin."""

    help = ("Create a Tahoe site: the Django site DOMAIN, the organization SHORT_NAME, tahoe-sites' link between "
            "them and USERNAME as the organization's admin. Safe to run again.")

    def add_arguments(self, parser):
        """Take the domain, the short name, the admin and the display name."""
        parser.add_argument("domain", help="The site's domain, as learners and callers reach it (e.g. "
                                           "learn.example.com).")
        parser.add_argument("short_name", help="The organization's short name (letters, digits, '.', '-', '_').")
        parser.add_argument("--admin", required=True, metavar="USERNAME",
                            help="An existing, active user who becomes the organization's admin.")
        parser.add_argument("--name", help="The organization's display name (default: the short name).")

    def handle(self, *args, **options):
        """Check the arguments, then write what is missing in one transaction and report it."""
        domain = options["domain"].strip().lower()
        short_name = options["short_name"].strip()
        if not DOMAIN_RE.match(domain):
            raise CommandError(f"{options['domain']!r} is not a valid domain (a host name, optionally with :port).")
        if not SHORT_NAME_RE.match(short_name):
            raise CommandError(f"{options['short_name']!r} is not a valid short name: use letters, digits, "
                               "'.', '-' and '_' only.")
        name = options["name"].strip() if options["name"] else None
        if options["name"] is not None and not name:
            raise CommandError("The display name (--name) must not be empty.")
        with transaction.atomic():
            changes = self.apply(domain, short_name, name, options["admin"])
        for change in changes:
            self.stdout.write(change)
        if not changes:
            self.stdout.write(f"Nothing to change: {domain} is already the Tahoe site of the organization "
                              f"{short_name}, administered by {options['admin']}.")

    def apply(self, domain, short_name, name, username):
        """Write what is missing; return what was done, one sentence each. Raise before writing on a conflict."""
        admin = self.admin(username)
        site = Site.objects.filter(domain__iexact=domain).first()
        organization = Organization.objects.filter(short_name__iexact=short_name).first()
        linked_organization = linked(tahoe_sites.get_organization_by_site, site)
        linked_site = linked(tahoe_sites.get_site_by_organization, organization)
        if linked_organization is not None and linked_organization != organization:
            raise CommandError(f"The domain {domain} already belongs to the organization "
                               f"{linked_organization.short_name}, not {short_name}.")
        if linked_site is not None and linked_site != site:
            raise CommandError(f"The organization {organization.short_name} already has the site "
                               f"{linked_site.domain}, not {domain}.")
        membership = UserOrganizationMapping.objects.filter(user=admin).select_related("organization").first()
        if membership is not None and membership.organization != organization:
            raise CommandError(f"{username} is a member of the organization {membership.organization.short_name}; "
                               "a user belongs to one organization only.")

        changes = []
        if site is None:
            site = Site.objects.create(domain=domain, name=name or short_name)
            changes.append(f"Created the site {domain}.")
        if organization is None:
            organization = Organization.objects.create(
                short_name=short_name, name=name or short_name, description=f"Organization of {domain}"
            )
            changes.append(f"Created the organization {short_name}.")
        elif name and organization.name != name:
            organization.name = name
            organization.save()
            changes.append(f"Renamed the organization {organization.short_name} to {name!r}.")
        if linked_site is None:
            tahoe_sites.create_tahoe_site_by_link(organization, site)
            changes.append(f"Linked {domain} to the organization {organization.short_name} (a Tahoe site).")
        if membership is None:
            tahoe_sites.add_user_to_organization(admin, organization, is_admin=True)
            changes.append(f"Made {username} an admin of {organization.short_name}.")
        elif not membership.is_admin:
            tahoe_sites.update_admin_role_in_organization(admin, organization, set_as_admin=True)
            changes.append(f"Made {username}, already a member, an admin of {organization.short_name}.")
        return changes

    @staticmethod
    def admin(username):
        """Return the admin-to-be, who must be an existing, active user."""
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user has the username {username!r}: create the user first.") from exc
        if not user.is_active:
            raise CommandError(f"The user {username!r} is not active: an inactive admin cannot call the API.")
        return user


def linked(lookup, instance):
    """Return what tahoe-sites' ``lookup`` links to ``instance`` (a site or an organization), or None."""
    if instance is None:
        return None
    try:
        return lookup(instance)
    except ObjectDoesNotExist:
        return None
