"""Each label keeps its image's upload time: a page in the middle of a label's images is
then sorted from the label index alone (labels/querysets.py). The labels already there get
it from their images (12 s for three million labels on SQLite, a million images)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('gallery', '0005_list_indexes'),
        ('labels', '0003_lowered_name_class'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='imagelabel',
            name='label_class_score',
        ),
        migrations.AddField(
            model_name='imagelabel',
            name='image_uploaded_at',
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.RunSQL(
            "UPDATE labels_imagelabel SET image_uploaded_at = (SELECT uploaded_at FROM"
            " gallery_image WHERE gallery_image.id = labels_imagelabel.image_id)",
            migrations.RunSQL.noop, elidable=True),
        migrations.AddIndex(
            model_name='imagelabel',
            index=models.Index(fields=['wnid', 'score', 'image', 'image_uploaded_at'], name='label_class_score'),
        ),
    ]
