"""A visit whose time the firm gave up, waiting for the customer to choose a new one.

The new status is not among the active ones, so the exclusion constraint of 0002
(status IN requested, scheduled, en_route, on_site) no longer reserves the
technician for the given-up window: nothing to change there.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('appointments', '0004_visit_attempts'),
    ]

    operations = [
        migrations.AddField(
            model_name='appointment',
            name='new_time_reason',
            field=models.TextField(blank=True, verbose_name='reason for asking for a new time'),
        ),
        migrations.AddField(
            model_name='appointment',
            name='new_time_requested_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='new time requested at'),
        ),
        migrations.AlterField(
            model_name='appointment',
            name='status',
            field=models.CharField(choices=[('requested', 'requested'), ('scheduled', 'scheduled'), ('en_route', 'en route'), ('on_site', 'on site'), ('completed', 'completed'), ('missed', 'missed'), ('cancelled', 'cancelled'), ('new_time', 'waiting for a new time')], default='scheduled', max_length=10, verbose_name='status'),
        ),
    ]
