"""Photos and the household's CLIP model (issue 10)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('assistant', '0006_job_kind_from_registry'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ClipModel',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('architecture', models.CharField(max_length=100)),
                ('checkpoint', models.CharField(max_length=1000)),
                ('status', models.CharField(choices=[('checking', 'Checking'), ('ready', 'Ready'), ('failed', 'Failed')], default='checking', max_length=16)),
                ('error', models.TextField(blank=True)),
                ('dimensions', models.PositiveIntegerField(default=0)),
                ('parameters', models.BigIntegerField(default=0)),
                ('ram_bytes', models.BigIntegerField(default=0)),
                ('image_size', models.PositiveIntegerField(default=0)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Photo',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=255)),
                ('file', models.CharField(max_length=500)),
                ('format', models.CharField(max_length=8)),
                ('size_bytes', models.BigIntegerField()),
                ('sha256', models.CharField(max_length=64)),
                ('width', models.PositiveIntegerField()),
                ('height', models.PositiveIntegerField()),
                ('taken_at', models.DateTimeField(blank=True, null=True)),
                ('sort_at', models.DateTimeField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('ready', models.BooleanField(default=False)),
                ('error', models.TextField(blank=True)),
                ('embedded_with', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='assistant.clipmodel')),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='photos', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(fields=['owner', '-sort_at', '-id'], name='photo_gallery_order'), models.Index(fields=['owner', 'ready', 'embedded_with'], name='photo_index_todo')],
                'constraints': [models.UniqueConstraint(fields=('owner', 'sha256'), name='photo_unique_bytes_per_owner')],
            },
        ),
    ]
