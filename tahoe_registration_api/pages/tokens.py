"""A site admin's own API token (DRF's ``Token``): create, rotate, revoke."""

from django.db import transaction
from rest_framework.authtoken.models import Token


def token_of(user):
    """Return the user's token, or None."""
    return Token.objects.filter(user=user).first()


def create_token(user):
    """Create the user's token; return it, or None when the user already has one."""
    with transaction.atomic():
        token, created = Token.objects.get_or_create(user=user)
    return token if created else None


def rotate_token(user):
    """Replace the user's token with one of a new key (the old key stops working at once); None without one."""
    with transaction.atomic():
        deleted, _ = Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user) if deleted else None


def revoke_token(user):
    """Delete the user's token; return whether there was one."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)
