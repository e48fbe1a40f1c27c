"""Register learners on a Tahoe (multi-tenant Open edX) site through a REST API."""

__version__ = "1.0.0"
