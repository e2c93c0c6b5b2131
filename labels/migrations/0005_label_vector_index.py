"""An index for the feature worker's question "which vectors are still to do?" at a million."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('gallery', '0005_list_indexes'),
        ('labels', '0004_image_uploaded_at'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='imagelabel',
            index=models.Index(fields=['vector_id'], name='label_vector'),
        ),
    ]
