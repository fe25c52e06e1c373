# The room's auto-mode queue target: 100 ms (was 250). Waiting for a thread rises first in an
# overload; see WaitingRoomConfig. A room already configured keeps its value
# (`manage.py waitingroom auto --target-queue-ms 100` adopts the new one).

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("resilience", "0004_waitingroom_targets_250ms"),
    ]

    operations = [
        migrations.AlterField(
            model_name="waitingroomconfig",
            name="target_queue_ms",
            field=models.PositiveIntegerField(
                default=100,
                help_text="...or when requests wait longer than this (p95) for a thread before the app starts on them.",
                validators=[
                    django.core.validators.MinValueValidator(10),
                    django.core.validators.MaxValueValidator(60000),
                ],
            ),
        ),
    ]
