"""Sampling settings: per conversation, household defaults per model, and answers stopped at their token limit."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assistant", "0008_merge_domains"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="temperature",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="conversation",
            name="top_p",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="conversation",
            name="max_tokens",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="conversation",
            name="repeat_penalty",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="message",
            name="token_limit",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="localmodel",
            name="sampling_recommended",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="localmodel",
            name="sampling_defaults",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
