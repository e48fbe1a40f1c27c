"""Stand-in for ``openedx/core/djangoapps/lang_pref``: the key of the language preference."""

LANGUAGE_KEY = "pref-lang"
