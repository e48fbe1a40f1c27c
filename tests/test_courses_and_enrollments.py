"""The site's courses, its enrollments and enrollment at registration, as an integrator calls them."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import TestCase
from organizations.models import OrganizationCourse

from devlms.management.commands.devlms_seed import seed_courses
from devlms.models import Course, CourseEnrollment, CourseEnrollmentAllowed, ManualEnrollmentRecord
from tahoe_registration_api.models import AuditEntry, OutboxMessage
from tests.conftest import learner_body, make_user
from tests.test_jobs import csv_of, post_csv, results_of

COURSES_URL = "/tahoe/api/v1/courses/"
ENROLLMENTS_URL = "/tahoe/api/v1/enrollments/"
INTRO, DATA = "course-v1:alpha+Intro+2026", "course-v1:alpha+Data+2026"
BETA_INTRO = "course-v1:beta+Intro+2026"
NOTHING = {"user": False, "enrollment": False, "allowed": False, "auto_enroll": False}


def emails():
    """The outbox's emails (beside the webhooks' events)."""
    return OutboxMessage.objects.filter(kind="email")


@pytest.fixture
def courses(alpha, beta):
    """Each site's two seeded courses (audit and verified modes)."""
    return seed_courses(alpha.organization), seed_courses(beta.organization)


def get(caller, site, url, **params):
    """GET ``url`` on ``site`` with query ``params``."""
    return caller.client.get(url, params, HTTP_HOST=site.domain)


def enroll(caller, site, url=ENROLLMENTS_URL, **body):
    """POST an enrollment call (what its commits owe runs at once)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return caller.client.post(url, body, format="json", HTTP_HOST=site.domain)


def results(response, course):
    """Return the per-identifier results of one course of an enrollment answer."""
    assert response.status_code == 200, response.content
    return response.json()["courses"][course]["results"]


def active_courses(user):
    """Return the keys of the user's active enrollments."""
    return sorted(CourseEnrollment.objects.filter(user=user, is_active=True).values_list("course_id", flat=True))


# The site's courses

def test_the_course_list_holds_the_sites_courses_only_with_their_modes(alpha, alpha_admin, courses):
    response = get(alpha_admin, alpha, COURSES_URL)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2 and body["next"] is None and body["previous"] is None
    assert [course["id"] for course in body["results"]] == sorted([INTRO, DATA])
    data = body["results"][0]
    assert data["display_name"] == "Alpha Data Literacy"
    assert (data["org"], data["number"]) == ("alpha", "Data")
    assert {"start", "end", "enrollment_start", "enrollment_end"} <= set(data)
    assert [mode["slug"] for mode in data["modes"]] == ["audit", "verified"]
    assert data["modes"][1]["min_price"] == 49


def test_a_course_not_linked_to_the_sites_organization_is_not_listed(alpha, alpha_admin, courses):
    OrganizationCourse.objects.filter(course_id=DATA).update(active=False)
    Course.objects.create(id="course-v1:alpha+Orphan+2026", org="alpha", display_name="No link")
    body = get(alpha_admin, alpha, COURSES_URL).json()
    assert [course["id"] for course in body["results"]] == [INTRO]


@pytest.mark.parametrize("filters, expected", [
    ({"org": "ALPHA"}, [DATA, INTRO]),
    ({"org": "beta"}, []),
    ({"number": "intro"}, [INTRO]),
    ({"display_name": "literacy"}, [DATA]),
    ({"display_name": "nothing like it"}, []),
])
def test_the_course_list_filters_by_org_number_and_name(alpha, alpha_admin, courses, filters, expected):
    body = get(alpha_admin, alpha, COURSES_URL, **filters).json()
    assert [course["id"] for course in body["results"]] == expected


