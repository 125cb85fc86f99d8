"""Message versions, speech models and sampling settings arrived side by side; this joins their migrations."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("assistant", "0009_models_speech"),
        ("assistant", "0009_sampling_settings"),
        ("assistant", "0009_versions_message_tree"),
    ]

    operations = []
