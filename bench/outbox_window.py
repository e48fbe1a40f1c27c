"""
``make bench``'s outbox section: how long a learner's email can be sent twice.

The outbox sends an email once, but for one window: a worker that dies after the mail server
accepted the email and before its mark (``state='sent'``) committed leaves the message leased; once
the lease runs out it is sent again. This measures that window on the bench's MariaDB: for each of
``COUNT`` messages, the time from the send's return to the mark's commit, and the whole delivery
(claim, send, mark) beside it. The development LMS's email backend is Django's in-memory one here,
so the send itself is not what is measured.
"""

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "outbox-window.json"
COUNT = 500


def percentile(values, fraction):
    """Return the value at ``fraction`` of the sorted values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    """Register COUNT learners with their hand-overs held back, deliver each message, time the window."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devlms.settings")
    os.environ["DEVLMS_VAR_DIR"] = tempfile.mkdtemp(prefix="tahoe-outbox-bench-")
    os.environ["DEVLMS_RATE"] = "off"
    django.setup()
    # pylint: disable=import-outside-toplevel
    from django.conf import settings
    from django.contrib.sites.models import Site
    from django.core.management import call_command
    from django.db import connection
    from tahoe_sites.api import get_organization_by_site

    from tahoe_registration_api import api, outbox
    from tahoe_registration_api.data import RegistrationRequest
    from tahoe_registration_api.models import OutboxMessage

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # not printed to the console
    call_command("migrate", verbosity=0, interactive=False)
    call_command("devlms_seed", verbosity=0)
    site = Site.objects.order_by("pk").exclude(pk=1).first() or Site.objects.first()
    organization = get_organization_by_site(site)
    real_hand_over = outbox.hand_over
    outbox.hand_over = lambda *args, **kwargs: None  # held back: each message is delivered below, timed
    stamp = int(time.time())
    for number in range(COUNT):
        api.register_user(RegistrationRequest(username=f"window{stamp}{number}", name=f"Window {number}",
                                              email=f"window{stamp}{number}@example.com"),
                          site=site, organization=organization, secure=True)
    outbox.hand_over = real_hand_over
    real_send, real_done = outbox._send, outbox._done
    windows, deliveries, marks = [], [], {}

    def send(message):
        real_send(message)
        marks[message.pk] = time.perf_counter()

    def done(message, state, error=""):
        result = real_done(message, state, error)  # an autocommit UPDATE: committed when it returns
        windows.append(time.perf_counter() - marks[message.pk])
        return result

    outbox._send, outbox._done = send, done
    for message_id in OutboxMessage.objects.filter(state="pending").values_list("pk", flat=True):
        began = time.perf_counter()
        assert outbox.deliver(message_id) == "sent"
        deliveries.append(time.perf_counter() - began)
    figures = {
        "database": connection.vendor, "messages": len(windows),
        "window_ms": {name: 1000 * percentile(windows, fraction)
                      for name, fraction in (("p50", 0.5), ("p99", 0.99), ("max", 1.0))},
        "delivery_ms": {name: 1000 * percentile(deliveries, fraction)
                        for name, fraction in (("p50", 0.5), ("p99", 0.99), ("max", 1.0))},
    }
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"outbox: {figures['messages']} emails on {figures['database']}; the duplicate window (send returned -> "
          f"mark committed) p50 {figures['window_ms']['p50']:.2f} ms, p99 {figures['window_ms']['p99']:.2f} ms, "
          f"max {figures['window_ms']['max']:.2f} ms; a whole delivery (claim, send, mark) p50 "
          f"{figures['delivery_ms']['p50']:.2f} ms. Wrote {RESULTS}")


if __name__ == "__main__":
    main()
