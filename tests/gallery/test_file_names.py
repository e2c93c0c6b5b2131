"""File names in URLs: only the shape the server gives stored files reaches the database."""

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.mark.parametrize("path", [
    "/images/%00abc.jpg", "/images/thumb/%00", "/images/..%2Fsecret", "/images/.hidden.jpg",
])
def test_a_file_name_of_another_shape_is_a_json_404(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_deleting_a_file_name_with_a_nul_byte_is_a_json_404(client):
    response = client.delete("/api/delete-image/%00")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
