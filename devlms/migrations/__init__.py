"""Migrations of the development LMS's own models."""
