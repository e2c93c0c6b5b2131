"""Reads: an image's labels, and the images a label query finds."""

import operator
from functools import reduce

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from gallery.models import Image
from labels.models import ImageLabel
from labels.querysets import LabelledImageQuerySet
from labels.thresholds import MIN_SCORE, class_thresholds
from labels.wordnet import label_query


def images_with_label(images: QuerySet[Image], *, text: str) -> QuerySet[Image]:
    """The images among ``images`` with a label that ``text`` names (its class names, then
    the classes below it: labels/wordnet.py), case, spaces and underscores alike, each at
    its class's threshold or above (labels/thresholds.py)."""
    query = label_query(text)
    thresholds = class_thresholds()
    plain = [wnid for wnid in query.wnids if wnid not in thresholds]
    alternatives = [Q(wnid__in=plain, score__gte=MIN_SCORE)]
    for wnid in sorted(query.wnids - set(plain)):
        alternatives.append(Q(wnid=wnid, score__gte=thresholds[wnid]))
    for term in query.terms:  # classes outside WordNet (another classifier), by name
        alternatives.append(Q(lowered_name=term, score__gte=MIN_SCORE) & ~Q(wnid__in=query.wnids))
    # "Among these labelled images" rather than "has such a label" (EXISTS): the database
    # reads the classes' labels once, each alternative from an index (labels/models.py),
    # instead of probing the labels of every image of the library in turn (seconds at a
    # million).
    labelled = ImageLabel.objects.alias(lowered_name=Lower("name"))
    labels = labelled.filter(reduce(operator.or_, alternatives))
    # Counted and paged without looking each found image up, where that is cheaper
    # (labels/querysets.py), each alternative read on its own.
    return LabelledImageQuerySet.of(images, images.filter(pk__in=labels.values("image_id")),
                                    labels, [labelled.filter(one) for one in alternatives])

