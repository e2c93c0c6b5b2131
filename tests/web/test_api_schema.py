"""The OpenAPI schema says what the API answers: its error statuses and their JSON body,
nullable fields, and the constraints the views enforce; and the views agree with it."""

import pytest
from django.urls import reverse

from tests.helpers import api_schema, schema_errors

pytestmark = pytest.mark.django_db

OPERATIONS = ("get", "post", "put", "patch", "delete")


def operations(spec):
    for path, item in spec["paths"].items():
        for method in OPERATIONS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def test_every_operation_documents_400_401_403_and_404_with_the_json_error_body(client):
    spec = api_schema(client)

    for name, operation in operations(spec):
        responses = operation["responses"]
        assert {"400", "401", "403", "404"} <= set(responses), name
        legacy = "original app" in operation.get("tags", [])
        bodies = {code: responses[code]["content"]["application/json"]["schema"]["$ref"]
                  for code in ("400", "401", "403", "404")}
        if legacy:
            assert set(bodies.values()) == {"#/components/schemas/LegacyError"}, name
        else:
            assert bodies["400"] == "#/components/schemas/BadRequest", name
            assert {bodies["401"], bodies["403"], bodies["404"]} == {
                "#/components/schemas/Error"}, name


def test_bodies_throttles_and_conflicts_are_documented_where_they_occur(client):
    spec = api_schema(client)
    responses = {name: set(operation["responses"]) for name, operation in operations(spec)}

    assert {"413", "415", "429", "503"} <= responses["POST /api/v1/images/"]
    assert {"409", "413", "429", "503"} <= responses["POST /api/v1/search/"]
    assert {"409", "429", "503"} <= responses["POST /api/search"]
    assert "429" in responses["POST /api/v1/keys/"]
    assert "409" in responses["POST /api/v1/duplicates/{key}/resolve/"]
    assert not {"413", "429"} & responses["GET /api/v1/images/"]


def test_the_error_bodies_are_components_of_the_schema(client):
    spec = api_schema(client)

    assert schema_errors(spec, "Error", {"detail": "No such image.", "code": "not_found"}) == []
    assert schema_errors(spec, "BadRequest", {"kind": ['"x" is not a valid choice.']}) == []
    assert schema_errors(spec, "BadRequest", {"detail": "Bad.", "code": "invalid"}) == []
    assert schema_errors(spec, "Error", {"detail": "No code."}) != []


def test_an_image_nobody_uploaded_matches_the_schema_with_uploaded_by_null(
        api_client, add_image, client):
    image = add_image("shipped.jpg", is_original=True)

    response = api_client.get(reverse("api-image-detail", args=[image.pk]))

    assert response.status_code == 200
    assert response.json()["uploaded_by"] is None
    assert schema_errors(api_schema(client), "Image", response.json()) == []


def test_an_empty_multipart_upload_gets_a_json_400(api_client):
    response = api_client.generic(
        "POST", reverse("api-images"), b"--b0undary--\r\n",
        content_type="multipart/form-data; boundary=b0undary")

    assert response.status_code == 400
    assert response.json()["code"] == "no_file"
    assert response.json()["detail"].startswith("No file was uploaded")


def test_drf_errors_carry_a_code_like_every_other(api_client, add_image):
    add_image()

    past_the_end = api_client.get(reverse("api-images"), {"page": 9})
    unreadable = api_client.generic("POST", reverse("api-search"), b"{not json",
                                    content_type="application/json")

    assert past_the_end.status_code == 404
    assert past_the_end.json() == {"detail": "Invalid page.", "code": "not_found"}
    assert unreadable.status_code == 400
    assert unreadable.json()["code"] == "parse_error"


@pytest.mark.parametrize("body", [b"null", b"[1, 2]", b'"image_id x"', b"3"])
def test_a_json_search_body_that_is_not_an_object_gets_a_400(api_client, add_image, body):
    add_image()

    response = api_client.generic("POST", reverse("api-search"), body,
                                  content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]


def test_the_threshold_bounds_are_in_the_schema(client, settings):
    settings.DUPLICATE_FLOOR = 0.82
    spec = api_schema(client)

    (parameter,) = [p for p in spec["paths"]["/api/v1/duplicates/"]["get"]["parameters"]
                    if p["name"] == "threshold"]
    body = spec["components"]["schemas"]["ThresholdRequest"]["properties"]["threshold"]
    assert (parameter["schema"]["minimum"], parameter["schema"]["maximum"]) == (0.82, 1.0)
    assert (body["minimum"], body["maximum"]) == (0.82, 1.0)


