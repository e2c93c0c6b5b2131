"""The labels in the library's API: a ``labels`` field on every image and the
``?label=`` filter of the list (gallery/api/extensions.py)."""

from django.db.models import Prefetch
from rest_framework import serializers

from gallery.api import extensions
from labels.models import ImageLabel
from labels.selectors import images_with_label


class RankedLabels(serializers.ListSerializer):
    def get_attribute(self, image):
        # A page of the library has them in a list (the prefetch's to_attr); one image
        # alone reads them.
        ranked = getattr(image, "ranked_labels", None)
        return ranked if ranked is not None else image.labels.all()


class ImageLabelSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImageLabel
        fields = ["name", "wnid", "score"]
        read_only_fields = fields
        list_serializer_class = RankedLabels


def _labels_field():
    return ImageLabelSerializer(
        many=True, read_only=True,
        help_text="The image's top ImageNet labels, most probable first (empty until its "
                  "vector is labelled).")


def _label_filter():
    return serializers.CharField(
        required=False, allow_blank=True, max_length=100,
        help_text="Images with this label: an ImageNet class's name (sandal) or a word for the "
                  "classes below it (shoe, footwear), never through a broader sense of the word, "
                  "each label at its class's threshold; case, spaces and underscores alike; "
                  "empty: any.")


def register() -> None:
    extensions.image_field_add(extensions.ImageField(
        name="labels", make=_labels_field,
        prefetch=lambda images: images.prefetch_related(
            # A list of its own: no queryset made per image of the page.
            Prefetch("labels", queryset=ImageLabel.objects.order_by("rank"),
                     to_attr="ranked_labels"))))
    extensions.list_filter_add(extensions.ListFilter(
        name="label", make=_label_filter,
        apply=lambda images, text: images_with_label(images, text=text)))