def test_the_course_list_pages_as_drf_pages(alpha, alpha_admin, courses):
    first = get(alpha_admin, alpha, COURSES_URL, page_size=1).json()
    assert first["count"] == 2 and len(first["results"]) == 1 and first["previous"] is None
    assert "page=2" in first["next"]
    second = alpha_admin.client.get(first["next"], HTTP_HOST=alpha.domain).json()
    assert [course["id"] for course in second["results"]] == [INTRO]
    past = get(alpha_admin, alpha, COURSES_URL, page=3)
    assert past.status_code == 404 and past.json()["error_code"] == "not-found"


def test_one_course_and_the_same_404_for_another_sites_course_or_none(alpha, alpha_admin, courses):
    response = get(alpha_admin, alpha, f"{COURSES_URL}{INTRO}/")
    assert response.status_code == 200 and response.json()["id"] == INTRO
    answers = [get(alpha_admin, alpha, f"{COURSES_URL}{key}/") for key in
               (BETA_INTRO, "course-v1:alpha+Nope+2026", "not-a-key")]
    assert {answer.status_code for answer in answers} == {404}
    assert len({answer.json()["error_code"] for answer in answers}) == 1
    assert answers[0].json()["error_code"] == "course-not-found"
    assert len({answer.json()["user_message"] for answer in answers}) == 1


# Enrollments

def test_enroll_by_user_id_username_and_email_and_pre_enroll_an_address_of_nobody(alpha, alpha_admin, courses):
    ada, bo, cy = (make_user(name, alpha) for name in ("ada", "bo", "cy"))
    response = enroll(alpha_admin, alpha, action="enroll", courses=[INTRO],
                      identifiers=[ada.pk, "bo", "cy@example.com", "dee@example.com"])
    assert response.json()["action"] == "enroll" and response.json()["email_students"] is False
    before = {**NOTHING, "user": True}
    assert results(response, INTRO) == [
        {"identifier": ada.pk, "before": before, "after": {**before, "enrollment": True}},
        {"identifier": "bo", "before": before, "after": {**before, "enrollment": True}},
        {"identifier": "cy@example.com", "before": before, "after": {**before, "enrollment": True}},
        {"identifier": "dee@example.com", "before": NOTHING, "after": {**NOTHING, "allowed": True}},
    ]
    assert [active_courses(user) for user in (ada, bo, cy)] == [[INTRO]] * 3
    assert CourseEnrollment.objects.get(user=ada).mode == "audit"  # the course's default
    assert CourseEnrollmentAllowed.objects.filter(email="dee@example.com", course_id=INTRO).exists()
    assert ManualEnrollmentRecord.objects.filter(enrolled_by=alpha_admin.user).count() == 4


def test_a_pre_enrolled_address_is_enrolled_when_its_learner_registers_active(alpha, alpha_admin, courses):
    enroll(alpha_admin, alpha, action="enroll", courses=[INTRO], identifiers=["alex.userton@example.com"],
           auto_enroll=True)
    response = alpha_admin.register(alpha, learner_body(password="Str0ng-enough-pw", send_activation_email=False))
    assert response.status_code == 200, response.content
    user = CourseEnrollmentAllowed.objects.get(course_id=INTRO).user
    assert user is not None and user.pk == response.json()["user_id"] and active_courses(user) == [INTRO]


def test_another_sites_learner_is_nobody_here(alpha, beta, alpha_admin, courses):
    stranger = make_user("stranger", beta)
    response = enroll(alpha_admin, alpha, action="enroll", courses=[INTRO],
                      identifiers=[stranger.pk, "stranger", "stranger@example.com"])
    assert results(response, INTRO) == [
        {"identifier": stranger.pk, "invalidIdentifier": True},
        {"identifier": "stranger", "invalidIdentifier": True},
        {"identifier": "stranger@example.com", "before": NOTHING, "after": {**NOTHING, "allowed": True}},
    ]
    assert active_courses(stranger) == []


