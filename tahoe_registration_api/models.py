"""Database models of the plugin."""

from django.db import models


class RegistrationClaim(models.Model):
    """
    A claim on a username or an email, held only inside one registration's transaction.

    A registration inserts its claims first and deletes them before it commits, so a row
    never outlives its transaction. Meanwhile the unique index makes every concurrent
    registration of the same username or email (on any app server) wait for the first one
    to finish; it then sees that registration's committed user and answers 409.

    .. no_pii: A claim holds a SHA-256 digest of a username or an address only while its registration's
       transaction runs: no committed row ever holds one.
    """

    # SHA-256 of the normalised claim ("username:<name>" or "email:<scope>:<address>"),
    # so that the index stays short and the table never holds an address in clear.
    key = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        """Model options."""

        app_label = "tahoe_registration_api"

    def __str__(self):
        """Name the claim by its key."""
        return f"RegistrationClaim<{self.key}>"


class IdempotencyRecord(models.Model):
    """
    The answer to a registration sent with an ``Idempotency-Key``, kept to be given again.

    One row per key of a caller on a site. It is inserted (``status`` empty: in flight) before
    the registration runs, so concurrent requests of the key see it; the answer is written in the
    registration's own transaction for a 200, after it for a 400 or 409, and the row is deleted
    for any other outcome so that a retry runs anew. Rows older than
    ``TAHOE_REGISTRATION_API_IDEMPOTENCY_TTL`` seconds are purged as new keys arrive.

    .. pii: ``body``, the answer given again, may name learners: a learner change's answer holds the
       learner's username, email and name; an enrollment call's, the usernames and addresses it was
       given. ``fingerprint`` is an HMAC, keyed by SECRET_KEY, of the request (a password among it).
       Kept ``TAHOE_REGISTRATION_API_IDEMPOTENCY_TTL`` seconds (a day by default); a retired learner's
       records whose answer names them are deleted at once (``retirement``).
    .. pii_types: username, email_address, name
    .. pii_retirement: local_api
    """

    # SHA-256 of (caller id, site id, key): the key itself is the caller's and never stored.
    key = models.CharField(max_length=64, primary_key=True)
    # HMAC-SHA256, keyed by the LMS's SECRET_KEY, of the request: its path and its parsed body, keys sorted.
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True)
    body = models.TextField(blank=True, default="")
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        """Model options."""

        app_label = "tahoe_registration_api"

    def __str__(self):
        """Name the record by its key and status."""
        return f"IdempotencyRecord<{self.key}:{self.status}>"


class RegistrationJob(models.Model):
    """
    An import of many learners into one site, run in the background by the LMS's Celery workers.

    Its rows (``RegistrationJobRow``) and their chunks (``RegistrationJobChunk``) are written when
    the job is created; the job's tasks register the chunks, several at once on several workers. A
    task whose worker died leaves its chunk's heartbeat to grow old: another task then takes the
    chunk over where it stopped.

    .. no_pii: Ids (site, organization, the calling admin), counts, times and a failure's reason, never
       a learner's data. Deleted with its rows after ``TAHOE_REGISTRATION_API_JOB_RETENTION_DAYS`` days.
    """

    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
    STATUSES = ((QUEUED, QUEUED), (RUNNING, RUNNING), (DONE, DONE), (FAILED, FAILED))

    id = models.UUIDField(primary_key=True)
    site_id = models.PositiveIntegerField()
    organization_id = models.PositiveIntegerField()
    caller_id = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=STATUSES, default=QUEUED)
    # How the request came (for the learners' emails: the scheme of the reset link).
    secure = models.BooleanField(default=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)  # the refused are processed - created
    # Why a job failed as a whole (never a learner's data).
    failure = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    # When a task of the job last claimed or finished a chunk: a status read queues the job's tasks
    # again once it is older than the job heartbeat timeout (their messages may be lost).
    heartbeat = models.DateTimeField(null=True)

    class Meta:
        """Model options."""

        app_label = "tahoe_registration_api"

    def __str__(self):
        """Name the job by its id and status."""
        return f"RegistrationJob<{self.id}:{self.status}>"


