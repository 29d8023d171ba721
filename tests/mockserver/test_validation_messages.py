"""A rejected write says what is wrong in words, for every offending field, in each flavour's error body."""

from __future__ import annotations

from typing import Any

import falcon.testing
import pytest

from mockserver import Settings, create_app


@pytest.fixture
def client(tmp_path) -> falcon.testing.TestClient:  # type: ignore[no-untyped-def]
    return falcon.testing.TestClient(create_app(Settings(seed=7, count=20, state=str(tmp_path / "s.db"))))


def _no_regex(message: str) -> None:
    for fragment in ("[^@", "\\s", "[A-Z]{", "does not match"):
        assert fragment not in message, message


def test_canonical_names_every_invalid_field_in_words(client: falcon.testing.TestClient) -> None:
    body: dict[str, Any] = {"first_name": "Ada", "currency": "eur", "emails": [{"email": "ada-at-example"}],
                            "orders": [{"id": "o1", "total": "10"}]}
    reply = client.simulate_post("/customers", json=body, headers={"Authorization": "Bearer t"})
    assert reply.status_code == 422
    detail = reply.json["detail"]
    _no_regex(detail)
    assert detail.startswith("The customer is invalid: ")
    for field, words in [("currency", "3-letter ISO 4217 currency code"), ("emails[0].email", "email address"),
                         ("orders[0].total", "2 decimals")]:
        assert f"{field} must be " in detail and words in detail, (field, detail)
    assert [e["name"] for e in reply.json["errors"]] == ["currency", "emails[0].email", "orders[0].total"]


def test_ecartapi_names_every_invalid_field_in_words(client: falcon.testing.TestClient) -> None:
    body = {"firstName": "Ada", "lastName": "Lovelace", "email": "ada-at-example", "currency": "euro"}
    reply = client.simulate_post("/ecartapi/api/v2/customers", json=body, headers={"Authorization": "t"})
    assert reply.status_code in (400, 422)
    message = reply.json["error"]["message"]
    _no_regex(message)
    assert "email must be an email address" in message and "currency must be a 3-letter" in message


def test_ecwid_names_every_invalid_field(client: falcon.testing.TestClient) -> None:
    body = {"email": "ada-at-example", "b2b_b2c": "b2x", "taxExempt": "yes"}
    reply = client.simulate_post("/ecwid/api/v3/1003/customers", json=body,
                                 headers={"Authorization": "Bearer secret_t"})
    assert reply.status_code == 400 and reply.json["errorCode"] == "WRONG_PARAMETER"
    message = reply.json["errorMessage"]
    for field in ("email", "b2b_b2c", "taxExempt"):
        assert f"Wrong value of field '{field}': " in message, message


def test_a_long_list_of_problems_says_how_many_more() -> None:
    from mockserver.errors import Problem, describe_problems

    problems = [Problem("body", f"f{n}", "is wrong") for n in range(12)]
    assert describe_problems(problems).endswith("f9 is wrong; and 2 more")
