"""An index for the feature worker's question "which vectors are still to do?" at a million."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('features', '0006_half_precision'),
        ('gallery', '0005_list_indexes'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='featurevector',
            index=models.Index(condition=models.Q(('augmented__isnull', True)), fields=['extractor', 'id'], name='vector_unaugmented'),
        ),
    ]
