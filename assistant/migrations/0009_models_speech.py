"""Whisper models the household imports, and the household's default speech model (issue 11)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assistant", "0008_merge_domains"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ImportedSpeechModel",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200)),
                ("path", models.CharField(max_length=1000, unique=True)),
                (
                    "engine",
                    models.CharField(
                        choices=[("ct2", "faster-whisper (CTranslate2)"), ("pt", "OpenAI Whisper checkpoint")],
                        max_length=8,
                    ),
                ),
                ("size_bytes", models.BigIntegerField(default=0)),
                ("parameters", models.BigIntegerField(default=0)),
                ("multilingual", models.BooleanField(default=False)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"ordering": ["name", "id"]},
        ),
        migrations.CreateModel(
            name="SpeechDefault",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("model", models.CharField(max_length=1000)),
                ("changed_at", models.DateTimeField(auto_now=True)),
            ],
        ),
    ]
