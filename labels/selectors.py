"""Reads: an image's labels, and the images a label query finds."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from gallery.models import Image
from labels.models import ImageLabel
from labels.wordnet import label_query

# The filter matches a stored label (one of an image's top 5) only if the classifier gave
# it at least this probability: the 4th and 5th labels of a photo are often long shots
# (a pair of jeans' "cowboy boot" at 1%). On the dev set (bench/labels.py) "footwear"
# finds the 30 shoe photos with precision 0.46 from any of the top 5 and 0.94 from those
# at 5% or more, recall 1.00 both ways.
MIN_SCORE = 0.05


def images_with_label(images: QuerySet[Image], *, text: str) -> QuerySet[Image]:
    """The images among ``images`` with a label that ``text`` names: the class's name, a
    WordNet synonym or a broader term, case, spaces and underscores alike."""
    query = label_query(text)
    names = Q()
    for term in query.terms:
        names |= Q(name__iexact=term)  # classes outside WordNet (another classifier)
    matching = ImageLabel.objects.filter(image=OuterRef("pk"), score__gte=MIN_SCORE)
    return images.filter(Exists(matching.filter(Q(wnid__in=query.wnids) | names)))
