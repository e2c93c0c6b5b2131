"""Features in the admin: the "has features" filter, the "Generate features" action, the
read-only vectors, jobs and failures."""

import pytest
from django.urls import reverse

from features.extractors.loader import get_extractor
from features.extractors.resnet50 import ResNet50Extractor
from features.jobs import services
from features.models import FeatureJob, FeatureTask, FeatureVector
from gallery.models import Image
from tests.helpers import replace_stored

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]
CHANGELIST = reverse("admin:gallery_image_changelist")


def extract_all(make_worker):
    services.job_start(extractor=get_extractor())
    make_worker().run_until_idle()


def test_it_filters_images_by_whether_they_have_features(admin_client, add_image, make_worker):
    add_image("done.jpg")
    extract_all(make_worker)
    add_image("waiting.jpg")

    with_features = admin_client.get(CHANGELIST, {"has_features": "yes"})
    without = admin_client.get(CHANGELIST, {"has_features": "no"})

    assert with_features.status_code == 200
    assert "done.jpg" in with_features.text and "waiting.jpg" not in with_features.text
    assert "waiting.jpg" in without.text and "done.jpg" not in without.text


def test_the_generate_action_queues_the_selected_images(admin_client, add_image):
    first, second, _other = add_image("a.jpg"), add_image("b.jpg"), add_image("c.jpg")

    response = admin_client.post(CHANGELIST, {"action": "generate_features",
                                              "_selected_action": [first.pk, second.pk]},
                                 follow=True)

    job = FeatureJob.objects.get()
    assert f"Feature job {job.pk} queued: 2 images." in response.text
    assert sorted(FeatureTask.objects.values_list("image_id", flat=True)) == sorted(
        [first.pk, second.pk])


def test_the_generate_action_says_when_nothing_needs_doing(admin_client, add_image, make_worker):
    image = add_image()
    extract_all(make_worker)

    response = admin_client.post(CHANGELIST, {"action": "generate_features",
                                              "_selected_action": [image.pk]}, follow=True)

    assert "The selected images already have features." in response.text


def test_the_generate_action_without_weights_says_how_to_provide_them(admin_client, add_image,
                                                                      monkeypatch, tmp_path):
    image = add_image()
    missing = ResNet50Extractor(weights=str(tmp_path / "none.h5"), precision="float32")
    monkeypatch.setattr("features.admin.get_extractor", lambda: missing)

    response = admin_client.post(CHANGELIST, {"action": "generate_features",
                                              "_selected_action": [image.pk]}, follow=True)

    assert "The model weights are not available" in response.text
    assert str(tmp_path) not in response.text  # the path is in the server's log
    assert not FeatureTask.objects.exists()


def test_the_library_admin_keeps_its_own_filters_and_actions(admin_client, add_image):
    add_image("kept.jpg", is_original=True)

    response = admin_client.get(CHANGELIST, {"is_original__exact": "1"})

    assert "kept.jpg" in response.text
    assert 'value="delete_uploads"' in response.text
    assert 'value="generate_features"' in response.text


def test_vectors_jobs_and_failures_are_shown_read_only(admin_client, add_image, make_worker,
                                                       media_root):
    broken = add_image("broken.jpg")
    replace_stored(broken.file.name, b"nope")
    add_image("fine.jpg")
    extract_all(make_worker)
    job = FeatureJob.objects.get()

    pages = {name: admin_client.get(reverse(f"admin:features_{name}_changelist"))
             for name in ("featurevector", "featurejob", "featurefailure")}
    job_page = admin_client.get(reverse("admin:features_featurejob_change", args=[job.pk]))
    add_page = admin_client.get(reverse("admin:features_featurejob_add"))
    vector_page = admin_client.get(reverse("admin:features_featurevector_change",
                                           args=[FeatureVector.objects.get().pk]))

    assert {name: page.status_code for name, page in pages.items()} == {
        "featurevector": 200, "featurejob": 200, "featurefailure": 200}
    assert "fine.jpg" in pages["featurevector"].text
    assert "The file is not an image ImageSim can read." in pages["featurefailure"].text
    assert job_page.status_code == 200 and "broken.jpg" in job_page.text
    assert 'name="_save"' not in job_page.text
    assert add_page.status_code == 403
    assert vector_page.status_code == 200 and "fine.jpg" in vector_page.text
    assert Image.objects.count() == 2
