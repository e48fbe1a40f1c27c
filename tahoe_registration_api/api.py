"""
The Python API of the plugin: register a learner on a Tahoe site.

Stability: ``register_user`` and the data and exception classes it uses are the
plugin's public Python API. Parameters are only ever added, with safe defaults.

The rules of the API contract (docs/reference/rest_api.rst) live here: site scoping, conflicts, the email a learner
gets, and all-or-nothing creation. No DRF and no platform imports: the platform is
reached through the adapter named by ``TAHOE_REGISTRATION_API_ADAPTER``.
"""

import dataclasses
import functools
import logging

import crum
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, transaction
from django.db.models import CharField, Q, Value
from tahoe_sites.models import UserOrganizationMapping

from tahoe_registration_api import hashing, hooks, outbox
from tahoe_registration_api.adapter import platform_adapter
from tahoe_registration_api.courses import SiteCourses
from tahoe_registration_api.data import RegistrationResult
from tahoe_registration_api.emails import ACTIVATION, PASSWORD_RESET, registration_email
from tahoe_registration_api.enrollments import enroll_at_registration
from tahoe_registration_api.exceptions import (
    DuplicateAccount,
    InvalidRegistration,
    LearnerDisabled,
    LearnerNotFound,
    NothingToSend,
    RegistrationError,
)
from tahoe_registration_api.learner_input import language_refusal
from tahoe_registration_api.learners import claim_key, email_claim
from tahoe_registration_api.models import RegistrationClaim
from tahoe_registration_api.retries import with_retries
from tahoe_registration_api.webhooks import events

log = logging.getLogger(__name__)


def register_user(registration, *, site, organization,  # pylint: disable=too-many-arguments
                  request=None, on_created=None, send_emails=True, secure=None, site_courses=None):
    """
    Register one learner on ``site`` (whose organization is ``organization``).

    Returns a ``RegistrationResult``; raises a ``RegistrationError`` subclass otherwise,
    having written nothing. The learner's email is owed to the outbox in the registration's own
    transaction; it and the events leave only after the account committed. Call it outside a
    transaction so that deadlocks can be retried. ``on_created(user)``, if given, runs inside
    the registration's transaction, once the account and membership exist.
    ``send_emails=False`` owes no email at all (an import whose learners are told otherwise);
    ``secure`` gives the scheme of the email's links when there is no request (default: the request's).
    The learner is enrolled in the registration's ``courses`` (courses of the site, checked first) in
    the same transaction: all or nothing. ``site_courses``: the ``SiteCourses`` of ``organization``
    that a batch shares (a new one otherwise).
    """
    adapter = platform_adapter()
    _check_language(adapter, registration, site)
    registration = _checked_courses(registration, organization, site_courses)
    registration = hooks.run_registration_filter(registration)
    email = registration_email(registration) if send_emails else None
    secure = is_secure(request) if secure is None else secure
    owed = (email, secure) if email else None
    # The password's hash runs in a thread while the registration checks and writes (it releases the GIL).
    with hashing.ahead(adapter.hash_password_ahead(registration)):
        account, event_data = with_retries(
            lambda: _create_account(adapter, registration, site, organization, on_created, owed), "registration")
    # Immediately when called outside a transaction (as the view does); otherwise at the outer commit.
    transaction.on_commit(lambda: _after_commit(adapter, account, event_data))
    return _result(account)


def register_group(registrations, *, site, organization,  # pylint: disable=too-many-arguments
                   on_created=None, send_emails=True, secure=True, site_courses=None):
    """
    Register several learners of ``site`` in one transaction; return their outcomes.

    The same rules, checks, records, emails and events as ``register_user`` for each learner, with
    the plugin's own statements written once for the group: the claims, the conflict check, the
    memberships, the outbox's messages and ``on_created(created)`` (inside the transaction, with the
    ``(index, user)`` of each learner created, in order; it may raise ``Abandon``, which rolls the
    whole group back).
    Returns, in order, a ``RegistrationResult`` or the ``RegistrationError`` that refused the
    learner (nothing of that learner is written: see ``_create_in_group``). Raises what the
    transaction raises when it fails as a whole (the database, an unexpected error): nothing of the
    group is then written, and the caller may register its learners one by one. Call it outside a
    transaction.
    """
    adapter = platform_adapter()
    outcomes, ready = [None] * len(registrations), []
    for index, registration in enumerate(registrations):
        try:
            _check_language(adapter, registration, site)
            registration = _checked_courses(registration, organization, site_courses)
            registration = hooks.run_registration_filter(registration)
            email = registration_email(registration) if send_emails else None
        except RegistrationError as exc:
            outcomes[index] = exc
            continue
        ready.append(_Prepared(index, registration, (email, secure) if email else None,
                               adapter.hash_password_ahead(registration)))
    if ready:
        for index, outcome in with_retries(
                lambda: _create_group(adapter, ready, site, organization, on_created), "registration").items():
            outcomes[index] = outcome
    return outcomes


