"""The library of one kind filtered by label, read at a million images without looking up
every image the label finds.

Asked plainly, the database finds the label's images in the label index and then looks up
each image's row, to leave out the trash (the count) and to sort them newest first (a
page): 33k rows for "shoe" at a million images, 60 to 100 ms each time. Here instead:

- the count is the label index's images less those in the trash, which its own small
  index lists (the library of all kinds; the count of originals or uploads alone reads
  the kind of each image as before);
- a page near either end walks the kind's newest-first index (gallery/models.py) from that
  end, keeping the images in the label's set, and stops at the page's end;
- a page in the middle of the whole library's (or of a label too rare for the walk to stop
  early) is sorted from the label index, which keeps each image's upload time; so is a
  page the walk does not find within twice the entries it expected (the label's images
  lying together far from that end). Of originals or uploads alone, such a page is read
  as before (an image's kind can be changed in the admin: the labels do not keep it).

Results are the same either way (tests/labels/test_label_pages.py); only the plan differs.
"""

from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db.models import BigIntegerField, ExpressionWrapper, F, Max, Q, QuerySet
from django.db.models.lookups import In

from gallery.models import Image, ImageQuerySet

# Measured at a million images: the plain plan takes about 2.5 us a found image (its row
# looked up, then sorted), a walk about 0.65 us an entry it expects to read (read and
# probed, 0.36 us, and twice as many stepped over to find where to stop, 0.15 us each).
# A page is walked to when the entries to read are at most this many times the images
# found, where the two cost about the same.
WALK_FACTOR = 4


@dataclass(frozen=True)
class _Filtered:
    images: QuerySet  # the live library of one kind, before the label filter
    kind: str
    label_images: QuerySet  # the matching labels (ImageLabel), one or more an image
    alternatives: tuple  # the same labels, a queryset for each condition of the label query
    where: tuple | None  # the filtered queryset's conditions as SQL, to see them unchanged


class LabelledImageQuerySet(ImageQuerySet):
    """Images of the library with a label, counted and paged by the cheaper plans above
    while they are just that: any other filter, ordering or annotation added later reads
    them the plain way."""

    _filtered: _Filtered | None = None

    @classmethod
    def of(cls, images: QuerySet, found: QuerySet, label_images: QuerySet,
           alternatives: list[QuerySet]):
        """``found`` (``images`` with the label) read by the plans above when ``images`` is
        the live library of one kind; else ``found`` itself. ``alternatives``: the labels
        of ``label_images`` by each of its conditions (ORed, they are ``label_images``)."""
        kind = _library_kind(images)
        if kind is None:
            return found
        labelled = found._clone()
        labelled.__class__ = cls  # the same queryset (prefetches and all) with these reads
        labelled._filtered = _Filtered(images, kind, label_images, tuple(alternatives),
                                       _where(found))
        return labelled

    def _clone(self):
        clone = super()._clone()
        clone._filtered = self._filtered
        return clone

    def _unchanged(self) -> bool:
        return (self._filtered is not None and self._filtered.where is not None and _plain(self)
                and _where(self) == self._filtered.where)

    def count(self) -> int:
        if (self._result_cache is not None or self.query.is_sliced or not self._unchanged()
                or self._filtered.kind != Image.Kind.ALL):
            return super().count()
        # Every labelled image is in the library (its labels go with it), so the live ones
        # are those not in the trash.
        return self._live_labelled().count()

    def page_keys(self, *, count: int) -> list[int]:
        """This slice's image ids in order, ``count`` being the unsliced queryset's count
        (core/pagination.py reads a page's keys through this when a queryset has it)."""
        low, high = self.query.low_mark, self.query.high_mark
        keys = None
        if self._unchanged() and high is not None and count:
            # The library's size from its highest id (never fewer than its images): a walk
            # reads about that many entries over ``count`` for each image it keeps.
            issued = Image.all_objects.aggregate(highest=Max("pk"))["highest"] or 0
            from_newest = -(-high * issued // count)
            from_oldest = -(-(count - low) * issued // count)
            if from_newest <= WALK_FACTOR * count:
                keys = self._walk(low, high, entries=from_newest, newest_first=True)
            elif from_oldest <= WALK_FACTOR * count:
                keys = self._walk(max(0, count - high), count - low, entries=from_oldest,
                                  newest_first=False)
                keys = keys[::-1] if keys is not None else None
            if keys is None and self._filtered.kind == Image.Kind.ALL:
                keys = self._sorted_labels(low, high)
        return keys if keys is not None else list(self.values_list("pk", flat=True))

    def _sorted_labels(self, low: int, high: int) -> list[int]:
        """Images ``low`` to ``high`` of the label's, sorted by the upload time each label
        keeps of its image: the label index read and sorted, the trash (its own small
        index) left out, no image looked up."""
        rows = self._live_labelled().order_by("-image_uploaded_at", "-image_id")[low:high]
        return [image_id for image_id, _ in rows]

    def _live_labelled(self) -> QuerySet:
        """(image id, upload time) of each image not in the trash with a label the query
        names."""
        trashed = Image.all_objects.trashed().values("pk")
        return self._labelled("image_id", "image_uploaded_at", exclude=Q(image_id__in=trashed))

    def _labelled(self, *fields: str, exclude: Q | None = None) -> QuerySet:
        """``fields`` of the labels the query names, each condition's read from its index
        alone and the rows made distinct (ORed in one query, SQLite would look every label
        found up in the table)."""
        first, *others = [(labels.exclude(exclude) if exclude else labels).order_by()
                          .values_list(*fields).distinct()
                          for labels in self._filtered.alternatives]
        return first.union(*others)

    def _walk(self, low: int, high: int, *, entries: int, newest_first: bool) -> list | None:
        """Images ``low`` to ``high`` of the label's, walking the kind's index from one end
        and reading at most twice the ``entries`` expected; None if they were not all there
        (the label's images lie elsewhere, a batch of them long ago, say)."""
        images = self._filtered.images if newest_first else self._filtered.images.reverse()
        # The upload time (the index's first column) of the entry where the walk stops.
        edge = list(images.values_list("uploaded_at", flat=True)[2 * entries:2 * entries + 1])
        if edge:
            images = images.filter(**{"uploaded_at__gte" if newest_first else "uploaded_at__lte":
                                      edge[0]})
        # "+ 0": the label's set becomes a check on each walked entry, not an index to look
        # each found image up by (the plain plan).
        keys = list(images.filter(In(
            ExpressionWrapper(F("pk") + 0, output_field=BigIntegerField()),
            self._labelled("image_id"),
        )).values_list("pk", flat=True)[low:high])
        return keys if len(keys) == high - low else None


def _plain(images: QuerySet) -> bool:
    """Ordered newest first as the model says, nothing annotated, distinct or extra."""
    query = images.query
    return (not query.order_by and query.default_ordering and query.standard_ordering
            and not query.annotations and not query.distinct and not query.extra
            and not query.combinator)


def _where(images: QuerySet) -> tuple | None:
    query = images.query
    try:
        sql, params = query.get_compiler(images.db).compile(query.where)
    except (EmptyResultSet, FullResultSet):
        return None
    return sql, tuple(params)


def _library_kind(images: QuerySet) -> str | None:
    """The kind when ``images`` is the live library of that kind and nothing else."""
    if (not isinstance(images, ImageQuerySet) or images._fields is not None
            or images.query.is_sliced or not _plain(images)):
        return None
    where = _where(images)
    for kind in Image.Kind:
        if where is not None and where == _where(Image.objects.of_kind(kind)):
            return kind
    return None
