"""Stand-in for ``common.djangoapps.util``."""