class RegistrationJobRow(models.Model):
    """
    One learner of a job: its input until it is processed, then its outcome (the results CSV).

    ``payload`` holds the learner's fields (the password among them) encrypted with a key
    derived from the LMS's ``SECRET_KEY``, and is emptied as soon as the row is processed, or
    when its job ends without processing it (a failed job).

    .. pii: ``username``, ``email`` and ``ref`` (the caller's reference) of one learner of a job, for
       the job's results; ``payload`` (sealed) holds the learner's fields, name and password among
       them, until the row is processed. Deleted with its job after
       ``TAHOE_REGISTRATION_API_JOB_RETENTION_DAYS`` days; a retired learner's processed rows lose
       their reference, username and email at once (``retirement``).
    .. pii_types: username, email_address, name, password, other
    .. pii_retirement: local_api
    """

    job = models.ForeignKey(RegistrationJob, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField()  # the row's line in the CSV (the header is line 1), or its index + 1
    ref = models.CharField(max_length=255, blank=True, default="")
    username = models.CharField(max_length=255, blank=True, default="")
    email = models.CharField(max_length=255, blank=True, default="")
    payload = models.TextField(blank=True, default="")
    # The pipeline's outcome (``created`` or ``refused``); empty while the row waits.
    outcome = models.CharField(max_length=16, null=True)
    user_id = models.PositiveIntegerField(null=True)
    error_code = models.CharField(max_length=64, blank=True, default="")
    fields = models.CharField(max_length=255, blank=True, default="")  # the fields in error, space-separated

    class Meta:
        """Model options."""

        app_label = "tahoe_registration_api"
        constraints = [models.UniqueConstraint(fields=("job", "number"), name="tahoe_reg_job_row_number")]
        indexes = [
            models.Index(fields=("job", "outcome", "number"), name="tahoe_reg_job_row_waiting"),
            # A retirement finds the learner's rows, and the refused rows of nobody's, without a scan.
            models.Index(fields=("user_id",), name="tahoe_reg_job_row_user"),
        ]

    def __str__(self):
        """Name the row by its job and number."""
        return f"RegistrationJobRow<{self.job_id}:{self.number}>"


class RegistrationJobChunk(models.Model):
    """
    A run of consecutive rows of a job (rows ``first_number`` to ``last_number``) that one task registers at a time.

    Any worker of the job's queue may claim a waiting chunk, up to ``TAHOE_REGISTRATION_API_JOB_PARALLELISM``
    running chunks per job; a running chunk whose heartbeat is older than the job heartbeat timeout may
    be claimed again (its task died). Its counts are its rows', set when it is done.

    .. no_pii: Row numbers, a state, a runner's name, a heartbeat and counts. Deleted with its job.
    """

    WAITING, RUNNING, DONE = "waiting", "running", "done"
    STATES = ((WAITING, WAITING), (RUNNING, RUNNING), (DONE, DONE))

    job = models.ForeignKey(RegistrationJob, on_delete=models.CASCADE, related_name="chunks")
    first_number = models.PositiveIntegerField()
    last_number = models.PositiveIntegerField()
    state = models.CharField(max_length=8, choices=STATES, default=WAITING)
    runner = models.CharField(max_length=64, blank=True, default="")
    heartbeat = models.DateTimeField(null=True)
    processed = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)

    class Meta:
        """Model options."""

        app_label = "tahoe_registration_api"
        constraints = [models.UniqueConstraint(fields=("job", "first_number"), name="tahoe_reg_job_chunk_first")]
        indexes = [models.Index(fields=("job", "state", "first_number"), name="tahoe_reg_job_chunk_state")]

    def __str__(self):
        """Name the chunk by its job and rows."""
        return f"RegistrationJobChunk<{self.job_id}:{self.first_number}-{self.last_number}:{self.state}>"


class AuditEntry(models.Model):
    """
    One action of the API on a site, kept for the site's admins to see on the token page.

    Written beside the audit log record (``audit.store``): who called, what they asked for and
    how it ended, and the learner's id. Never a password, token, email or name. Entries older
    than ``TAHOE_REGISTRATION_API_AUDIT_RETENTION_DAYS`` are purged as new ones are written.

    .. no_pii: Ids (site, caller, learner), an action, a status, an outcome, an error code and the
       request's id: never a username, email, name, password or token. Kept
       ``TAHOE_REGISTRATION_API_AUDIT_RETENTION_DAYS`` days (90 by default); a retired learner's entries
       stay until then, naming only the id of their retired account.
    """

    created = models.DateTimeField(db_index=True)
    # The Django site's id: no foreign key, so an entry outlives a deleted site until it is purged.
    site_id = models.PositiveIntegerField(null=True)
    caller_id = models.PositiveIntegerField(null=True)
    # register, dry_run, resend, bulk_register, job_register, import, token_created, ...
    action = models.CharField(max_length=32)
    # The HTTP status of a call; empty for a learner of a batch (its outcome and error code tell).
    status = models.PositiveSmallIntegerField(null=True)
    # registered, checked, email-queued, refused, exists, created, rotated, revoked, ...
    outcome = models.CharField(max_length=32)
    error_code = models.CharField(max_length=64, blank=True, default="")
    learner_id = models.PositiveIntegerField(null=True)
    request_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        """Model options."""

        app_label = "tahoe_registration_api"
        indexes = [models.Index(fields=["site_id", "created"], name="tahoe_reg_audit_site_created")]

    def __str__(self):
        """Name the entry by its action, site and status."""
        return f"AuditEntry<{self.action}:{self.site_id}:{self.status}>"


