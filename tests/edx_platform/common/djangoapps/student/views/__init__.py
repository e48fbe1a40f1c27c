"""Stand-in for ``common/djangoapps/student/views/__init__.py``, which re-exports its submodules."""

from common.djangoapps.student.views.management import *  # noqa: F401,F403  pylint: disable=wildcard-import
