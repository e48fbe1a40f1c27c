"""Stand-in for edx-ace, the platform's message library: what the adapter uses of it."""
