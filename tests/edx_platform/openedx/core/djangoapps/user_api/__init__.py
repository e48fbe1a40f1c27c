"""Stand-in for the platform's ``user_api`` app: the users' preferences."""