def check_registration(registration, *, site, organization, site_courses=None):
    """
    Run every check ``register_user`` runs for this registration, and nothing else (a dry run).

    The registration filter, the conflicts on the site and platform-wide, and the platform's
    own rules; raises what ``register_user`` would raise. Writes nothing, sends nothing, emits
    no event. Two dry runs (or a dry run and a real call) racing on one username may both pass;
    only a real call takes the claims.
    """
    adapter = platform_adapter()
    _check_language(adapter, registration, site)
    registration = _checked_courses(registration, organization, site_courses)
    registration = hooks.run_registration_filter(registration)
    if conflicts := _conflicts(registration, organization):
        raise DuplicateAccount(conflicts)
    adapter.validate_account(registration)


def resend_registration_email(learner_id, *, site, organization, request=None):
    """
    Queue the registration email a learner of ``site`` is still waiting for; return which one.

    ``password-reset`` for a learner who never set a password (the "set your password" email),
    ``activation`` for an inactive learner with one. Raises ``LearnerNotFound`` when
    ``learner_id`` is no non-admin member of ``organization`` (the same whether or not the id
    exists elsewhere), ``LearnerDisabled`` when the learner is switched off (``PATCH`` ``disabled``),
    ``NothingToSend`` when the learner is active with a password.
    """
    membership = UserOrganizationMapping.objects.filter(
        organization=organization, user_id=learner_id, is_admin=False,
    ).select_related("user").first()
    if membership is None:
        raise LearnerNotFound(f"No learner {learner_id} on this site.")
    learner = membership.user
    if not learner.has_usable_password():
        raise LearnerDisabled(f"Learner {learner_id} is switched off.")
    if not platform_adapter().password_was_set(learner):
        email = PASSWORD_RESET
    elif not learner.is_active:
        email = ACTIVATION
    else:
        raise NothingToSend(f"Learner {learner_id} is active and has set a password.")
    outbox.owe_email(learner.id, site.id, email, is_secure(request))
    return email


def _check_language(adapter, registration, site):
    """Refuse a language the LMS does not offer on ``site`` (a 400 naming ``language``)."""
    if registration.language is None:
        return
    if message := language_refusal(registration.language, adapter.language_choices(site)):
        raise InvalidRegistration(field_errors={"language": message})


def _checked_courses(registration, organization, site_courses=None):
    """
    Return the registration with its courses' canonical keys, once each.

    Refuses keys that are not the site's courses (a 400 ``invalid-course-ids`` naming ``courses``:
    malformed, another site's, none) and a ``mode`` that one of them lacks (a 400 naming ``mode``).
    """
    if not registration.courses:
        return registration
    site_courses = site_courses or SiteCourses(organization)
    keys = tuple(site_courses.check(registration.courses))
    site_courses.check_mode(keys, registration.mode)
    return dataclasses.replace(registration, courses=keys)


def _create_account(adapter, registration, site, organization,  # pylint: disable=too-many-arguments
                    on_created=None, owed=None):
    """Create the account, its membership and its email's outbox message in one transaction, or nothing at all."""
    with transaction.atomic():
        claims = _claim(_claim_keys(adapter, registration, organization))
        conflicts = _conflicts(registration, organization)
        if conflicts:
            raise DuplicateAccount(conflicts)
        account = adapter.create_account(registration, site)
        add_membership(account.user, organization)
        enrolled = enroll_at_registration(adapter, account.user, registration.courses, registration.mode)
        outbox.owe(_owed_messages(account, site, owed, enrolled))  # the email and the events, in one statement
        if on_created is not None:
            on_created(account.user)
        event_data = hooks.registration_completed_data(account.user, registration.name)
        _release(claims)
    return account, event_data


@dataclasses.dataclass(frozen=True)
class _Prepared:
    """A learner of a group, checked and filtered: its place, registration, owed email and password's hash."""

    index: int
    registration: object
    owed: object
    hashed: object


@dataclasses.dataclass(frozen=True)
class _Created:
    """A learner the group registered, and what is written for it once the group's learners are all created."""

    index: int
    account: object
    messages: list
    event_data: object


