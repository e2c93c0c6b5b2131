"""The labels in the library's API: a ``labels`` field on every image and the
``?label=`` filter of the list (gallery/api/extensions.py)."""

from django.db.models import Prefetch
from rest_framework import serializers

from gallery.api import extensions
from labels.models import ImageLabel
from labels.selectors import images_with_label


class ImageLabelSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImageLabel
        fields = ["name", "wnid", "score"]
        read_only_fields = fields


def _labels_field():
    return ImageLabelSerializer(
        many=True, read_only=True,
        help_text="The image's top ImageNet labels, most probable first (empty until its "
                  "vector is labelled).")


def _label_filter():
    return serializers.CharField(
        required=False, max_length=100,
        help_text="Images with this label: an ImageNet class's name (sandal) or a word for the "
                  "classes below it (shoe, footwear), never through a broader sense of the word, "
                  "each label at its class's threshold; case, spaces and underscores alike.")


def register() -> None:
    extensions.image_field_add(extensions.ImageField(
        name="labels", make=_labels_field,
        prefetch=lambda images: images.prefetch_related(
            Prefetch("labels", queryset=ImageLabel.objects.order_by("rank")))))
    extensions.list_filter_add(extensions.ListFilter(
        name="label", make=_label_filter,
        apply=lambda images, text: images_with_label(images, text=text)))
