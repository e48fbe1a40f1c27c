"""Version 1 of the REST API; a v2 gets its own package."""