def _create_group(adapter, group, site, organization, on_created):  # pylint: disable=too-many-locals
    """Create the group's learners in one transaction; return ``{index: RegistrationResult or error}``."""
    outcomes = {}
    with transaction.atomic():
        keys = {learner.index: _claim_keys(adapter, learner.registration, organization) for learner in group}
        claims = _claim(sorted(set().union(*keys.values())))
        taken = _group_conflicts([learner.registration for learner in group], organization)
        created = []
        for learner in group:
            registration = learner.registration
            if conflicts := taken.of(registration):
                outcomes[learner.index] = DuplicateAccount(conflicts)
                continue
            try:
                account, enrolled = _create_in_group(adapter, learner, site, organization)
            except RegistrationError as exc:
                outcomes[learner.index] = exc
                continue
            taken.add(registration)
            created.append(_Created(learner.index, account, _owed_messages(account, site, learner.owed, enrolled),
                                    hooks.registration_completed_data(account.user, registration.name)))
        by_index = {learner.index: learner.registration for learner in group}
        UserOrganizationMapping.objects.bulk_create([
            UserOrganizationMapping(user=done.account.user, organization=organization, is_admin=False)
            for done in created if not by_index[done.index].courses
        ])
        outbox.owe([message for done in created for message in done.messages])
        if on_created is not None and created:
            on_created([(done.index, done.account.user) for done in created])
        _release(claims)
        for done in created:
            transaction.on_commit(functools.partial(_after_commit, adapter, done.account, done.event_data))
            outcomes[done.index] = _result(done.account)
    return outcomes


def _owed_messages(account, site, owed, enrolled):
    """Return the outbox's messages of a new learner: its email (``owed``: which, and the links' scheme) and events."""
    user = account.user
    return [
        outbox.email_message(user.id, site.id, *owed) if owed is not None else None,
        events.learner_registered(user, site.id, enrolled),
        *(events.enrollment(user, site.id, key, mode, active=True) for key, mode in enrolled.items()),
    ]


def _result(account):
    """Return the ``RegistrationResult`` of a new account."""
    return RegistrationResult(user_id=account.user.id, username=account.user.username,
                              is_active=account.user.is_active)


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class GroupWritten(Exception):
    """A learner of a group was refused after something of it was written: the group is registered one by one."""


def _create_in_group(adapter, learner, site, organization):
    """
    Create one learner of a group; return ``(account, enrolled)``, or raise the ``RegistrationError`` refusing it.

    A learner enrolled in courses gets a savepoint (an enrollment may be refused after the account is
    written). Another needs none: the platform refuses a registration (its form, retired names) before
    writing anything, and two statements a learner are spared. Should a refusal ever follow a write,
    ``GroupWritten`` rolls the whole group back, and the pipeline registers its learners one by one.
    """
    registration = learner.registration
    if registration.courses:
        with transaction.atomic(), hashing.ahead(learner.hashed):  # a savepoint: a refusal writes nothing
            account = adapter.create_account(registration, site)
            add_membership(account.user, organization)  # enrolled as a member, as register_user enrolls
            return account, enroll_at_registration(adapter, account.user, registration.courses, registration.mode)
    writes = []

    def watch(execute, sql, params, many, context):
        if sql.lstrip("( \n").upper().startswith(WRITES):  # a query may start with "(" (a UNION on MariaDB)
            writes.append(sql)
        return execute(sql, params, many, context)

    with connections[RegistrationClaim.objects.db].execute_wrapper(watch), hashing.ahead(learner.hashed):
        try:
            return adapter.create_account(registration, site), {}
        except RegistrationError as exc:
            if writes:
                raise GroupWritten(f"A learner was refused ({type(exc).__name__}) after a write.") from exc
            raise


def _claim(keys):
    """Take the claims of ``keys`` (sorted) in the current transaction, in one statement; return them."""
    return RegistrationClaim.objects.bulk_create([RegistrationClaim(key=key) for key in keys])