def test_unenroll_keeps_the_record_inactive_and_withdraws_a_pre_enrollment(alpha, alpha_admin, courses):
    ada = make_user("ada", alpha)
    enroll(alpha_admin, alpha, action="enroll", courses=[INTRO, DATA], identifiers=["ada", "dee@example.com"])
    response = enroll(alpha_admin, alpha, action="unenroll", courses=[INTRO], identifiers=["ada", "dee@example.com"])
    enrolled = {**NOTHING, "user": True, "enrollment": True}
    assert results(response, INTRO) == [
        {"identifier": "ada", "before": enrolled, "after": {**enrolled, "enrollment": False}},
        {"identifier": "dee@example.com", "before": {**NOTHING, "allowed": True}, "after": NOTHING},
    ]
    assert CourseEnrollment.objects.get(user=ada, course_id=INTRO).is_active is False
    assert active_courses(ada) == [DATA]
    assert not CourseEnrollmentAllowed.objects.filter(course_id=INTRO).exists()


@pytest.mark.parametrize("bad", [BETA_INTRO, "course-v1:alpha+Nope+2026", "not a key", "course-v1:alpha"])
def test_a_course_of_another_site_or_none_refuses_the_whole_call(alpha, alpha_admin, courses, bad):
    make_user("ada", alpha)
    response = enroll(alpha_admin, alpha, action="enroll", courses=[INTRO, bad], identifiers=["ada"])
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error_code"] == "invalid-course-ids"
    assert bad in body["field_errors"]["courses"]["developer_message"]
    assert INTRO not in body["field_errors"]["courses"]["developer_message"]
    assert not CourseEnrollment.objects.exists()


def test_the_answer_is_the_same_for_another_sites_course_and_no_course(alpha, alpha_admin, courses):
    answers = [enroll(alpha_admin, alpha, action="enroll", courses=[key], identifiers=["x@example.com"]).json()
               for key in (BETA_INTRO, "course-v1:alpha+Nope+2026")]
    assert [answer["field_errors"]["courses"]["user_message"].replace(key, "K")
            for answer, key in zip(answers, (BETA_INTRO, "course-v1:alpha+Nope+2026"))] == [
        answers[0]["field_errors"]["courses"]["user_message"].replace(BETA_INTRO, "K")] * 2


def test_a_mode_names_one_of_the_courses_modes(alpha, alpha_admin, courses):
    ada = make_user("ada", alpha)
    refused = enroll(alpha_admin, alpha, action="enroll", courses=[INTRO], identifiers=["ada"], mode="professional")
    assert refused.status_code == 400 and "mode" in refused.json()["field_errors"]
    assert not CourseEnrollment.objects.exists()
    enroll(alpha_admin, alpha, action="enroll", courses=[INTRO], identifiers=["ada"], mode="verified")
    assert CourseEnrollment.objects.get(user=ada).mode == "verified"
    enroll(alpha_admin, alpha, action="enroll", courses=[INTRO], identifiers=["ada"])  # no mode: the learner's kept
    assert CourseEnrollment.objects.get(user=ada).mode == "verified"


def test_more_than_the_maximum_of_enrollments_is_a_413(alpha, alpha_admin, courses, settings):
    settings.TAHOE_REGISTRATION_API_ENROLL_MAX = 3
    response = enroll(alpha_admin, alpha, action="enroll", courses=[INTRO, DATA],
                      identifiers=["a@example.com", "b@example.com"])
    assert response.status_code == 413 and response.json()["error_code"] == "too-many-enrollments"
    assert not CourseEnrollmentAllowed.objects.exists()


def test_a_dry_run_foresees_the_answer_and_changes_nothing(alpha, alpha_admin, courses):
    make_user("ada", alpha)
    body = {"action": "enroll", "courses": [INTRO], "identifiers": ["ada", "dee@example.com", "nobody"],
            "auto_enroll": True}
    dry = enroll(alpha_admin, alpha, url=f"{ENROLLMENTS_URL}?dry_run=true", **body)
    assert dry.json()["dry_run"] is True
    assert not CourseEnrollment.objects.exists() and not CourseEnrollmentAllowed.objects.exists()
    real = enroll(alpha_admin, alpha, **body)
    assert results(dry, INTRO) == results(real, INTRO)


