"""Stand-in for the platform's ``dark_lang`` app: which languages are released."""
