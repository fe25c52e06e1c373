# The room's auto-mode targets: 250 ms (was 500). A room that engages only at the wait a customer
# notices has already let in visitors who will meet a longer one; see WaitingRoomConfig.

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("resilience", "0003_waitingroom_auto_paces_itself"),
    ]

    operations = [
        migrations.AlterField(
            model_name="waitingroomconfig",
            name="target_latency_ms",
            field=models.PositiveIntegerField(
                default=250,
                help_text="Auto mode engages when the watched pages' (checkout's) p95 goes over this: half the wait"
                " a customer notices (500 ms), not the page's usual time.",
                validators=[
                    django.core.validators.MinValueValidator(10),
                    django.core.validators.MaxValueValidator(60000),
                ],
            ),
        ),
        migrations.AlterField(
            model_name="waitingroomconfig",
            name="target_queue_ms",
            field=models.PositiveIntegerField(
                default=250,
                help_text="...or when requests wait longer than this (p95) for a thread before the app starts on them.",
                validators=[
                    django.core.validators.MinValueValidator(10),
                    django.core.validators.MaxValueValidator(60000),
                ],
            ),
        ),
    ]
