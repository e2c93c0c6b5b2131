"""The OpenAPI schema and its documentation page."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_schema_describes_the_library_endpoints(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/images/", "/api/v1/images/{id}/", "/api/v1/images/bulk-delete/",
            "/api/images", "/api/upload-image", "/api/delete-image/{filename}"} <= set(paths)


def test_the_schema_describes_the_trash_endpoints(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    paths = response.json()["paths"]
    assert set(paths["/api/v1/trash/"]) == {"get"}
    assert set(paths["/api/v1/trash/{id}/"]) == {"delete"}
    assert set(paths["/api/v1/trash/{id}/restore/"]) == {"post"}
    assert set(paths["/api/v1/trash/empty/"]) == {"post"}
    trashed = response.json()["components"]["schemas"]["TrashedImage"]["properties"]
    assert {"trashed_at", "trashed_by", "purge_at"} <= set(trashed)


def test_the_schema_describes_the_feature_and_search_endpoints(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    paths = response.json()["paths"]
    assert {"/api/v1/features/jobs/", "/api/v1/features/status/", "/api/v1/search/",
            "/api/generate-features", "/api/check-features", "/api/search"} <= set(paths)


def test_the_documentation_page_is_served_without_a_cdn(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert "swagger-ui" in response.text
    assert "cdn" not in response.text.lower()