def test_the_platforms_emails_leave_through_the_outbox_when_asked(alpha, alpha_admin, courses):
    make_user("ada", alpha)
    enroll(alpha_admin, alpha, action="enroll", courses=[INTRO], identifiers=["ada", "dee@example.com"])
    assert mail.outbox == [] and not emails().exists()
    enroll(alpha_admin, alpha, action="enroll", courses=[DATA], identifiers=["ada", "eve@example.com"],
           email_students=True)  # the bulk enroll API's name
    assert sorted((message.to[0], message.subject) for message in mail.outbox) == [
        ("ada@example.com", "You have been enrolled in Alpha Data Literacy"),
        ("eve@example.com", "You have been invited to register for Alpha Data Literacy"),
    ]
    mail.outbox.clear()
    emails().all().delete()
    enroll(alpha_admin, alpha, action="unenroll", courses=[INTRO], identifiers=["ada", "dee@example.com"],
           email_learners=True)
    assert sorted((message.to[0], message.subject) for message in mail.outbox) == [
        ("ada@example.com", "You have been unenrolled from Introduction to Alpha"),
        ("dee@example.com", "You have been unenrolled from Introduction to Alpha"),
    ]
    assert sorted(emails().values_list("topic", "state")) == [
        ("allowed_unenroll", "sent"), ("enrolled_unenroll", "sent")]


def test_an_idempotency_key_gives_the_first_answer_again(alpha, alpha_admin, courses):
    make_user("ada", alpha)
    body = {"action": "enroll", "courses": [INTRO], "identifiers": ["ada"]}
    first = alpha_admin.client.post(ENROLLMENTS_URL, body, format="json", HTTP_HOST=alpha.domain,
                                    HTTP_IDEMPOTENCY_KEY="cohort-7")
    again = alpha_admin.client.post(ENROLLMENTS_URL, body, format="json", HTTP_HOST=alpha.domain,
                                    HTTP_IDEMPOTENCY_KEY="cohort-7")
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert ManualEnrollmentRecord.objects.count() == 1


def test_each_change_is_in_the_audit_trail_without_an_email(alpha, alpha_admin, courses):
    ada = make_user("ada", alpha)
    enroll(alpha_admin, alpha, action="enroll", courses=[INTRO], identifiers=["ada", "dee@example.com", "nobody"])
    entries = list(AuditEntry.objects.filter(action="enroll").order_by("pk").values_list(
        "status", "outcome", "learner_id"))
    assert entries == [(None, "enrolled", ada.pk), (None, "pre-enrolled", None),
                       (None, "invalid-identifier", None), (200, "enrollments-processed", None)]


def test_the_enrollment_list_holds_the_sites_courses_and_filters(alpha, beta, alpha_admin, beta_admin, courses):
    ada, bo = make_user("ada", alpha), make_user("bo", alpha)
    enroll(alpha_admin, alpha, action="enroll", courses=[INTRO, DATA], identifiers=["ada", "bo"])
    enroll(alpha_admin, alpha, action="unenroll", courses=[DATA], identifiers=["bo"])
    make_user("stranger", beta)
    enroll(beta_admin, beta, action="enroll", courses=[BETA_INTRO], identifiers=["stranger"])
    body = get(alpha_admin, alpha, ENROLLMENTS_URL).json()
    assert body["count"] == 4
    assert {(row["course_id"], row["username"], row["is_active"]) for row in body["results"]} == {
        (INTRO, "ada", True), (DATA, "ada", True), (INTRO, "bo", True), (DATA, "bo", False)}
    assert set(body["results"][0]) == {"course_id", "user_id", "username", "mode", "is_active", "created"}
    assert get(alpha_admin, alpha, ENROLLMENTS_URL, is_active="false").json()["count"] == 1
    assert get(alpha_admin, alpha, ENROLLMENTS_URL, user_id=ada.pk).json()["count"] == 2
    assert get(alpha_admin, alpha, ENROLLMENTS_URL, username="BO", course_id=DATA).json()["count"] == 1
    assert get(alpha_admin, alpha, ENROLLMENTS_URL, course_id=BETA_INTRO).json()["count"] == 0
    assert get(beta_admin, beta, ENROLLMENTS_URL).json()["count"] == 1
    assert get(alpha_admin, alpha, ENROLLMENTS_URL, user_id=bo.pk, is_active="maybe").status_code == 400