def _release(claims):
    """
    Delete the claims a transaction took, locking none but them.

    The claims table is small (claims live only inside transactions), so MariaDB may read it whole
    for a ``DELETE ... WHERE id IN (...)`` (or ``key IN``), as it did for a group's 40 claims, waiting on every
    other group's claims on the way: two groups ending at once deadlocked (measured: 86 deadlocks
    in a 700-learner job on three tasks; ``FORCE INDEX`` and a range of ids changed nothing). Driven
    by the list of ids (``STRAIGHT_JOIN``), each claim is found by its primary key: 1 deadlock left,
    on ``auth_user``'s own index. Elsewhere (sqlite: one writer) by primary key, or by key where the
    database did not return the ids.
    """
    ids = [claim.pk for claim in claims]
    connection = connections[RegistrationClaim.objects.db]
    if connection.vendor == "mysql" and None not in ids:
        table = connection.ops.quote_name(RegistrationClaim._meta.db_table)
        ids_table = " UNION ALL ".join(["SELECT %s AS id"] * len(ids))
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE claim FROM ({ids_table}) AS ids STRAIGHT_JOIN {table} AS claim "
                           "ON claim.id = ids.id", ids)
    elif None not in ids:
        RegistrationClaim.objects.filter(pk__in=ids).delete()
    else:
        RegistrationClaim.objects.filter(key__in=[claim.key for claim in claims]).delete()


class _Taken:
    """The usernames (platform-wide) and emails (in the organization) taken, case aside, as a group goes on."""

    def __init__(self, usernames, emails):
        """Start with what the database holds."""
        self.usernames, self.emails = set(usernames), set(emails)

    def of(self, registration):
        """Return the fields of ``registration`` already taken."""
        return {field for field, taken in (("username", registration.username.strip().lower() in self.usernames),
                                           ("email", registration.email.strip().lower() in self.emails)) if taken}

    def add(self, registration):
        """Take the fields of a learner the group registered."""
        self.usernames.add(registration.username.strip().lower())
        self.emails.add(registration.email.strip().lower())


def _group_conflicts(registrations, organization):
    """Return the ``_Taken`` of the group's usernames and emails, in one statement (``_taken``)."""
    found = list(_taken(registrations, organization))
    return _Taken([value.lower() for field, value in found if field == "username"],
                  [value.lower() for field, value in found if field == "email"])


def _taken(registrations, organization):
    """
    Return the query of the ``(field, value)`` taken among the registrations' usernames and emails.

    The usernames platform-wide, the emails in the organization; with the database's own notion of
    case. Each half uses an index (auth_user.username; the organization's memberships), none scans
    all users.
    """
    by_username, by_email = Q(), Q()
    for registration in registrations:
        by_username |= Q(username__iexact=registration.username.strip())
        by_email |= Q(user__email__iexact=registration.email.strip())
    usernames = get_user_model().objects.filter(by_username).annotate(
        field=Value("username", output_field=CharField())).values_list("field", "username")
    emails = UserOrganizationMapping.objects.filter(by_email, organization=organization).annotate(
        field=Value("email", output_field=CharField())).values_list("field", "user__email")
    return usernames.union(emails, all=True)


def add_membership(user, organization):
    """
    Make a user created in this transaction a learner (not an admin) of ``organization``.

    tahoe-sites' ``add_user_to_organization`` without its pre_save check that the user belongs
    to no other organization: a user created in this very transaction cannot.
    """
    UserOrganizationMapping.objects.bulk_create(
        [UserOrganizationMapping(user=user, organization=organization, is_admin=False)]
    )


def _claim_keys(adapter, registration, organization):
    """Return the sorted claim keys: the username platform-wide, the email in its uniqueness scope."""
    claims = [
        f"username:{registration.username.strip().lower()}",
        email_claim(adapter, registration.email, organization),
    ]
    return sorted(claim_key(claim) for claim in claims)


def _conflicts(registration, organization):
    """
    Return the fields already taken: the username platform-wide, the email in the organization.

    The platform's own global checks (an email used on any site, retired usernames and emails)
    run once, in the adapter's ``create_account``, which reports them as ``DuplicateAccount``.
    """
    return {field for field, _ in _taken([registration], organization)}


def _after_commit(adapter, account, event_data):
    """Announce the learner (the platform's signal and event); failures are logged, never undone."""
    user_id = account.user.id
    _without_failing("the REGISTER_USER signal", user_id, adapter.announce_registration, account)
    _without_failing(
        "the STUDENT_REGISTRATION_COMPLETED event", user_id,
        hooks.emit_registration_completed, event_data,
    )


def is_secure(request):
    """Whether the call came over HTTPS: the caller's request, else the current one, else the LMS's ``HTTPS``."""
    request = request or crum.get_current_request()
    if request is not None:
        return request.is_secure()
    return getattr(settings, "HTTPS", "on") == "on"


def _without_failing(what, user_id, func, *args):
    """Run a post-commit step; the account exists whatever happens, so only log a failure."""
    try:
        func(*args)
    except Exception as exc:  # pylint: disable=broad-except
        log.error("Learner %s was registered, but %s failed: %s.", user_id, what, type(exc).__name__)
