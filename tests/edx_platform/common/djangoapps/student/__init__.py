"""Stand-in for the platform's student app, ``common.djangoapps.student``."""
