"""
The development LMS's stand-in for the platform's user retirement signals, and its plugins' receivers of them.

The LMS defines the signals in ``openedx.core.djangoapps.user_api.accounts.signals`` and its plugins
app connects every plugin's ``signals_config`` receivers when it is ready (edx-django-utils'
``connect_plugin_receivers``). The development LMS has no ``openedx`` package: ``connect_receivers``
connects the receivers a plugin declares for that module to the signals of the same names here.
``retire_misc`` sends them as the LMS's ``retire_misc`` step (``LMSAccountRetirementView``) does.
"""

import importlib

from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal
from edx_django_utils.plugins.registry import get_plugin_app_configs

PLATFORM_MODULE = "openedx.core.djangoapps.user_api.accounts.signals"

USER_RETIRE_MAILINGS = Signal()  # user, email (the original address), new_email (the retired one)
USER_RETIRE_LMS_CRITICAL = Signal()  # user
USER_RETIRE_LMS_MISC = Signal()  # user
SIGNALS = {"USER_RETIRE_MAILINGS": USER_RETIRE_MAILINGS, "USER_RETIRE_LMS_CRITICAL": USER_RETIRE_LMS_CRITICAL,
           "USER_RETIRE_LMS_MISC": USER_RETIRE_LMS_MISC}


def connect_receivers(project_type="lms.djangoapp"):
    """Connect the plugins' receivers of the platform's retirement signals to these; refuse any other signal."""
    for app_config in get_plugin_app_configs(project_type):
        config = getattr(app_config, "plugin_app", {}).get("signals_config", {}).get(project_type)
        if not config:
            continue
        module = importlib.import_module(f"{app_config.name}.{config.get('relative_path', 'signals')}")
        for receiver in config.get("receivers", []):
            module_path, _, name = receiver["signal_path"].rpartition(".")
            if module_path != PLATFORM_MODULE or name not in SIGNALS:
                raise ImproperlyConfigured(f"The development LMS has no signal {receiver['signal_path']}.")
            SIGNALS[name].connect(getattr(module, receiver["receiver_func_name"]),
                                  dispatch_uid=receiver.get("dispatch_uid"))


def retire_misc(user, original_email, retired_email):
    """Send what the LMS's retire_misc step sends, in its order, once it retired its own rows of ``user``."""
    USER_RETIRE_LMS_MISC.send(sender=retire_misc, user=user)
    USER_RETIRE_MAILINGS.send(sender=retire_misc, email=original_email, new_email=retired_email, user=user)
