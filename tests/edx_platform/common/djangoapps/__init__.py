"""Stand-in for ``common.djangoapps``."""
