"""``devlms_seed``: create (idempotently) the development LMS's two Tahoe sites, their admins and courses."""

import os

from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.core.management.base import BaseCommand
from django.utils import timezone
from organizations.models import OrganizationCourse
from rest_framework.authtoken.models import Token
from tahoe_sites.api import add_user_to_organization, create_tahoe_site, get_organization_by_site
from tahoe_sites.models import UserOrganizationMapping

from devlms.models import Course, CourseMode

SITES = (("alpha.localhost", "alpha"), ("beta.localhost", "beta"))
# Each site's courses: (number, run, name); every course has the audit and verified modes.
COURSES = (("Intro", "2026", "Introduction to {site}"), ("Data", "2026", "{site} Data Literacy"))


def seed_courses(organization):
    """Create the organization's courses (overview, modes, the organization's link) if missing; return their keys."""
    keys = []
    for number, run, name in COURSES:
        key = f"course-v1:{organization.short_name}+{number}+{run}"
        course, _ = Course.objects.get_or_create(id=key, defaults={
            "org": organization.short_name, "display_name": name.format(site=organization.short_name.title()),
            "start": timezone.now() - timezone.timedelta(days=7), "end": timezone.now() + timezone.timedelta(days=180),
        })
        CourseMode.objects.get_or_create(course=course, mode_slug="audit", defaults={"mode_display_name": "Audit"})
        CourseMode.objects.get_or_create(course=course, mode_slug="verified", defaults={
            "mode_display_name": "Verified Certificate", "min_price": 49})
        OrganizationCourse.objects.get_or_create(organization=organization, course_id=key, defaults={"active": True})
        keys.append(key)
    return keys


def development_password(short_name):
    """Return the seeded admin's password: development only, printed for anyone to sign in with."""
    return f"{short_name}-dev-only-password"


class Command(BaseCommand):
    """Seed sites alpha.localhost and beta.localhost, each with an organization and an admin."""

    help = "Create the development sites and admins if missing, and print how to call the API."

    def handle(self, *args, **options):
        """Seed, then print each site's domain, admin, token, a curl command and how to open the token page."""
        port = os.environ.get("PORT", "8000")
        for domain, short_name in SITES:
            site = Site.objects.filter(domain=domain).first()
            if site is None:
                site = create_tahoe_site(domain=domain, short_name=short_name)["site"]
            organization = get_organization_by_site(site)
            admin, created = get_user_model().objects.get_or_create(
                username=f"{short_name}_admin", defaults={"email": f"admin@{domain}", "is_active": True}
            )
            if created or not admin.has_usable_password():
                admin.set_password(development_password(short_name))
                admin.save()
            if not UserOrganizationMapping.objects.filter(user=admin).exists():
                add_user_to_organization(admin, organization, is_admin=True)
            token, _ = Token.objects.get_or_create(user=admin)
            course_keys = seed_courses(organization)
            self.stdout.write(
                f"\nSite {domain}\n  admin: {admin.username}\n  token: {token.key}\n  try:\n"
                f"    curl -X POST http://127.0.0.1:{port}/tahoe/api/v1/registrations/ "
                f"-H 'Host: {domain}' -H 'Authorization: Token {token.key}' "
                "-H 'Content-Type: application/json' "
                f"-d '{{\"username\": \"auserton\", \"email\": \"alex.userton@example.com\", "
                f"\"name\": \"Alex Userton\"}}'\n"
                f"  courses: {', '.join(course_keys)}\n  then enroll that learner:\n"
                f"    curl -X POST http://127.0.0.1:{port}/tahoe/api/v1/enrollments/ "
                f"-H 'Host: {domain}' -H 'Authorization: Token {token.key}' "
                "-H 'Content-Type: application/json' "
                f"-d '{{\"action\": \"enroll\", \"identifiers\": [\"auserton\"], "
                f"\"courses\": [\"{course_keys[0]}\"]}}'\n"
                f"  token page: sign in as {admin.username} with the development-only password "
                f"{development_password(short_name)} at http://{domain}/tahoe/api/token/ in a browser whose HTTP\n"
                f"    proxy is this server (it serves every site on one port, and the site is the Host's name):\n"
                f"    chromium --proxy-server=http://127.0.0.1:{port} --proxy-bypass-list='<-loopback>' "
                f"--user-data-dir=$(mktemp -d) http://{domain}/tahoe/api/token/\n"
            )
