"""CSRF, rate limits, security headers and the deployment check."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.helpers import library_image, make_image_bytes

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def upload(name="q.jpg"):
    file = io.BytesIO(make_image_bytes())
    file.name = name
    return file


def test_a_session_change_without_the_csrf_token_is_refused(admin):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(admin)

    refused = client.post("/api/v1/images/", {"file": upload()}, format="multipart")
    client.get("/")  # the page sets the token cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post("/api/v1/images/", {"file": upload()}, format="multipart",
                           HTTP_X_CSRFTOKEN=token)

    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert "CSRF" in refused.json()["detail"]
    assert accepted.status_code == 201


def test_sign_in_needs_the_csrf_token():
    client = Client(enforce_csrf_checks=True)

    assert client.post("/accounts/sign-in/", {"username": "a", "password": "b"}).status_code \
        == 403


def rates(settings, **rates):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {
                                   **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates}}


def test_search_by_upload_past_its_rate_answers_429_with_retry_after(api_client, settings):
    rates(settings, search_upload="2/min")
    library_image((200, 30, 30))

    answers = [api_client.post("/api/v1/search/", {"file": upload()}, format="multipart")
               for _ in range(3)]
    by_image = api_client.post("/api/v1/search/", {"image_id": 1}, format="json")

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert 0 < int(answers[2]["Retry-After"]) <= 60
    assert answers[2].json() == {
        "detail": f"Too many requests of this kind: try again in {answers[2]['Retry-After']} "
                  "seconds.", "code": "throttled"}
    assert by_image.status_code != 429  # searching by a library image is not counted


def test_a_region_of_a_library_image_counts_as_a_model_run(api_client, settings):
    rates(settings, search_upload="2/min")
    image = library_image((200, 30, 30), name="big.png")
    region = {"image_id": image.pk, "x": 0, "y": 0, "width": 1, "height": 1}

    answers = [api_client.post("/api/v1/search/", region, format="json") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Retry-After" in answers[2]


def test_each_of_several_uploaded_files_counts_as_a_model_run(api_client, settings):
    rates(settings, search_upload="10/min")
    library_image((200, 30, 30))

    ten = api_client.post("/api/v1/search/", {"files": [upload(f"{n}.jpg") for n in range(10)]},
                          format="multipart")
    one_more = api_client.post("/api/v1/search/", {"file": upload()}, format="multipart")

    assert (ten.status_code, one_more.status_code) == (200, 429)
    assert 0 < int(one_more["Retry-After"]) <= 60


def test_searching_by_library_images_alone_is_not_counted(api_client, settings):
    rates(settings, search_upload="1/min")
    first, second = library_image((200, 30, 30)), library_image((30, 200, 30))

    answers = [api_client.post("/api/v1/search/", {"image_id": first.pk}, format="json"),
               api_client.post("/api/v1/search/", {"image_ids": [first.pk, second.pk]},
                               format="json"),
               api_client.post("/api/v1/search/", {"file": upload()}, format="multipart")]

    assert [a.status_code for a in answers] == [200, 200, 200]


def anonymous_searches(settings, forwarded_for: list[str]) -> list[int]:
    settings.ANONYMOUS_ACCESS = "read"
    rates(settings, search_upload="1/min")
    library_image((200, 30, 30))
    return [APIClient().post("/api/v1/search/", {"file": upload()}, format="multipart",
                             REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=address).status_code
            for address in forwarded_for]


def test_x_forwarded_for_does_not_pick_an_anonymous_clients_rate_bucket(settings):
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0

    assert anonymous_searches(settings, ["10.0.0.1", "10.0.0.2"]) == [200, 429]


def test_behind_a_trusted_proxy_its_forwarded_address_is_the_bucket(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    assert anonymous_searches(settings, ["10.0.0.1", "10.0.0.2", "6.6.6.6, 10.0.0.2"]) \
        == [200, 200, 429]


def trusted_proxies(**env) -> str:
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DJANGO_SETTINGS_MODULE", "HTTPS", "TRUSTED_PROXIES")}
    environment.update({"DJANGO_SETTINGS_MODULE": "imagesim.settings", "SECRET_KEY": "proxies-test-" + "0123456789" * 5,
                        **env})
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; "
         "print(settings.REST_FRAMEWORK['NUM_PROXIES'], settings.TRUSTED_PROXIES)"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)
    return (result.stdout + result.stderr).strip().splitlines()[-1]


def test_the_number_of_trusted_proxies_comes_from_the_deployment():
    assert trusted_proxies() == "0 0"
    assert trusted_proxies(HTTPS="true") == "1 1"
    assert trusted_proxies(HTTPS="true", TRUSTED_PROXIES="2") == "2 2"
    assert trusted_proxies(TRUSTED_PROXIES="-1").endswith("TRUSTED_PROXIES must be 0 or more")


def test_a_search_is_served_when_the_rate_limit_cache_is_away(api_client, monkeypatch):
    from accounts.throttles import PostRate

    class Away:
        def get(self, *args, **kwargs):
            raise OSError("Connection refused")

    monkeypatch.setattr(PostRate, "cache", Away())
    library_image((200, 30, 30))

    response = api_client.post("/api/v1/search/", {"file": upload()}, format="multipart")

    assert response.status_code == 200


def test_uploads_past_their_rate_answer_429(api_client, settings):
    rates(settings, uploads="1/min")

    first = api_client.post("/api/v1/images/", {"file": upload("a.jpg")}, format="multipart")
    second = api_client.post("/api/upload-image", {"file": upload("b.jpg")}, format="multipart")
    listing = api_client.get("/api/v1/images/")

    assert (first.status_code, second.status_code, listing.status_code) == (201, 429, 200)
    assert "Retry-After" in second
    assert second.json()["success"] is False  # the original app's shape


def test_key_creation_past_its_rate_answers_429(api_client, settings):
    rates(settings, key_create="1/hour")

    first = api_client.post("/api/v1/keys/", {"name": "a"}, format="json")
    second = api_client.post("/api/v1/keys/", {"name": "b"}, format="json")

    assert (first.status_code, second.status_code) == (201, 429)


def test_rates_are_per_user(make_user, settings):
    rates(settings, key_create="1/hour")
    clients = []
    for name in ("a", "b"):
        client = APIClient()
        client.force_login(make_user("editor", username=name))
        clients.append(client)

    answers = [client.post("/api/v1/keys/", {"name": "k"}, format="json") for client in clients]

    assert [a.status_code for a in answers] == [201, 201]


def test_the_page_is_served_with_the_security_headers(client):
    response = client.get("/")

    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_page_has_no_inline_script(client):
    page = client.get("/").content.decode()

    assert "<script>" not in page and " on" + "click=" not in page
    assert all('src="' in tag for tag in page.split("<script")[1:])


def deploy_check(**env) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DJANGO_SETTINGS_MODULE", "DEBUG")}
    environment.update({"DJANGO_SETTINGS_MODULE": "imagesim.settings",
                        "SECRET_KEY": "k7#Qz!" + "w9@Lm2$xR4%vB8^nT6&yH3*pJ5(cF1)gD0" * 2,
                        "ALLOWED_HOSTS": "images.example.org", **env})
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level",
                           "WARNING"], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=120)


def test_check_deploy_is_clean_with_https_on():
    result = deploy_check(HTTPS="true")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_names_what_is_missing_without_https():
    result = deploy_check(HTTPS="false")

    assert result.returncode != 0
    assert "security.W004" in result.stderr  # no HSTS
    assert "security.W012" in result.stderr  # session cookie not secure
