import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="LearnerExtension",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("company", models.CharField(max_length=100)),
                ("title", models.CharField(blank=True, max_length=64)),
                ("department", models.CharField(blank=True, choices=[
                    ("sales", "Sales"), ("engineering", "Engineering"), ("support", "Support")], max_length=16)),
                ("user", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE,
                                              related_name="tahoe_test_extension", to=settings.AUTH_USER_MODEL)),
            ],
        ),
    ]
