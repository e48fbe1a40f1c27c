"""Production settings of the plugin: the common ones, overridable from the LMS's YAML."""

from tahoe_registration_api.settings import common


def plugin_settings(settings):
    """Apply the common settings, then any value the operator put in the LMS's ENV_TOKENS."""
    common.plugin_settings(settings)
    env_tokens = getattr(settings, "ENV_TOKENS", {}) or {}
    for name in common.DEFAULTS:
        if name in env_tokens:
            setattr(settings, name, env_tokens[name])
