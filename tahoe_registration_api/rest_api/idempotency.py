"""
``Idempotency-Key`` on registrations, as the IETF httpapi draft "The Idempotency-Key HTTP Header Field" describes.

A key belongs to one caller on one site. The first request with a key runs; its answer, when
it is a 200, 400 or 409, is stored and given again (with ``Idempotent-Replayed: true``) to any
later request of the same key and the same request (path and parsed body). The same key with
another request is a 422; a request of a key whose first request is still running, a 409 with
``Retry-After``. Other answers (401, 403, 413, 415, 429, 5xx, a filter's refusal) are not stored:
a retry runs anew. Keys are kept ``TAHOE_REGISTRATION_API_IDEMPOTENCY_TTL`` seconds.

The request's fingerprint is an HMAC keyed by the LMS's ``SECRET_KEY`` (ADR 0015): the body holds
the learner's password, which a plain hash would let a reader of the table test guesses against.
"""

import hashlib
import json
import re
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from rest_framework.response import Response

from tahoe_registration_api.exceptions import IdempotencyKeyInFlight, IdempotencyKeyReused, InvalidRegistration
from tahoe_registration_api.i18n import gettext_noop
from tahoe_registration_api.models import IdempotencyRecord
from tahoe_registration_api.purging import Retention, seconds_setting

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
STORED_STATUSES = {200, 400, 409}
_VALID_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")
_FINGERPRINT_SALT = "tahoe_registration_api.idempotency.fingerprint"
PURGE_EVERY_SECONDS = 60
# Longer than any request may run (the LMS's gunicorn timeout is far shorter): a key in flight
# for longer belongs to a request that died without an answer, and a retry may take it.
IN_FLIGHT_TIMEOUT = timedelta(minutes=5)
# Expired records are purged as keys arrive, at most once a minute per process, 1,000 at a time.
RETENTION = Retention(IdempotencyRecord, "created", seconds_setting("TAHOE_REGISTRATION_API_IDEMPOTENCY_TTL"),
                      interval=60, batch=1000)


def key_of(request):
    """Return the request's ``Idempotency-Key`` (None without one); a malformed key is a 400 naming it."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _VALID_KEY.match(key):
        raise InvalidRegistration(field_errors={HEADER: gettext_noop("Must be 1 to 255 printable ASCII characters.")})
    return key


def _canonical(*parts):
    """Return the parts as one JSON text, keys sorted: equal for requests equal once parsed."""
    return json.dumps(parts, sort_keys=True, default=str)


def _digest(*parts):
    """SHA-256 of the parts, each as JSON."""
    return hashlib.sha256(_canonical(*parts).encode("utf-8")).hexdigest()


def fingerprint(path, data, secret=None):
    """Return the fingerprint of a request (path, parsed body): HMAC-SHA256 under ``secret`` (``SECRET_KEY``)."""
    return salted_hmac(_FINGERPRINT_SALT, _canonical(path.rstrip("/"), data), secret, algorithm="sha256").hexdigest()


def _earlier_fingerprints(path, data):
    """Yield what a record of this request written under an older key, or by an older release, holds."""
    for secret in settings.SECRET_KEY_FALLBACKS:
        yield fingerprint(path, data, secret)
    # Releases before the keyed fingerprint stored plain SHA-256; such rows live out their TTL.
    yield _digest(path.rstrip("/"), data)


class Idempotency:
    """One request's use of its key: claim it, give the stored answer, or store the new one."""

    def __init__(self, request, key):
        """Name the key (caller, site, key) and the request (path, parsed body)."""
        # Not keyed: it holds no secret, and as the primary key its uniqueness is what stops two
        # requests of one key from both running; it must not change when SECRET_KEY does.
        self.record_key = _digest(request.user.pk, request.site.pk, key)
        self.path, self.data = request.path, request.data
        self.fingerprint = fingerprint(self.path, self.data)
        self.claimed = False
        self.stored_with_registration = False

    def replay_or_claim(self):
        """Return the stored answer of this key's first request, or None once this request holds the key."""
        RETENTION.purge_if_due()
        for _ in range(3):
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(key=self.record_key, fingerprint=self.fingerprint)
                self.claimed = True
                return None
            except IntegrityError:
                record = IdempotencyRecord.objects.filter(key=self.record_key).first()
            if record is None:
                continue  # its first request ended with an answer that is not kept: claim again
            if record.created < _cutoff():
                IdempotencyRecord.objects.filter(key=self.record_key, created=record.created).delete()
                continue
            if not self._same_request(record):
                raise IdempotencyKeyReused()
            if record.status is None and record.created < timezone.now() - IN_FLIGHT_TIMEOUT:
                # Its request died (a killed worker) without an answer: no request lives this long.
                IdempotencyRecord.objects.filter(key=self.record_key, status__isnull=True).delete()
                continue
            if record.status is None:
                raise IdempotencyKeyInFlight()
            response = Response(json.loads(record.body), status=record.status)
            response[REPLAYED_HEADER] = "true"
            return response
        raise IdempotencyKeyInFlight()

    def _same_request(self, record):
        """Whether the record is of this request; one written in an earlier form is rewritten in the current one."""
        if constant_time_compare(record.fingerprint, self.fingerprint):
            return True
        if not any(constant_time_compare(record.fingerprint, earlier)
                   for earlier in _earlier_fingerprints(self.path, self.data)):
            return False
        IdempotencyRecord.objects.filter(key=self.record_key, fingerprint=record.fingerprint).update(
            fingerprint=self.fingerprint)
        return True

    def store_with_registration(self, body):
        """Keep a 200's answer inside the registration's transaction: it commits with the account, or not at all."""
        IdempotencyRecord.objects.filter(key=self.record_key).update(status=200, body=json.dumps(body))
        self.stored_with_registration = True

    def store(self, status, body):
        """Keep the answer (a 200, 400 or 409) for this key unless kept already; for another status, give the key up."""
        if not self.claimed:
            return
        if status == 200 and self.stored_with_registration:
            pass  # written by store_with_registration, in the registration's transaction
        elif status in STORED_STATUSES:
            IdempotencyRecord.objects.filter(key=self.record_key).update(status=status, body=json.dumps(body))
        else:
            IdempotencyRecord.objects.filter(key=self.record_key, status__isnull=True).delete()
        self.claimed = False


def _cutoff():
    """Return the creation time before which a record has expired."""
    return timezone.now() - timedelta(seconds=int(settings.TAHOE_REGISTRATION_API_IDEMPOTENCY_TTL))
