"""
The courses of a site: those its organization holds, as the platform describes them.

A course belongs to a site when the site's organization holds it: an active edx-organizations
``OrganizationCourse`` link, the record Studio writes when a course (or a rerun) is created and
that tahoe-sites reads to find a course's site (``get_site_by_course``). It must also exist on
the platform (a course overview). Anything else (a key that does not parse, a course of another
site, no course at all) is "not a course of this site", the same answer in each case. See
``docs/decisions/0019-courses-and-enrollments-through-the-platforms-own-code.rst``.
"""

from opaque_keys.edx.keys import CourseKey
from organizations.models import OrganizationCourse

from tahoe_registration_api.adapter import platform_adapter
from tahoe_registration_api.exceptions import InvalidCourseIds, InvalidRegistration
from tahoe_registration_api.i18n import gettext_noop, message
from tahoe_registration_api.learner_input import parse_course_key


def course_key(text):
    """Return the ``CourseKey`` of a canonical course key string."""
    return CourseKey.from_string(text)


class SiteCourses:
    """
    The courses of one site's organization, looked up as they are asked for and remembered for the object's life.

    One object serves one call (a bulk call of 500 learners enrolled in the same course asks the
    database once).
    """

    def __init__(self, organization, adapter=None):
        """Name the organization; nothing is read yet."""
        self.organization = organization
        self.adapter = adapter or platform_adapter()
        self._known = {}  # canonical key -> whether it is a course of the site
        self._modes = {}  # canonical key -> its mode slugs

    def linked_keys(self):
        """Return the canonical keys of the courses the organization holds (active links that parse), sorted."""
        linked = OrganizationCourse.objects.filter(organization=self.organization, active=True).values_list(
            "course_id", flat=True)
        return sorted({key for key in map(parse_course_key, linked) if key is not None})

    def listed(self, org=None, number=None, display_name=None):
        """
        Return the keys of the site's courses (those the platform has), sorted; filtered as the course list is.

        ``org`` and ``number`` match the key's organization and course number exactly, case aside;
        ``display_name`` is contained in the course's name, case aside.
        """
        keys = self.linked_keys()
        if org or number:
            keys = [key for key in keys if _matches(course_key(key), org, number)]
        return self.adapter.existing_course_keys(keys, display_name=display_name or None)

    def unknown(self, texts):
        """Return, in order and once each, the given texts that are not courses of the site (as given)."""
        canonical = {text: parse_course_key(text) for text in texts}
        to_look_up = sorted({key for key in canonical.values() if key is not None and key not in self._known})
        if to_look_up:
            linked = {parse_course_key(key) for key in OrganizationCourse.objects.filter(
                organization=self.organization, active=True, course_id__in=to_look_up,
            ).values_list("course_id", flat=True)}
            existing = set(self.adapter.existing_course_keys(sorted(linked & set(to_look_up))))
            self._known.update({key: key in existing for key in to_look_up})
        unknown = []
        for text, key in canonical.items():
            if (key is None or not self._known[key]) and text not in unknown:
                unknown.append(text)
        return unknown

    def check(self, texts, field="courses"):
        """Return the canonical keys of ``texts`` (courses of the site), in order; else raise ``InvalidCourseIds``."""
        if unknown := self.unknown(texts):
            raise InvalidCourseIds(unknown, field)
        return list(dict.fromkeys(parse_course_key(text) for text in texts))

    def modes(self, keys):
        """Return ``{key: [mode slug, ...]}``: the modes one may be enrolled in (the platform's default if none)."""
        missing = [key for key in keys if key not in self._modes]
        if missing:
            self._modes.update(self.adapter.course_modes(missing))
        return {key: self._modes[key] for key in keys}

    def check_mode(self, keys, mode, field="mode"):
        """Raise ``InvalidRegistration`` naming ``field`` unless ``mode`` (when given) is a mode of each course."""
        if mode is None:
            return
        lacking = [key for key, slugs in self.modes(keys).items() if mode not in slugs]
        if lacking:
            raise InvalidRegistration(f"Invalid fields: {field}.", field_errors={field: message(
                gettext_noop("Not a mode of {courses} (its modes: {modes})."), courses=", ".join(lacking),
                modes="; ".join(f"{key}: {', '.join(self._modes[key])}" for key in lacking),
            )})


def _matches(key, org, number):
    """Whether the key's organization and number are those asked for (case aside); an absent filter matches."""
    return (not org or key.org.lower() == org.lower()) and (not number or key.course.lower() == number.lower())