# Enrollment at registration

def test_a_registration_with_courses_enrolls_the_learner(alpha, alpha_admin, courses):
    response = alpha_admin.register(alpha, learner_body(courses=[INTRO, DATA], mode="verified"))
    assert response.status_code == 200 and set(response.json()) == {"user_id"}
    enrollments = CourseEnrollment.objects.filter(user_id=response.json()["user_id"])
    assert sorted(enrollments.values_list("course_id", "mode", "is_active")) == [
        (DATA, "verified", True), (INTRO, "verified", True)]


@pytest.mark.parametrize("courses_field", [[BETA_INTRO], ["course-v1:alpha+Nope+2026"], [INTRO, "junk"], "course-v1:x"])
def test_a_registration_with_a_course_not_of_the_site_registers_nobody(alpha, alpha_admin, courses, courses_field):
    response = alpha_admin.register(alpha, learner_body(courses=courses_field))
    assert response.status_code == 400, response.content
    assert response.json()["error_code"] == "invalid-course-ids" and "courses" in response.json()["field_errors"]
    assert not CourseEnrollment.objects.exists()
    assert not get_user_model().objects.filter(username="auserton").exists()


def test_a_dry_run_registration_checks_its_courses(alpha, alpha_admin, courses):
    refused = alpha_admin.register(alpha, learner_body(courses=[BETA_INTRO]),
                                   url="/tahoe/api/v1/registrations/?dry_run=true")
    assert refused.status_code == 400 and refused.json()["error_code"] == "invalid-course-ids"
    checked = alpha_admin.register(alpha, learner_body(courses=[INTRO]),
                                   url="/tahoe/api/v1/registrations/?dry_run=true")
    assert checked.json() == {"dry_run": True} and not CourseEnrollment.objects.exists()


def test_a_bulk_learner_and_a_job_row_may_name_courses(alpha, alpha_admin, courses):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = alpha_admin.client.post("/tahoe/api/v1/registrations/bulk/", {"learners": [
            learner_body(courses=[INTRO]),
            learner_body(username="bee", email="bee@example.com", courses=f"{INTRO};{DATA}"),
            learner_body(username="cee", email="cee@example.com", courses=[BETA_INTRO]),
        ]}, format="json", HTTP_HOST=alpha.domain)
    body = response.json()
    assert (body["created"], body["failed"]) == (2, 1)
    assert (body["results"][2]["status"], body["results"][2]["error_code"]) == (400, "invalid-course-ids")
    assert sorted(CourseEnrollment.objects.values_list("user__username", "course_id")) == [
        ("auserton", INTRO), ("bee", DATA), ("bee", INTRO)]


def test_a_jobs_courses_column_enrolls_each_learner_and_refuses_another_sites(alpha, alpha_admin, courses):
    response = post_csv(alpha_admin, alpha, csv_of(
        "username,email,name,courses,mode",
        f"ada,ada@example.com,Ada Lovelace,{INTRO};{DATA},verified",
        f"bob,bob@example.com,Bob Builder,{INTRO},",
        f"cy,cy@example.com,Cy Elsewhere,{BETA_INTRO},",
        "dee,dee@example.com,Dee Nothing,,",
    ))
    assert response.status_code == 202, response.content
    rows = results_of(alpha_admin, alpha, response.json()["job_id"])
    assert [(row["username"], row["status"], row["error_code"], row["fields"]) for row in rows] == [
        ("ada", "200", "", ""), ("bob", "200", "", ""), ("cy", "400", "invalid-course-ids", "courses"),
        ("dee", "200", "", "")]
    assert sorted(CourseEnrollment.objects.values_list("user__username", "course_id", "mode")) == [
        ("ada", DATA, "verified"), ("ada", INTRO, "verified"), ("bob", INTRO, "audit")]