class OutboxMessage(models.Model):
    """
    What a committed change owes the world (a learner's email), written in the transaction that owes it.

    ``state`` goes ``pending`` (written, or handed back for another try) → ``leased`` (a worker
    claimed it until ``due``) → ``sent`` or ``failed``. ``due`` is when a pending or leased
    message not done by then is handed over again (the process died before the hand-over, the
    worker died after its claim); it is empty once the message is done. Never holds a secret.

    .. pii: ``payload`` may hold learners' data: an enrollment email's address, an email change's old
       and new addresses, a webhook delivery's body (the learner's username, email and name) until no
       attempt is left. Sent and failed messages are deleted
       ``TAHOE_REGISTRATION_API_OUTBOX_RETENTION_DAYS`` days after they are done; a retired learner's
       messages not yet done are given up (nothing more is sent to or about them) and all their
       messages lose their addresses and bodies at once (``retirement``).
    .. pii_types: username, email_address, name
    .. pii_retirement: local_api
    """

    PENDING, LEASED, SENT, FAILED = "pending", "leased", "sent", "failed"
    STATES = ((PENDING, PENDING), (LEASED, LEASED), (SENT, SENT), (FAILED, FAILED))

    kind = models.CharField(max_length=16)  # "email"
    topic = models.CharField(max_length=32)  # for an email: "activation" or "password-reset"
    site_id = models.PositiveIntegerField()
    user_id = models.PositiveIntegerField(null=True)
    payload = models.TextField(blank=True, default="")  # JSON: what the sender needs besides the ids
    state = models.CharField(max_length=8, choices=STATES, default=PENDING)
    created = models.DateTimeField()
    due = models.DateTimeField(null=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(null=True, db_index=True)
    last_error = models.CharField(max_length=64, blank=True, default="")  # an exception's class, never its text

    class Meta:
        """Model options."""

        app_label = "tahoe_registration_api"
        # A retirement finds the learner's messages (and the emails owed to an address: no learner) by it.
        indexes = [models.Index(fields=["user_id"], name="tahoe_reg_outbox_user")]

    def __str__(self):
        """Name the message by its kind, topic and state."""
        return f"OutboxMessage<{self.pk}:{self.kind}:{self.topic}:{self.state}>"


class ScimIdentity(models.Model):
    """
    A learner as one site's SCIM identity provider knows them (``/tahoe/scim/v2/Users``).

    ``user_name`` is the provider's ``userName`` (any length, any characters: the learner's Open edX
    username is derived from it once, at creation, and never changes), unique on the site case aside
    (``user_name_key``, emptied once the provider deleted the learner, so the name can be used again).
    ``external_id`` is the provider's own id for the learner. ``attributes`` (JSON) keeps what the
    provider sent that the platform keeps nowhere: the parts of the name, ``displayName`` and the
    ``emails`` list (the platform keeps one address). ``deprovisioned``: when the provider deleted
    the learner (the account is switched off, never deleted; SCIM no longer shows it). A learner
    registered otherwise has no row until a provider changes or deletes them: SCIM then shows their
    Open edX username as ``userName``.

    .. pii: ``user_name`` (the provider's ``userName``), ``external_id`` (the provider's id of the
       learner) and ``attributes`` (the parts of the name, ``displayName``, the ``emails`` list). Kept
       while the learner is on the site. A retired learner's identity is deleted; one the provider had
       deleted is kept without any of these, so that SCIM still hides the learner (``retirement``).
    .. pii_types: username, name, email_address, external_service
    .. pii_retirement: local_api
    """

    organization_id = models.PositiveIntegerField()
    user_id = models.PositiveIntegerField()
    user_name = models.CharField(max_length=255)
    user_name_key = models.CharField(max_length=255, null=True)  # lower-cased; NULL once deprovisioned
    external_id = models.CharField(max_length=255, null=True)
    attributes = models.TextField(blank=True, default="{}")
    deprovisioned = models.DateTimeField(null=True)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        """Model options."""

        app_label = "tahoe_registration_api"
        constraints = [
            models.UniqueConstraint(fields=["organization_id", "user_id"], name="tahoe_reg_scim_learner"),
            models.UniqueConstraint(fields=["organization_id", "user_name_key"], name="tahoe_reg_scim_user_name"),
        ]
        indexes = [
            models.Index(fields=["organization_id", "external_id"], name="tahoe_reg_scim_external_id"),
            models.Index(fields=["user_id"], name="tahoe_reg_scim_user"),  # a retirement's, on every site
        ]

    def __str__(self):
        """Name the identity by its site's organization and learner."""
        return f"ScimIdentity<{self.organization_id}:{self.user_id}>"


class WebhookEndpoint(models.Model):
    """
    A URL of one site's integrator that hears about the site's learners (``/tahoe/api/v1/webhooks/``).

    ``events`` (JSON list) are the event types it is sent. ``secret`` (sealed with a key derived
    from SECRET_KEY) signs each delivery (Standard Webhooks); after a rotation the previous secret
    (``previous_secret``) signs too until ``previous_expires``. An endpoint failing since
    ``failing_since`` for the disable-after setting, or answering 410, is switched off
    (``disabled_at``, ``disabled_reason``) until an admin switches it on again.

    .. no_pii: The integrator's URL, the event types, the sealed secrets, the id of the admin who made
       it and its state. Kept until a site's admin removes it.
    """

    site_id = models.PositiveIntegerField()
    url = models.CharField(max_length=2048)
    events = models.TextField()  # JSON list of event types
    secret = models.TextField()  # sealed
    previous_secret = models.TextField(blank=True, default="")  # sealed; "" when none
    previous_expires = models.DateTimeField(null=True)
    created = models.DateTimeField(auto_now_add=True)
    created_by = models.PositiveIntegerField(null=True)
    enabled = models.BooleanField(default=True)
    failing_since = models.DateTimeField(null=True)
    disabled_at = models.DateTimeField(null=True)
    disabled_reason = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        """Model options."""

        app_label = "tahoe_registration_api"
        indexes = [models.Index(fields=["site_id", "enabled"], name="tahoe_reg_webhook_site")]

    def __str__(self):
        """Name the endpoint by its id and site (never its URL: it may be private to the integrator)."""
        return f"WebhookEndpoint<{self.pk}:{self.site_id}>"


class WebhookAttempt(models.Model):
    """
    One attempt to deliver one event to one endpoint: what the endpoint answered, never what was sent.

    ``message_id`` is the outbox message of the delivery; ``webhook_id`` the delivery's
    ``webhook-id`` header (the same on every attempt); ``response`` at most the first 1 KiB of the
    answer's body; ``error`` why no answer came (a timeout, a refused address), never a secret.

    .. pii: ``response``, the first 1 KiB of what the integrator's receiver answered, may echo the
       delivery (a learner's username, email and name). Kept
       ``TAHOE_REGISTRATION_API_WEBHOOK_ATTEMPT_RETENTION_DAYS`` days (30 by default); the answers to a
       retired learner's deliveries still in the outbox are emptied at once (``retirement``).
    .. pii_types: username, email_address, name
    .. pii_retirement: local_api
    """

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="attempts")
    message_id = models.PositiveBigIntegerField()
    webhook_id = models.CharField(max_length=64)
    event = models.CharField(max_length=32)
    attempt = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True)
    error = models.CharField(max_length=64, blank=True, default="")
    response = models.TextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(db_index=True)
    succeeded = models.BooleanField(default=False)
    next_attempt = models.DateTimeField(null=True)

    class Meta:
        """Model options."""

        app_label = "tahoe_registration_api"
        indexes = [
            models.Index(fields=["endpoint", "at"], name="tahoe_reg_webhook_attempt"),
            models.Index(fields=["message_id"], name="tahoe_reg_webhook_attempt_msg"),  # a delivery's attempts
        ]

    def __str__(self):
        """Name the attempt by its endpoint, event and number."""
        return f"WebhookAttempt<{self.endpoint_id}:{self.event}:{self.attempt}>"
