"""Stand-in for ``openedx/core/lib/celery``."""
