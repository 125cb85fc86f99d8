"""Messages form a tree, so a regenerated answer or an edited message keeps the versions before it.

Every existing conversation was a line: each message's parent becomes the one before it.
"""

from typing import Any

import django.db.models.deletion
from django.apps.registry import Apps
from django.db import migrations, models

BATCH = 500


def link_linear_conversations(apps: Apps, schema_editor: Any) -> None:
    Message = apps.get_model("assistant", "Message")
    ordered = Message.objects.order_by("conversation_id", "created_at", "id").values_list("id", "conversation_id")
    links: list[Any] = []
    previous_id: int | None = None
    previous_conversation: int | None = None
    for message_id, conversation_id in list(ordered):
        parent_id = previous_id if conversation_id == previous_conversation else None
        if parent_id is not None:
            links.append(Message(id=message_id, parent_id=parent_id))
        previous_id, previous_conversation = message_id, conversation_id
    Message.objects.bulk_update(links, ["parent"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("assistant", "0008_merge_domains"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="replies",
                to="assistant.message",
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="chosen",
            field=models.BooleanField(default=True),
        ),
        migrations.RunPython(link_linear_conversations, migrations.RunPython.noop),
    ]
