"""Curating the library in the Django admin."""

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts import rules
from gallery.admin import extensions
from gallery.models import Image
from tests.helpers import stored_files

pytestmark = pytest.mark.django_db(transaction=True)
CHANGELIST = reverse("admin:gallery_image_changelist")


@pytest.fixture
def staff_client(client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("curator", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=[
        "view_image", "change_image", "delete_image"]))
    client.force_login(user)
    return client


@pytest.fixture
def later_stage(monkeypatch):
    """A later stage, made up, that adds to the image admin what the features and labels
    apps add: a column (also on the image's page), a filter, a search field and an action
    offered to those who may generate features."""
    for name in ("columns", "list_filters", "actions"):
        monkeypatch.setattr(extensions, name, dict(getattr(extensions, name)))
    monkeypatch.setattr(extensions, "search_fields", list(extensions.search_fields))

    @admin.display(description="Shouted name")
    def shouted(image):
        return image.name.upper()

    class PngFilter(admin.SimpleListFilter):
        title, parameter_name = "is a PNG", "png"

        def lookups(self, request, model_admin):
            return [("yes", "Yes")]

        def queryset(self, request, queryset):
            return queryset.filter(format="PNG") if self.value() == "yes" else queryset

    @admin.action(description="Count the selected images")
    def count_images(modeladmin, request, queryset):
        modeladmin.message_user(request, f"Counted {queryset.count()} images.")

    extensions.column_add(extensions.Column(shouted))
    extensions.list_filter_add(PngFilter)
    extensions.search_field_add("format")
    extensions.action_add(extensions.Action(count_images, allowed=rules.can_generate))


def test_a_later_stage_adds_a_column_a_filter_and_a_search_field(admin_client, add_image,
                                                                later_stage):
    jpeg = add_image("beach.jpg")
    add_image("hat.png", fmt="PNG")

    listed = admin_client.get(CHANGELIST)
    pngs = admin_client.get(CHANGELIST, {"png": "yes"})
    found = admin_client.get(CHANGELIST, {"q": "jpeg"})  # in no name, only in a format
    page = admin_client.get(reverse("admin:gallery_image_change", args=[jpeg.pk]))

    assert "Shouted name" in listed.text and "BEACH.JPG" in listed.text
    assert "hat.png" in pngs.text and "beach.jpg" not in pngs.text
    assert "beach.jpg" in found.text and "hat.png" not in found.text
    assert "Shouted name" in page.text and "BEACH.JPG" in page.text


def test_a_later_stage_action_is_offered_only_to_whom_its_rule_allows(admin_client, staff_client,
                                                                     add_image, later_stage):
    images = [add_image("a.jpg"), add_image("b.jpg")]

    offered = admin_client.get(CHANGELIST)
    not_offered = staff_client.get(CHANGELIST)
    done = admin_client.post(CHANGELIST, {"action": "count_images",
                                          "_selected_action": [image.pk for image in images]},
                             follow=True)

    assert 'value="count_images"' in offered.text
    assert 'value="count_images"' not in not_offered.text
    assert "Counted 2 images." in done.text


def test_it_lists_images_with_thumbnail_previews(admin_client, add_image):
    image = add_image("beach.jpg")

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert f'src="/images/thumb/{image.filename}"' in response.text
    assert "beach.jpg" in response.text


def test_it_filters_by_original_and_searches_by_name(admin_client, add_image):
    add_image("beach.jpg")
    add_image("shipped hat.jpg", is_original=True)

    originals = admin_client.get(CHANGELIST, {"is_original__exact": "1"})
    found = admin_client.get(CHANGELIST, {"q": "beach"})

    assert "shipped hat.jpg" in originals.text and "beach.jpg" not in originals.text
    assert "beach.jpg" in found.text and "shipped hat.jpg" not in found.text


def test_bulk_delete_skips_originals_and_says_so(admin_client, add_image, media_root):
    uploads = [add_image("a.jpg"), add_image("b.jpg")]
    original = add_image("shipped.jpg", is_original=True)

    response = admin_client.post(CHANGELIST, {
        "action": "delete_uploads",
        "_selected_action": [image.pk for image in [*uploads, original]],
    }, follow=True)

    assert list(Image.objects.all()) == [original]
    assert len(stored_files()) == 2
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["Deleted 2 images.",
                        "Skipped 1 original image: originals are protected."]


def test_the_plain_delete_action_is_not_offered(admin_client, add_image):
    add_image("a.jpg")

    response = admin_client.get(CHANGELIST)

    assert 'value="delete_selected"' not in response.text
    assert 'value="delete_uploads"' in response.text


def test_an_original_cannot_be_deleted_from_its_page(admin_client, add_image):
    original = add_image("shipped.jpg", is_original=True)

    response = admin_client.post(reverse("admin:gallery_image_delete", args=[original.pk]),
                                 {"post": "yes"})

    assert response.status_code == 403
    assert Image.objects.count() == 1


def test_deleting_an_upload_from_its_page_removes_its_files(admin_client, add_image, media_root):
    image = add_image("a.jpg")

    admin_client.post(reverse("admin:gallery_image_delete", args=[image.pk]), {"post": "yes"})

    assert Image.objects.count() == 0
    assert stored_files() == []


def test_only_a_superuser_can_change_is_original(admin_client, staff_client, add_image):
    image = add_image("a.jpg")
    url = reverse("admin:gallery_image_change", args=[image.pk])

    staff_client.post(url, {"name": "renamed.jpg", "is_original": "on"})
    image.refresh_from_db()
    assert (image.name, image.is_original) == ("renamed.jpg", False)

    admin_client.post(url, {"name": "renamed.jpg", "is_original": "on"})
    image.refresh_from_db()
    assert image.is_original is True


def test_images_cannot_be_added_around_the_upload_checks(admin_client):
    response = admin_client.get(reverse("admin:gallery_image_add"))

    assert response.status_code == 403


def test_staff_without_delete_any_cannot_delete_others_uploads_from_the_page(
        staff_client, add_image):
    image = add_image("someone-elses.jpg")

    response = staff_client.post(reverse("admin:gallery_image_delete", args=[image.pk]),
                                 {"post": "yes"})

    assert response.status_code == 403
    assert Image.objects.count() == 1


def test_the_bulk_delete_skips_others_uploads_for_staff_without_delete_any(
        staff_client, add_image, django_user_model):
    from gallery.services import image_create
    from tests.helpers import make_image_bytes

    curator = django_user_model.objects.get(username="curator")
    mine = image_create(name="mine.jpg", data=make_image_bytes(color=(1, 2, 3)),
                        uploaded_by=curator).image
    theirs = add_image("theirs.jpg")

    response = staff_client.post(CHANGELIST, {
        "action": "delete_uploads", "_selected_action": [mine.pk, theirs.pk]}, follow=True)

    assert list(Image.objects.all()) == [theirs]
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["Deleted 1 image.",
                        "Skipped 1 upload of someone else: you can delete only your own."]
