"""Stand-in for the Open edX platform's ``openedx`` package."""
