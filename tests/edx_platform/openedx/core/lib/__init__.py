"""Stand-in for the platform's ``openedx.core.lib`` package."""