def test_a_threshold_below_the_floor_is_refused_with_its_message(api_client, settings):
    settings.DUPLICATE_FLOOR = 0.82

    response = api_client.get(reverse("api-duplicates"), {"threshold": 0.81})

    assert response.status_code == 400
    assert response.json() == {"threshold": [
        "The threshold must be between 0.82 and 1 (pairs less alike than 0.82 are not kept)."]}


def test_text_filters_say_they_take_no_nul_characters(client, api_client):
    spec = api_schema(client)
    parameters = {p["name"]: p["schema"]
                  for p in spec["paths"]["/api/v1/images/"]["get"]["parameters"]}

    response = api_client.get(reverse("api-images"), {"label": "cat\x00"})

    for blank_or_text in (parameters["label"], parameters["q"]):
        assert blank_or_text["oneOf"] == [
            {**blank_or_text["oneOf"][0], "pattern": "^[^\\x00]+$"},
            {"type": "string", "maxLength": 0}]
    assert spec["components"]["schemas"]["ApiKeyRequest"]["properties"]["name"]["pattern"] \
        == "^[^\\x00]+$"
    assert response.status_code == 400
    assert response.json() == {"label": ["Null characters are not allowed."]}


def test_empty_list_filters_mean_no_filter_as_the_schema_allows(client, api_client, add_image):
    add_image("a.jpg")
    add_image("b.jpg", is_original=True)
    kind = [p for p in api_schema(client)["paths"]["/api/v1/images/"]["get"]["parameters"]
            if p["name"] == "kind"][0]

    response = api_client.get(reverse("api-images"), {"kind": "", "q": "", "label": ""})

    assert "" in kind["schema"]["enum"]
    assert response.status_code == 200
    assert response.json()["count"] == 2


@pytest.mark.parametrize("page_size", ["0", "-3", "ten", ""])
def test_a_page_size_that_is_not_a_whole_number_from_1_is_refused(api_client, page_size):
    response = api_client.get(reverse("api-images"), {"page_size": page_size})

    assert response.status_code == 400
    assert list(response.json()) == ["page_size"]


def test_a_key_name_must_be_text(api_client):
    response = api_client.post(reverse("api-keys"), {"name": 0}, format="json")

    assert response.status_code == 400
    assert response.json() == {"name": ["Not a valid string."]}


def test_a_json_search_takes_library_images_only_as_its_schema_says(
        client, api_client, add_image):
    spec = api_schema(client)
    body = spec["paths"]["/api/v1/search/"]["post"]["requestBody"]["content"]
    json_body = spec["components"]["schemas"][
        body["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    form_body = spec["components"]["schemas"][
        body["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]]

    response = api_client.post(reverse("api-search"), {"file": "00"}, format="json")

    assert not {"file", "files"} & set(json_body["properties"])
    assert {"file", "files"} <= set(form_body["properties"])
    assert response.status_code == 400
    assert response.json()["file"][0].startswith("Send a query")


def test_duplicate_actions_read_json_only(api_client):
    response = api_client.post(reverse("api-duplicates-resolve-all"), {"threshold": "0.9"},
                               format="multipart")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_an_upload_needs_at_least_one_file_as_its_schema_says(client):
    upload = api_schema(client)["components"]["schemas"]["ImageUploadRequest"]

    assert upload["properties"]["file"]["minItems"] == 1
    assert upload["required"] == ["file"]


def test_a_number_sent_as_true_is_refused_not_read_as_1(api_client, add_image):
    image = add_image()

    threshold = api_client.post(reverse("api-duplicates-resolve-all"), {"threshold": True},
                                format="json")
    search = api_client.post(reverse("api-search"),
                             {"image_id": image.pk, "min_similarity": True}, format="json")

    assert threshold.status_code == search.status_code == 400
    assert threshold.json() == {"threshold": ["A valid number is required."]}
    assert search.json() == {"min_similarity": ["A valid number is required."]}


@pytest.mark.parametrize("page", ["", "x", "0", "-1", "1.5"])
def test_a_page_that_is_not_a_whole_number_from_1_is_a_bad_request(api_client, page):
    response = api_client.get(reverse("api-images"), {"page": page})

    assert response.status_code == 400
    assert response.json() == {"page": ["A whole number from 1."]}
