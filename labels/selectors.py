"""Reads: an image's labels, and the images a label query finds."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from gallery.models import Image
from labels.models import ImageLabel
from labels.wordnet import MIN_SCORE, label_query


def images_with_label(images: QuerySet[Image], *, text: str) -> QuerySet[Image]:
    """The images among ``images`` with a label that ``text`` names: the class's name, a
    WordNet synonym or a broader term, case, spaces and underscores alike."""
    query = label_query(text)
    names = Q()
    for term in query.terms:
        names |= Q(name__iexact=term)  # classes outside WordNet (another classifier)
    matching = ImageLabel.objects.filter(image=OuterRef("pk"), score__gte=MIN_SCORE)
    return images.filter(Exists(matching.filter(Q(wnid__in=query.wnids) | names)))
