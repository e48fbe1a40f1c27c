"""
Count the SQL statements of a request through the whole LMS, grouped by where they come from.

Each statement is attributed from the Python stack that issued it: the first group (in the order
of ``GROUPS``) whose marker appears in the stack takes it, so a statement of a signal receiver
run while the account is saved counts as "signal receivers", not "account".
"""

import traceback
from collections import Counter
from contextlib import ExitStack, contextmanager

from django.db import connections

# Statements of a Celery task run eagerly inside the request (lms.envs.test): in production a
# worker runs them, after the answer. They are reported, and left out of the request's own count.
CELERY_TASK = "Celery task"

# (group, markers): a marker is a substring of a stack frame's "file:function".
GROUPS = (
    (CELERY_TASK, ("celery/app/task.py:apply",)),
    ("session", ("django/contrib/sessions/",)),
    ("email", ("edx_ace/", "user_authn/tasks.py", "send_password_reset_email", "send_activation_email",
               "compose_activation_email", "compose_and_send_activation_email")),
    ("signal receivers", ("django/dispatch/dispatcher.py", "openedx_events/tooling.py")),
    ("authentication", ("rest_framework/authentication.py", "rest_api/authentication.py",
                        "edx_rest_framework_extensions/auth/", "oauth2_provider/")),
    ("permission", ("rest_api/v1/permissions.py", "tahoe_registration_api/lookups.py",
                    "tahoe_registration_api/switches.py")),
    ("rate limit", ("rest_api/throttling.py",)),
    ("checks", ("api.py:_conflicts", "api.py:_group_conflicts", "edxapp.py:platform_conflicts", "registration_form.py",
                "password_validation", "hooks.py:run_registration_filter")),
    ("account", ("api.py:_create_account", "edxapp.py:create_account", "api.py:register_user",
                 "api.py:_create_group", "api.py:register_group")),
    ("audit", ("tahoe_registration_api/audit.py",)),
    ("view", ("rest_framework/views.py",)),
    ("job", ("tahoe_registration_api/jobs.py",)),  # a job's own: its claims, counts, row marks
)
MIDDLEWARE = "LMS middleware"


def group_of(stack):
    """Return the group of a statement issued from ``stack`` (a list of "file:function")."""
    for group, markers in GROUPS:
        if any(marker in frame for frame in stack for marker in markers):
            return group
    return MIDDLEWARE


class StatementLog:
    """The statements of a block: their SQL and their group."""

    def __init__(self):
        self.statements = []

    def __call__(self, execute, sql, params, many, context):
        """Record the statement and its group, then run it."""
        stack = [f"{frame.filename}:{frame.name}" for frame in traceback.extract_stack()[:-1]]
        self.statements.append((group_of(stack), sql))
        return execute(sql, params, many, context)

    @property
    def total(self):
        """How many statements ran."""
        return len(self.statements)

    @property
    def request_total(self):
        """How many statements the request itself ran: all but those of eagerly run Celery tasks."""
        return self.total - self.by_group().get(CELERY_TASK, 0)

    def by_group(self):
        """``{group: count}``, every group that ran a statement."""
        return dict(Counter(group for group, _ in self.statements))

    def report(self):
        """One line per group, then the total: what a failing budget shows."""
        lines = [f"  {group:<18} {count:>3}" for group, count in sorted(self.by_group().items())]
        lines.append(f"  {'total':<18} {self.total:>3}")
        lines.append(f"  {'the request':<18} {self.request_total:>3}  (the total less the Celery task's)")
        return "\n".join(lines)


@contextmanager
def statements():
    """Record every statement on every database connection of the block."""
    log = StatementLog()
    with ExitStack() as stack:
        for connection in connections.all():
            stack.enter_context(connection.execute_wrapper(log))
        yield log
