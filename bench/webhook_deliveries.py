"""
``make bench``'s webhooks section: how many webhook deliveries one Celery worker makes a second.

``COUNT`` events of the development LMS's site are written into the outbox (as registrations write
them) and handed over to its broker; then one worker (``celery worker --pool solo``, the
development LMS's app, on the bench's MariaDB) fans each out to one endpoint and posts it, signed,
to a receiver on the loopback that answers 204 at once, keeping each attempt. The rate is counted
between the receiver's first and last delivery: the worker's steady work, not its start-up.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "webhook-deliveries.json"
COUNT = 1000


def main():
    """Write COUNT events, start one worker, time the deliveries the receiver gets."""
    os.environ.update({"DJANGO_SETTINGS_MODULE": "devlms.settings", "DEVLMS_RATE": "off",
                       "DEVLMS_VAR_DIR": tempfile.mkdtemp(prefix="tahoe-webhook-bench-"),
                       "DEVLMS_CELERY_WORKER": "1", "DEVLMS_WEBHOOKS_LOCAL": "1"})
    django.setup()
    # pylint: disable=import-outside-toplevel
    from django.contrib.auth import get_user_model
    from django.contrib.sites.models import Site
    from django.core.management import call_command
    from django.db import connection, transaction

    from tahoe_registration_api import outbox
    from tahoe_registration_api.models import WebhookAttempt
    from tahoe_registration_api.webhooks import endpoints, events
    from tests.webhook_receiver import Receiver

    call_command("migrate", verbosity=0, interactive=False)
    call_command("devlms_seed", verbosity=0)
    site = Site.objects.order_by("pk").exclude(pk=1).first() or Site.objects.first()
    receiver = Receiver()
    endpoints.create(site.pk, receiver.url, list(events.EVENT_TYPES), None)
    user = get_user_model().objects.order_by("pk").first()
    for start in range(0, COUNT, 50):
        with transaction.atomic():
            outbox.owe([events.learner_switched(user, site.pk, disabled=bool(number % 2))
                        for number in range(start, min(COUNT, start + 50))])
    connection.close()
    log = open(Path(os.environ["DEVLMS_VAR_DIR"]) / "worker.log", "wb")  # pylint: disable=consider-using-with
    worker = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, "-m", "celery", "-A", "devlms.celery", "worker", "--pool", "solo", "--loglevel", "WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=os.environ, stdout=log, stderr=subprocess.STDOUT)
    try:
        receiver.wait_for(COUNT, timeout=600)
    finally:
        worker.terminate()
        worker.wait(20)
        log.close()
    times = sorted(delivery.at for delivery in receiver.deliveries)
    elapsed = times[-1] - times[0]
    figures = {"database": connection.vendor, "deliveries": len(times), "seconds": round(elapsed, 2),
               "deliveries_per_second": round((len(times) - 1) / elapsed, 1),
               "attempts_kept": WebhookAttempt.objects.count(),
               "duplicates": len(times) - len({delivery.headers["webhook-id"] for delivery in receiver.deliveries})}
    receiver.close()
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"webhooks: {figures['deliveries']} deliveries (fan-out, signed POST to a loopback receiver, the attempt "
          f"kept) by one Celery worker (solo pool) on {figures['database']} in {figures['seconds']} s: "
          f"{figures['deliveries_per_second']} deliveries/s; {figures['duplicates']} duplicates. Wrote {RESULTS}")


if __name__ == "__main__":
    main()
