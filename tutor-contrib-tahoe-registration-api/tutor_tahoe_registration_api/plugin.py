"""
The Tutor plugin ``tahoe-registration-api`` (Tutor 20, 21 and 22).

Once enabled it installs the LMS plugin in the openedx image, writes its settings into the LMS's
settings from Tutor config values, runs its migrations among Tutor's init tasks and adds two jobs
to ``tutor local|dev|k8s do``: ``tahoe-create-token`` and ``tahoe-create-site``.
"""

from __future__ import annotations

import re
import shlex
import typing as t

import click
from tutor import exceptions, hooks
from tutor.__about__ import __version__ as tutor_version

from .__about__ import __version__

# Each of these Tutor config values becomes the LMS setting of the same name, with the same
# default as the LMS plugin's (tahoe_registration_api/settings/common.py), but for the API switch:
# enabling the Tutor plugin switches the API on.
SETTINGS: dict[str, t.Any] = {
    "TAHOE_REGISTRATION_API_ENABLED": True,
    "TAHOE_REGISTRATION_API_DISABLE_FOR_IDP_SITES": False,
    "TAHOE_REGISTRATION_API_ALLOW_STAFF": False,
    "TAHOE_REGISTRATION_API_RATE": "60/m",
    "TAHOE_REGISTRATION_API_MAX_BODY_BYTES": 16384,
    "TAHOE_REGISTRATION_API_DEADLOCK_RETRIES": 6,
    "TAHOE_REGISTRATION_API_CACHE_TIMEOUT": 30,
    "TAHOE_REGISTRATION_API_EMAIL_QUEUE": None,
    "TAHOE_REGISTRATION_API_IDEMPOTENCY_TTL": 86400,
    "TAHOE_REGISTRATION_API_EMAIL_RETRIES": 5,
    "TAHOE_REGISTRATION_API_EMAIL_RETRY_DELAY": 30,
    "TAHOE_REGISTRATION_API_OUTBOX_LEASE": 300,
    "TAHOE_REGISTRATION_API_OUTBOX_HANDOVER_GRACE": 600,
    "TAHOE_REGISTRATION_API_OUTBOX_SWEEP_INTERVAL": 60,
    "TAHOE_REGISTRATION_API_OUTBOX_RETENTION_DAYS": 7,
    "TAHOE_REGISTRATION_API_BULK_MAX": 500,
    "TAHOE_REGISTRATION_API_BULK_MAX_BODY_BYTES": 1048576,
    "TAHOE_REGISTRATION_API_ENROLL_MAX": 500,
    "TAHOE_REGISTRATION_API_BULK_RATE": "5/m",
    "TAHOE_REGISTRATION_API_SCIM_RATE": "600/m",
    "TAHOE_REGISTRATION_API_BULK_LEARNER_RATE": "10000/h",
    "TAHOE_REGISTRATION_API_JOB_MAX_ROWS": 100000,
    "TAHOE_REGISTRATION_API_JOB_MAX_BODY_BYTES": 67108864,
    "TAHOE_REGISTRATION_API_JOB_QUEUE": None,
    "TAHOE_REGISTRATION_API_JOB_RETENTION_DAYS": 30,
    "TAHOE_REGISTRATION_API_JOB_HEARTBEAT_TIMEOUT": 120,
    "TAHOE_REGISTRATION_API_JOB_PARALLELISM": 4,
    "TAHOE_REGISTRATION_API_AUDIT_RETENTION_DAYS": 90,
    "TAHOE_REGISTRATION_API_WEBHOOK_TIMEOUT": 10,
    "TAHOE_REGISTRATION_API_WEBHOOK_RETRY_SCHEDULE": [5, 300, 1800, 7200, 18000, 36000, 36000],
    "TAHOE_REGISTRATION_API_WEBHOOK_DISABLE_AFTER": 5,
    "TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_HTTP": False,
    "TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_PRIVATE": False,
    "TAHOE_REGISTRATION_API_WEBHOOK_ATTEMPT_RETENTION_DAYS": 30,
}

# The settings that may be None (a rate switched off, the LMS's default queue); the others must
# keep the type of their default.
NULLABLE = {
    "TAHOE_REGISTRATION_API_RATE",
    "TAHOE_REGISTRATION_API_BULK_RATE",
    "TAHOE_REGISTRATION_API_SCIM_RATE",
    "TAHOE_REGISTRATION_API_BULK_LEARNER_RATE",
    "TAHOE_REGISTRATION_API_EMAIL_QUEUE",
    "TAHOE_REGISTRATION_API_JOB_QUEUE",
}

# What pip installs in the openedx image: a release by default; a VCS URL or any other pip
# requirement otherwise; empty to install nothing (e.g. with ``tutor mounts add`` of a checkout).
PIP_REQUIREMENT = "TAHOE_REGISTRATION_API_PIP_REQUIREMENT"

hooks.Filters.CONFIG_DEFAULTS.add_items(
    [(PIP_REQUIREMENT, f"tahoe-registration-api=={__version__}")] + list(SETTINGS.items())
)

RATE_RE = re.compile(r"^[0-9]+/[0-9]*[smhd]$")


