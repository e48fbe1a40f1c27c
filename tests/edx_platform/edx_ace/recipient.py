"""Stand-in for ``edx_ace.recipient``: who a message goes to."""

from dataclasses import dataclass


@dataclass
class Recipient:
    """The learner's id and the address the message goes to."""

    lms_user_id: int
    email_address: str
