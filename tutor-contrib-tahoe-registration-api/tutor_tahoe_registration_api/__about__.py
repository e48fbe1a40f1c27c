"""The version of the Tutor plugin: that of the tahoe-registration-api release it installs by default."""

__version__ = "1.0.0"
