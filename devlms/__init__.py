"""A development LMS stand-in that serves the plugin (not installed with the package)."""
