"""GET /: the web page, wired to the three apps' APIs through data- attributes."""

import json

import pytest
from django.test import Client, RequestFactory

from core.views import csrf_failure

pytestmark = pytest.mark.django_db


def test_it_serves_the_page_with_every_api_it_uses(client):
    response = client.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    for attribute in ['data-images-url="/api/v1/images/"',
                      'data-bulk-delete-url="/api/v1/images/bulk-delete/"',
                      'data-image-detail-url="/api/v1/images/0/"',
                      'data-features-jobs-url="/api/v1/features/jobs/"',
                      'data-features-status-url="/api/v1/features/status/"',
                      'data-features-ws-path="/ws/features/"',
                      'data-search-url="/api/v1/search/"']:
        assert attribute in page


@pytest.mark.parametrize("role, has_trash", [("viewer", False), ("editor", True), ("admin", True)])
def test_the_trash_is_offered_to_those_who_may_delete(make_user, settings, role, has_trash):
    settings.TRASH_DAYS = 7
    visitor = Client()
    visitor.force_login(make_user(role))

    page = visitor.get("/").content.decode()

    assert ("data-trash-open" in page) is has_trash
    assert ('id="trash"' in page) is has_trash
    if has_trash:
        assert 'data-trash-url="/api/v1/trash/" data-trash-days="7"' in " ".join(page.split())
        assert "Deleted uploads stay here 7 days" in page
        assert ("You see everyone's." in page) is (role == "admin")


def test_it_shows_the_configured_upload_limit(client, settings):
    settings.IMAGESIM_MAX_UPLOAD_BYTES = int(2.5 * 1024 * 1024)

    page = client.get("/").content.decode()

    assert "up to 2.5 MB each" in page


def test_it_only_reads(client):
    response = client.post("/")

    assert response.status_code == 405


def test_the_label_box_says_that_labels_are_imagenet_classes(client):
    page = client.get("/").content.decode()

    assert 'aria-describedby="gallery-label-hint"' in page
    assert "Labels are ImageNet's 1000 classes" in page


def test_favicon_ico_leads_anyone_to_the_svg_icon():
    anonymous = Client()

    response = anonymous.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"].startswith("/static/web/favicon")
    assert response["Location"].endswith(".svg")


def test_a_form_sent_with_an_out_of_date_token_gets_a_page_without_inline_style(admin):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin)

    response = browser.post("/admin/gallery/image/", {"action": "delete_uploads"})

    assert response.status_code == 403
    page = response.content.decode()
    assert "The form has expired" in page
    assert "<style" not in page and "style=" not in page


def test_an_api_call_refused_for_its_csrf_token_answers_json():
    request = RequestFactory().post("/api/v1/images/")

    response = csrf_failure(request)

    assert response.status_code == 403
    assert json.loads(response.content)["code"] == "csrf_failed"
