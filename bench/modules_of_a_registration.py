"""
Which of the plugin's modules one single registration passes through, and how many moves between them.

Run with the fast suite's fixtures (the development LMS's adapter, sqlite)::

    .venv/bin/pytest --no-cov -q -s bench/modules_of_a_registration.py

A move is a call from one of the plugin's modules into another; the registration is traced once
the site's look-ups are warm (a first registration before).
"""

import sys
from collections import Counter

from django.test import TestCase

from tests.conftest import *  # noqa: F401,F403  pylint: disable=wildcard-import,unused-wildcard-import
from tests.conftest import learner_body

PACKAGE = "/tahoe_registration_api/"


def module_of(frame):
    """Return the plugin's module a frame runs in, or None."""
    name = frame.f_code.co_filename
    return "tahoe_registration_api/" + name.split(PACKAGE, 1)[1] if PACKAGE in name else None


def trace(register):
    """Run ``register()`` under a profiler; return the modules entered (in order) and the moves between them."""
    modules, moves = [], Counter()

    def profiler(frame, event, arg):  # pylint: disable=unused-argument
        callee = module_of(frame) if event == "call" else None
        if callee is None:
            return
        caller = frame.f_back
        while caller is not None and module_of(caller) is None:
            caller = caller.f_back
        if callee not in modules:
            modules.append(callee)
        if caller is not None and module_of(caller) != callee:
            moves[(module_of(caller), callee)] += 1

    sys.setprofile(profiler)
    try:
        response = register()
    finally:
        sys.setprofile(None)
    return response, modules, moves


def test_modules_of_a_single_registration(alpha, alpha_admin):
    """Print the modules and moves of one single registration."""
    assert alpha_admin.register(alpha, learner_body(username="warm", email="warm@example.com")).status_code == 200

    def register():
        with TestCase.captureOnCommitCallbacks(execute=True):
            return alpha_admin.client.post("/tahoe/api/v1/registrations/", learner_body(), format="json",
                                           HTTP_HOST=alpha.domain)

    response, modules, moves = trace(register)
    assert response.status_code == 200
    print(f"\n{len(modules)} modules, {sum(moves.values())} moves ({len(moves)} distinct):")
    for module in modules:
        print(f"  {module}")
    for (source, target), count in sorted(moves.items()):
        print(f"  {source} -> {target}: {count}")
