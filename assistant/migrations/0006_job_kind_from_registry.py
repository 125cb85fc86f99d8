"""Job kinds come from assistant.jobs.registry: the column keeps its values and loses its choices."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("assistant", "0005_passage_keyword_index")]

    operations = [
        migrations.AlterField(model_name="job", name="kind", field=models.CharField(max_length=32)),
    ]
