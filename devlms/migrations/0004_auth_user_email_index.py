"""
An index on auth_user.email, as the LMS has one.

The LMS's ``database_fixups`` migration creates a unique index ``email`` on ``auth_user(email)``;
the development LMS keeps emails unique per site when told to (Tahoe's scope), so its index is
not unique. Without it, every look-up by email (the conflict checks) reads a whole site's members.
"""

from django.db import migrations


class Migration(migrations.Migration):
    """Add the index (and drop it on the way back)."""

    atomic = False  # MariaDB cannot roll DDL back

    dependencies = [("devlms", "0003_learner_language"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(
        lambda apps, schema_editor: schema_editor.execute("CREATE INDEX devlms_auth_user_email ON auth_user (email)"),
        lambda apps, schema_editor: schema_editor.execute(
            "DROP INDEX devlms_auth_user_email" + (" ON auth_user" if schema_editor.connection.vendor == "mysql" else "")
        ),
    )]
