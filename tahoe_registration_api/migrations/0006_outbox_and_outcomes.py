"""
The outbox (``OutboxMessage``); a job's row keeps its learner's outcome instead of an HTTP status.

A row's ``status`` 200 becomes the outcome ``created``, any other the outcome ``refused``; the
rows' ``email_due`` goes, as the outbox now owes every learner's email. A row still owing its
email when this runs gets an outbox message, so no email is lost across the upgrade.
"""

from django.db import migrations, models
from django.utils import timezone


def outcomes_from_statuses(apps, schema_editor):  # pylint: disable=unused-argument
    """Give each processed row its outcome; move the emails rows still owe into the outbox."""
    rows = apps.get_model("tahoe_registration_api", "RegistrationJobRow")
    outbox = apps.get_model("tahoe_registration_api", "OutboxMessage")
    rows.objects.filter(status=200).update(outcome="created")
    rows.objects.filter(status__isnull=False).exclude(status=200).update(outcome="refused")
    now = timezone.now()
    owed = rows.objects.filter(status=200).exclude(email_due="").select_related("job")
    outbox.objects.bulk_create([
        outbox(kind="email", topic=row.email_due, site_id=row.job.site_id, user_id=row.user_id,
               payload='{"secure": %s}' % ("true" if row.job.secure else "false"),
               state="pending", created=now, due=now)
        for row in owed.iterator()
    ], batch_size=1000)


def statuses_from_outcomes(apps, schema_editor):  # pylint: disable=unused-argument
    """Undo: a created row is 200 again, a refused one 400 (the exact status is not kept)."""
    rows = apps.get_model("tahoe_registration_api", "RegistrationJobRow")
    rows.objects.filter(outcome="created").update(status=200)
    rows.objects.filter(outcome="refused").update(status=400)


class Migration(migrations.Migration):

    dependencies = [
        ('tahoe_registration_api', '0005_registrationjobrow_email_due'),
    ]

    operations = [
        migrations.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=16)),
                ('topic', models.CharField(max_length=32)),
                ('site_id', models.PositiveIntegerField()),
                ('user_id', models.PositiveIntegerField(null=True)),
                ('payload', models.TextField(blank=True, default='')),
                ('state', models.CharField(choices=[('pending', 'pending'), ('leased', 'leased'), ('sent', 'sent'),
                                                    ('failed', 'failed')], default='pending', max_length=8)),
                ('created', models.DateTimeField()),
                ('due', models.DateTimeField(db_index=True, null=True)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('done_at', models.DateTimeField(db_index=True, null=True)),
                ('last_error', models.CharField(blank=True, default='', max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name='registrationjobrow',
            name='outcome',
            field=models.CharField(max_length=16, null=True),
        ),
        migrations.RunPython(outcomes_from_statuses, statuses_from_outcomes),
        migrations.RemoveIndex(
            model_name='registrationjobrow',
            name='tahoe_reg_job_row_pending',
        ),
        migrations.RemoveField(
            model_name='registrationjobrow',
            name='status',
        ),
        migrations.RemoveField(
            model_name='registrationjobrow',
            name='email_due',
        ),
        migrations.AddIndex(
            model_name='registrationjobrow',
            index=models.Index(fields=['job', 'outcome', 'number'], name='tahoe_reg_job_row_waiting'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='status',
            field=models.PositiveSmallIntegerField(null=True),
        ),
    ]
