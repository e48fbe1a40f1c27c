"""Management commands of the development LMS."""
