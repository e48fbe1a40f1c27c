"""``tahoe_create_token <username>``: get or create a user's API token and print it."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    """Print the DRF token of a user, creating it if the user has none."""

    help = "Get or create the Django REST framework token of a user (a site admin) and print it."

    def add_arguments(self, parser):
        """Take the username."""
        parser.add_argument("username", help="Username of the user who will call the API.")

    def handle(self, *args, **options):
        """Print the token on its own line."""
        try:
            user = get_user_model().objects.get(username=options["username"])
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user has the username {options['username']!r}.") from exc
        token, created = Token.objects.get_or_create(user=user)
        if created:
            self.stderr.write(f"Created a token for {user.username}.")
        self.stdout.write(token.key)
