"""Database models of the plugin."""

from django.db import models


class RegistrationClaim(models.Model):
    """
    A claim on a username or an email, held only inside one registration's transaction.

    A registration inserts its claims first and deletes them before it commits, so a row
    never outlives its transaction. Meanwhile the unique index makes every concurrent
    registration of the same username or email (on any app server) wait for the first one
    to finish; it then sees that registration's committed user and answers 409.
    """

    # SHA-256 of the normalised claim ("username:<name>" or "email:<scope>:<address>"),
    # so that the index stays short and the table never holds an address in clear.
    key = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        """Model options."""

        app_label = "tahoe_registration_api"

    def __str__(self):
        """Name the claim by its key."""
        return f"RegistrationClaim<{self.key}>"
