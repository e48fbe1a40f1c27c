"""Tests of tahoe-registration-api."""
