"""Stand-in for ``edx_ace.signals``: the signal sent after each delivered message."""

from django.dispatch import Signal

ACE_MESSAGE_SENT = Signal()
