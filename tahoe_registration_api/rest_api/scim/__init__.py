"""The SCIM 2.0 service of a site, under ``/tahoe/scim/v2/``."""