def python_literal(value: t.Any, name: str) -> str:
    """Render the config value of the setting ``name`` as a Python literal, refusing a wrong type."""
    default = SETTINGS[name]
    if value is None and name in NULLABLE:
        return repr(value)
    if isinstance(default, bool):
        valid = isinstance(value, bool)
    elif isinstance(default, int):
        valid = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    elif isinstance(default, list):  # seconds, one per retry
        valid = isinstance(value, list) and all(
            isinstance(item, int) and not isinstance(item, bool) and item >= 0 for item in value)
    elif name.endswith("_RATE"):  # django-ratelimit's syntax: count/period, the period s, m, h or d
        valid = isinstance(value, str) and RATE_RE.match(value) is not None
    else:
        valid = isinstance(value, str)
    if not valid:
        expected = {bool: "true or false", int: "a whole number, 0 or more",
                    list: "a list of whole numbers of seconds"}.get(type(default), "a string")
        if name.endswith("_RATE"):
            expected = "a rate such as 60/m (count/period, the period s, m, h or d)"
        if name in NULLABLE:
            expected += " or null"
        raise exceptions.TutorError(f"{name} must be {expected}, not {value!r}.")
    return repr(value)


def shell_word(value: t.Any) -> str:
    """Quote a value as one word of a shell command."""
    return shlex.quote(str(value))


hooks.Filters.ENV_TEMPLATE_FILTERS.add_items(
    [
        ("tahoe_registration_api_python", python_literal),
        ("tahoe_registration_api_shell", shell_word),
    ]
)

# Tutor 21 installs Python packages with uv (``$PIP_COMMAND``); Tutor 20 with pip.
PIP_COMMAND = "pip" if int(tutor_version.split(".", maxsplit=1)[0]) < 21 else "$PIP_COMMAND"

hooks.Filters.ENV_PATCHES.add_items(
    [
        (
            "openedx-dockerfile-post-python-requirements",
            f"""{{% if {PIP_REQUIREMENT} %}}
# tahoe-registration-api: the LMS plugin ({PIP_REQUIREMENT})
RUN --mount=type=cache,target=/openedx/.cache/pip,sharing=shared \\
    {PIP_COMMAND} install {{{{ {PIP_REQUIREMENT}|tahoe_registration_api_shell }}}}
{{% endif %}}""",
        ),
        # Tutor's Caddy refuses LMS request bodies over 4MB; a registration job's CSV may be larger
        # (100,000 learners are about 8 MB). Its own, more specific handle block gives the job
        # endpoint the plugin's limit instead (handle blocks are mutually exclusive).
        (
            "caddyfile-lms",
            """# tahoe-registration-api: a registration job's CSV, up to TAHOE_REGISTRATION_API_JOB_MAX_BODY_BYTES
handle /tahoe/api/v1/registration-jobs* {
    request_body {
        max_size {{ TAHOE_REGISTRATION_API_JOB_MAX_BODY_BYTES|int }}
    }
}""",
        ),
        # Tutor includes the LMS's common settings in both lms/production.py and lms/development.py,
        # after the platform's settings, so these values win over the plugin's own defaults.
        (
            "openedx-lms-common-settings",
            "# tahoe-registration-api (Tutor config values TAHOE_REGISTRATION_API_*)\n"
            + "\n".join(f'{name} = {{{{ {name}|tahoe_registration_api_python("{name}") }}}}' for name in SETTINGS),
        ),
    ]
)

# A checkout named tahoe-registration-api, added with ``tutor mounts add``, is installed in the
# openedx image (pip install -e) and bind-mounted in its containers, as Tutor does for xblocks.
hooks.Filters.MOUNTED_DIRECTORIES.add_item(("openedx", r"tahoe-registration-api$"))

# ``tutor local do init`` (and ``launch``): the plugin's migrations, after the LMS's own.
hooks.Filters.CLI_DO_INIT_TASKS.add_item(("lms", "./manage.py lms migrate tahoe_registration_api"))


def command_word(value: str) -> str:
    """Quote a command-line argument as one shell word that Tutor's template rendering leaves intact."""
    return shlex.quote(value).replace("{", "{{ '{' }}")


@click.command(
    "tahoe-create-token",
    short_help="Print a site admin's API token.",
    help="Print the API token of USERNAME (a site admin), creating it if the user has none.",
)
@click.argument("username")
def create_token(username: str) -> t.Iterable[tuple[str, str]]:
    """Run the LMS plugin's ``tahoe_create_token`` in the LMS."""
    yield ("lms", f"./manage.py lms tahoe_create_token {command_word(username)}")


@click.command(
    "tahoe-create-site",
    short_help="Create a Tahoe site and its admin.",
    help="Create a Tahoe site: the site DOMAIN, the organization SHORT_NAME, their link, and USERNAME as its "
    "admin. Safe to run again.",
)
@click.argument("domain")
@click.argument("short_name")
@click.option("--admin", "admin", required=True, metavar="USERNAME", help="An existing user, made the site's admin.")
@click.option("--name", "name", default=None, help="The organization's display name (default: SHORT_NAME).")
def create_site(domain: str, short_name: str, admin: str, name: t.Optional[str]) -> t.Iterable[tuple[str, str]]:
    """Run the LMS plugin's ``tahoe_create_site`` in the LMS."""
    words = [domain, short_name, "--admin", admin] + (["--name", name] if name is not None else [])
    yield ("lms", "./manage.py lms tahoe_create_site " + " ".join(command_word(word) for word in words))


hooks.Filters.CLI_DO_COMMANDS.add_items([create_token, create_site])
