"""Operator commands: ``tahoe_create_token``."""
