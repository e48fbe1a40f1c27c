"""
``tahoe_import_learners --site DOMAIN FILE.csv``: register a CSV of learners on a site, with progress.

The CSV is the registration jobs' (a header row with ``username,email,name`` and optionally
``password,send_activation_email,language,ref``); each learner is registered through the same
Python API as the endpoints. Run again after an interruption, it resumes: a learner already on
the site with the same username and email is reported ``exists``, never registered twice.
"""

import time
import uuid
from collections import Counter

from django.contrib.sites.models import Site
from django.core.management.base import BaseCommand, CommandError
from organizations.models import Organization
from tqdm import tqdm

from tahoe_registration_api import learner_csv, pipeline
from tahoe_registration_api.exceptions import InvalidJobFile
from tahoe_registration_api.lookups import cached_organization_for_site
from tahoe_registration_api.rest_api.results import CsvResults, learner_status, result_row

SOME_REFUSED = 2  # the exit status when some learners were refused
AUDIT_EVERY = 100  # rows whose audit records are stored together
LABELS = {pipeline.CREATED: "created", pipeline.CHECKED: "would be created", pipeline.EXISTS: "exists"}


class Command(BaseCommand):
    """Register the learners of a CSV on one site, row by row, with a progress bar and a summary."""

    help = (
        "Register the learners of a CSV file (header: username,email,name and optionally "
        "password,send_activation_email,language,ref) on the Tahoe site DOMAIN. Learners already on "
        "the site with the same username and email are reported 'exists' (so a run can be resumed). "
        f"Exits with {SOME_REFUSED} when some learners were refused."
    )

    def add_arguments(self, parser):
        """Take the site, the file and the options."""
        parser.add_argument("file", help="The CSV file of learners.")
        parser.add_argument("--site", required=True, help="The site's domain, e.g. academy.example.com.")
        parser.add_argument("--results", help="Write the results CSV (row,ref,username,email,status,user_id,"
                                              "error_code,fields) to this file.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Check every learner as a registration would, and register nobody.")
        parser.add_argument("--concurrency", type=int, default=1, metavar="N",
                            help="Register N learners at a time, each thread on its own database connection "
                                 "(default 1). A registration mostly waits on the database: 2 per core is a good "
                                 "start.")
        parser.add_argument("--no-email", action="store_true",
                            help="Send no email at all: learners without a password get no 'set your password' "
                                 "email, and none gets the activation email. Tell them some other way.")

    def handle(self, *args, **options):
        """Check the whole file first, then register row by row."""
        if options["concurrency"] < 1:
            raise CommandError("--concurrency must be 1 or more.")
        site, organization = self._site(options["site"])
        total = self._count_learners(options["file"])
        run_id = f"import-{uuid.uuid4().hex[:12]}"  # ties this run's learners together in the audit trail
        registrar = pipeline.Pipeline(
            site=site, organization=organization, dry_run=options["dry_run"], send_emails=not options["no_email"],
            existing_ok=True, audit_as=("import_dry_run" if options["dry_run"] else "import", None, run_id),
            group_size=pipeline.GROUP_SIZE,
        )
        counts = Counter()
        started = time.monotonic()
        results = None
        if options["results"]:
            results = open(options["results"], "w", newline="", encoding="utf-8")  # pylint: disable=consider-using-with
        try:
            writer = CsvResults(results) if results else None
            with open(options["file"], "rb") as stream, tqdm(total=total, unit="row", file=self.stderr._out,
                                                             disable=options.get("verbosity", 1) == 0) as progress:

                def report(key, outcome):
                    line, item = key
                    counts[self._label(outcome)] += 1
                    if writer:
                        writer.write(result_row(line, item, outcome))
                    progress.update(1)
                    if progress.n % AUDIT_EVERY == 0:
                        registrar.store_audit()

                learners = (((line, item), item) for line, item in learner_csv.read_learners(
                    stream, registrar.extension_fields))
                registrar.run(learners, report, concurrency=options["concurrency"])
        finally:
            registrar.store_audit()
            if results:
                results.close()
        self._summary(counts, total, time.monotonic() - started, options)
        refused = total - counts["created"] - counts["exists"] - counts["would be created"]
        if refused:
            raise SystemExit(SOME_REFUSED)

    def _site(self, domain):
        """Return the site of ``domain`` and its Tahoe organization."""
        site = Site.objects.filter(domain__iexact=domain.strip()).first()
        if site is None:
            raise CommandError(f"No site has the domain {domain!r}.")
        try:
            return site, cached_organization_for_site(site)
        except Organization.DoesNotExist as exc:
            raise CommandError(f"The site {site.domain!r} has no Tahoe organization.") from exc

    @staticmethod
    def _count_learners(path):
        """Read the whole file once (line by line): refuse it before anything is registered, else count its learners."""
        try:
            with open(path, "rb") as stream:
                return sum(1 for _ in learner_csv.read_learners(stream))
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        except InvalidJobFile as exc:
            raise CommandError(f"{path}: {exc.developer_message} Nobody was registered.") from exc

    @staticmethod
    def _label(outcome):
        """Name the outcome for the summary."""
        if outcome.result in LABELS:
            return LABELS[outcome.result]
        status = learner_status(outcome.result, outcome.error.error_code)
        return {400: "invalid (400)", 409: "conflict (409)"}.get(status, f"refused ({status})")

    def _summary(self, counts, total, seconds, options):
        """Print the table of outcomes, the rate and what was (not) sent."""
        width = max([len(label) for label in counts] + [len("learners")])
        lines = ["", f"{'outcome':<{width}}  {'learners':>8}", f"{'-' * width}  {'-' * 8}"]
        lines += [f"{label:<{width}}  {count:>8}" for label, count in counts.most_common()]
        lines += [f"{'-' * width}  {'-' * 8}", f"{'total':<{width}}  {total:>8}", ""]
        rate = total / seconds if seconds > 0 else 0.0
        lines.append(f"{total} rows in {seconds:.1f} s ({rate:.1f} rows/s).")
        if options["dry_run"]:
            lines.append("Dry run: nobody was registered and no email was sent.")
        elif options["no_email"]:
            lines.append("--no-email: no email was sent or queued.")
        if options["results"]:
            lines.append(f"Results: {options['results']}")
        self.stdout.write("\n".join(lines))
