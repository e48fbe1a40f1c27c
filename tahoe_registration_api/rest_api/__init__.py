"""The REST API of the plugin (OEP-49 ``rest_api`` package)."""
