"""The labels in the library's API: a ``labels`` field on every image and the
``?label=`` filter of the list (gallery/api/extensions.py)."""

from rest_framework import serializers

from gallery.api import extensions
from labels.models import ImageLabel
from labels.selectors import images_with_label


class RankedLabels(serializers.ListSerializer):
    def get_attribute(self, image):
        # A page of the library has them in a list (labels_attach); one image alone reads them.
        ranked = getattr(image, "ranked_labels", None)
        return ranked if ranked is not None else image.labels.order_by("rank")


class ImageLabelSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImageLabel
        fields = ["name", "wnid", "score"]
        read_only_fields = fields
        list_serializer_class = RankedLabels

    def to_representation(self, label):
        if isinstance(label, dict):  # read for a page already (labels_attach)
            return label
        return {"name": label.name, "wnid": label.wnid, "score": label.score}


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


def labels_attach(images: list) -> None:
    """Each image's labels as ``ranked_labels``, most probable first, for a whole page in one
    query. Read as plain rows: a page shows hundreds of labels, and making a model object
    of each, then serializing it field by field, cost more than the rest of the page."""
    by_id = {image.pk: image for image in images}
    for image in images:
        image.ranked_labels = []
    rows = (ImageLabel.objects.filter(image_id__in=by_id).order_by("image_id", "rank")
            .values_list("image_id", "name", "wnid", "score"))
    for image_id, name, wnid, score in rows:
        by_id[image_id].ranked_labels.append({"name": name, "wnid": wnid, "score": score})


def register() -> None:
    extensions.image_field_add(extensions.ImageField(
        name="labels", make=_labels_field,
        attach=labels_attach))
    extensions.list_filter_add(extensions.ListFilter(
        name="label", make=_label_filter,
        apply=lambda images, text: images_with_label(images, text=text)))
