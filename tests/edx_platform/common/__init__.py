"""Stand-in for the Open edX platform's ``common`` package."""
