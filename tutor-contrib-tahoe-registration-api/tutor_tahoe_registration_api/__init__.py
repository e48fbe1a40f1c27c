"""Tutor plugin of tahoe-registration-api: installs, configures and operates the LMS plugin."""
