"""``devlms_seed``."""
