"""Chat scopes, document passages, photos and voice notes arrived side by side; this joins their migrations."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("assistant", "0007_chat"),
        ("assistant", "0007_documents"),
        ("assistant", "0007_photos"),
        ("assistant", "0007_voice"),
    ]

    operations = []
