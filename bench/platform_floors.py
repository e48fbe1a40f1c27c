"""
The floor of a registration inside the LMS: the platform's own account creation with nothing around it.

``do_create_account`` (``common/djangoapps/student/helpers.py``, what the platform's registration view
calls) on a bound ``AccountCreationForm``, plus tahoe-sites' membership, in one transaction: the
form's checks, the user, the profile and the activation record, with the receivers the platform
connects to them. No HTTP, no middleware, no authentication, no email, no event.

``do_create_account`` always hashes the form's password. A passwordless registration hashes none,
so its floor is measured with ``User.set_password`` storing an unusable value instead (everything
else unchanged); the floor of a registration with a password keeps the hash.
"""

import itertools
from unittest import mock

from django.contrib.auth import get_user_model
from django.db import transaction

from bench.floors import time_registrations
from bench.load import FLOW_TAGS, NAME, PASSWORD


def _create(username, organization):
    """Create one account as the platform does, and its membership, in one transaction."""
    # pylint: disable=import-outside-toplevel  # the LMS's modules need Django set up
    from common.djangoapps.student.helpers import do_create_account
    from openedx.core.djangoapps.user_authn.views.registration_form import AccountCreationForm
    from tahoe_sites.api import add_user_to_organization

    form = AccountCreationForm(
        data={"username": username, "email": f"{username}@example.com", "name": NAME, "password": PASSWORD,
              "honor_code": "true", "terms_of_service": "true"},
        tos_required=True,
    )
    with transaction.atomic():
        user, _profile, _registration = do_create_account(form)
        add_user_to_organization(user, organization, is_admin=False)


def _without_hashing(user, raw_password):  # pylint: disable=unused-argument
    """Store an unusable password instead of hashing (the passwordless floor)."""
    user.set_unusable_password()


def do_create_account_floor(prefix, organization, with_hash, count, warmup=3):
    """Time ``count`` accounts created as above, one after another; return throughput, latency, statements."""
    flow = "password" if with_hash else "passwordless"
    names = (f"{prefix}d{FLOW_TAGS[flow]}{number}" for number in itertools.count())
    patch = mock.patch.object(get_user_model(), "set_password", _without_hashing) if not with_hash else None
    if patch:
        patch.start()
    try:
        timed = time_registrations(lambda name: _create(name, organization), names, count, warmup)
    finally:
        if patch:
            patch.stop()
    return {
        "flow": flow,
        "what": "do_create_account + membership, one transaction" + ("" if with_hash else ", no hash"),
        **timed,
    }
