"""Settings hooks called by the LMS through the plugin framework."""
