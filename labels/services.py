"""Writes: every image's top labels kept in step with its vector of the serving extractor.

The work is found in the database: vectors of the serving extractor whose image has no
label made from that very vector by the current classifier (new vectors, a vector made
again, a switched extractor, another classifier); deleted images take their labels with
them (the rows cascade). Once a pass found none, later passes look only among the
vectors the change log names since (a Frontier), until the extractor or classifier
changes. A pass labels up to BATCH images in one
transaction. It is the "labels" stage of the feature worker (features/jobs/stages.py): passes
run after batches it saves (within the stages' share of its time) and whenever it is idle
(until none is left), so an existing library is labelled in the background too.
"""

import logging

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from features.models import FeatureVector
from features.serving import serving_row
from features.jobs.stages import Frontier, StagePass, vector_log_latest, vector_newest
from gallery.models import Image
from labels.head import FEATURE_SCALE, Head, class_probabilities, top_classes
from labels.loader import get_head
from labels.models import ImageLabel

logger = logging.getLogger(__name__)

BATCH = 256
# (extractor, classifier) pairs already warned about not fitting each other.
_warned: set[tuple[str, str]] = set()
# Per (serving extractor, classifier): past it, only vectors the change log names can
# be waiting (a look at every vector took a second at a million, after every batch).
_frontier = Frontier()


def labels_state(extractor: str) -> tuple:
    """Changes whenever a pass may find work: the serving extractor, the classifier, and
    the vector change log's newest entry. (The worker's ``extractor`` does not matter:
    labels follow the serving one.)"""
    head = get_head()
    if head is None:
        return ("no classifier",)
    fingerprint = serving_row().fingerprint
    return fingerprint, head.identity, vector_log_latest(fingerprint)


def labels_pass(work: StagePass) -> int:
    """One pass for the serving extractor; once none is left, stale labels are pruned."""
    head = get_head()
    if head is None:
        return 0
    serving = serving_row()
    written = _frontier.written(serving.fingerprint, key=(serving.fingerprint, head.identity))
    done = _label_batch(head=head, extractor=serving.fingerprint, preset=serving.preset,
                        among=written.ids)
    if done == 0:
        labels_prune(extractor=serving.fingerprint, head=head, among=written.ids)
        written.caught_up()
    return done


def labels_warm(extractor: str) -> None:
    """Look once at every vector and label ahead of the first pass after a start
    (features.jobs.stages.stages_warm): with none waiting and none stale, passes look only
    among the vectors the log names from here."""
    if connection.vendor != "sqlite":
        return  # passes look at every vector there (Frontier)
    head = get_head()
    if head is None:
        return
    serving = serving_row().fingerprint
    written = _frontier.written(serving, key=(serving, head.identity))
    if (written.ids is None
            and not _waiting(head=head, extractor=serving).filter(
                id__lte=vector_newest(serving)).exists()
            and not _stale(extractor=serving, head=head).exists()):
        written.caught_up()


def labels_forget(sender, image_ids, **kwargs) -> None:
    """Remove the labels of images moved to the trash (gallery's images_trashing)."""
    ImageLabel.objects.filter(image_id__in=image_ids).delete()


def labels_prune(*, extractor: str, head: Head, among=None) -> int:
    """Remove labels not made from a vector of ``extractor`` by ``head``: once every image
    with such a vector is labelled, those are of images without one (its extraction
    failed, or the classifier does not fit the vectors). ``among``: only labels made from
    these vector ids (a query) can be stale, as the rest were checked with this extractor
    and classifier before."""
    return _stale(extractor=extractor, head=head, among=among).delete()[0]


def _stale(*, extractor: str, head: Head, among=None):
    vector = FeatureVector.objects.filter(pk=OuterRef("vector_id"), extractor=extractor)
    if among is not None:
        return ImageLabel.objects.filter(vector_id__in=among).filter(~Exists(vector))
    return ImageLabel.objects.exclude(head=head.identity) | \
        ImageLabel.objects.filter(~Exists(vector))


def _waiting(*, head: Head, extractor: str, among=None):
    """The extractor's vectors (of the ids ``among``, a query, if given) whose image has no
    label made from them by ``head``."""
    current = ImageLabel.objects.filter(vector_id=OuterRef("id"), rank=0, head=head.identity)
    candidates = FeatureVector.objects.filter(extractor=extractor)
    if among is not None:
        candidates = candidates.filter(id__in=among)
    return candidates.filter(~Exists(current))


def _label_batch(*, head: Head, extractor: str, preset: str, among=None) -> int:
    """Label up to BATCH images whose labels are missing or stale (of the vector ids
    ``among``, a query, if given); return how many."""
    # A label made from the vector is its image's (labels go with the vector that made
    # them), so the vectors are read from their extractor's index alone, each probed in
    # the labels' own (not every vector's row: 9 s at a million), and only those found
    # read whole.
    waiting = list(_waiting(head=head, extractor=extractor, among=among).order_by("id")
                   .values_list("id", flat=True)[:BATCH])
    rows = list(FeatureVector.objects.filter(extractor=extractor, id__in=waiting).order_by("id")
                .values_list("id", "image_id", "vector"))
    if not rows:
        return 0
    vectors = np.stack([vector for _, _, vector in rows])
    if vectors.shape[1] != head.dim:
        if (extractor, head.identity) not in _warned:
            _warned.add((extractor, head.identity))
            logger.warning("No image labels: the classifier takes %d-d vectors, the serving "
                           "extractor %s makes %d-d ones", head.dim, extractor, vectors.shape[1])
        return 0
    # The head wants un-normalised features; see FEATURE_SCALE for why this length.
    probabilities = class_probabilities(head, vectors, scale=FEATURE_SCALE.get(preset, 1.0))
    classes, scores = top_classes(probabilities, settings.LABEL_TOP_K)
    image_ids = [image_id for _, image_id, _ in rows]
    with transaction.atomic():
        uploaded = dict(Image.objects.filter(pk__in=image_ids).values_list("pk", "uploaded_at"))
        ImageLabel.objects.filter(image_id__in=image_ids).delete()
        ImageLabel.objects.bulk_create([
            ImageLabel(image_id=image_id, rank=rank, wnid=head.wnids[number],
                       name=head.names[number][:100], score=float(score),
                       vector_id=vector_id, extractor=extractor, head=head.identity,
                       image_uploaded_at=uploaded[image_id])
            for (vector_id, image_id, _), found, found_scores in zip(rows, classes.tolist(), scores)
            if image_id in uploaded
            for rank, (number, score) in enumerate(zip(found, found_scores))
        ])
    return len(rows)
