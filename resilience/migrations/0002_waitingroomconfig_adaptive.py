# Auto mode's adaptive admission: a floor for the pace, and the targets it steers by.

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("resilience", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="waitingroomconfig",
            name="min_users_per_minute",
            field=models.PositiveIntegerField(
                default=30,
                help_text="Auto mode, overloaded: visitors let in per minute, at least.",
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(1000000),
                ],
            ),
        ),
        migrations.AddField(
            model_name="waitingroomconfig",
            name="target_latency_ms",
            field=models.PositiveIntegerField(
                default=500,
                help_text="Auto mode engages when the watched pages' (checkout's) p95 goes over this.",
                validators=[
                    django.core.validators.MinValueValidator(10),
                    django.core.validators.MaxValueValidator(60000),
                ],
            ),
        ),
        migrations.AddField(
            model_name="waitingroomconfig",
            name="target_queue_ms",
            field=models.PositiveIntegerField(
                default=250,
                help_text="...or when requests wait longer than this (p95) before the app starts on them.",
                validators=[
                    django.core.validators.MinValueValidator(10),
                    django.core.validators.MaxValueValidator(60000),
                ],
            ),
        ),
    ]
