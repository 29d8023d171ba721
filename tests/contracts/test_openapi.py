"""contracts.openapi: the kit's one OpenAPI reader (references, operations by operationId or path shape)."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.failures import InvalidSpec
from contracts.openapi import find_operations, flavour_operation_ids, merged, operations, parameters, resolve
from contracts.schema import Contract, load_spec
from mockserver import FLAVOURS


def _shopify_like(*, with_ids: bool = True) -> dict[str, Any]:
    """A Shopify Admin REST shaped document: ``.json`` paths under a versioned prefix."""
    def op(operation_id: str, **more: Any) -> dict[str, Any]:
        return {**({"operationId": operation_id} if with_ids else {}), "responses": {"200": {"description": "ok"}},
                **more}

    return {
        "openapi": "3.1.0",
        "paths": {
            "/admin/api/2024-01/customers/count.json": {"get": op("countCustomers")},
            "/admin/api/2024-01/customers/search.json": {"get": op("searchCustomers")},
            "/admin/api/2024-01/customers.json": {
                "parameters": [{"$ref": "#/components/parameters/Limit"}],
                "get": op("listCustomers_shop", parameters=[{"name": "since_id", "in": "query"}]),
                "post": op("createCustomer_shop"),
            },
            "/admin/api/2024-01/customers/{id}.json": {
                "get": op("getCustomer_shop"), "put": op("updateCustomer_shop"), "delete": op("deleteCustomer_shop"),
            },
        },
        "components": {"parameters": {"Limit": {"name": "limit", "in": "query", "schema": {"maximum": 250}}}},
    }


def test_a_shopify_like_document_has_its_list_and_get_found_by_path_shape() -> None:
    listing, item = find_operations(_shopify_like(with_ids=False))
    assert (listing.method, listing.path) == ("GET", "/admin/api/2024-01/customers.json")
    assert item is not None and (item.method, item.path) == ("GET", "/admin/api/2024-01/customers/{id}.json")


def test_operations_named_by_operation_id_win_over_the_path_shape() -> None:
    doc = _shopify_like()
    listing, item = find_operations(doc, list_id="listCustomers_shop", get_id="getCustomer_shop")
    assert listing.path == "/admin/api/2024-01/customers.json" and listing.operation_id == "listCustomers_shop"
    assert item is not None and item.path == "/admin/api/2024-01/customers/{id}.json"
    # An id that names another operation is obeyed: the caller knows its document.
    counted, _ = find_operations(doc, list_id="countCustomers")
    assert counted.path.endswith("/count.json")
    with pytest.raises(InvalidSpec, match="no listEverything operation"):
        find_operations(doc, list_id="listEverything")


def test_a_document_without_a_collection_has_no_list_operation() -> None:
    with pytest.raises(InvalidSpec, match="no GET .../customers"):
        find_operations({"openapi": "3.1.0", "paths": {"/orders.json": {"get": {"responses": {}}}}})


def test_parameters_join_the_path_items_and_the_operations_own_with_references_resolved() -> None:
    doc = _shopify_like()
    listing, _ = find_operations(doc)
    assert list(parameters(doc, listing, "query")) == ["limit", "since_id"]
    assert parameters(doc, listing)["limit"]["schema"] == {"maximum": 250}


def test_operations_lists_every_method_of_every_path_in_document_order() -> None:
    found = [(op.method, op.path.rsplit("/", 1)[-1]) for op in operations(_shopify_like())]
    assert found == [("GET", "count.json"), ("GET", "search.json"), ("GET", "customers.json"),
                     ("POST", "customers.json"), ("GET", "{id}.json"), ("PUT", "{id}.json"), ("DELETE", "{id}.json")]


def test_references_are_local_followed_to_the_end_and_cycles_refused() -> None:
    doc = {"components": {"schemas": {"A": {"$ref": "#/components/schemas/B"}, "B": {"type": "string"},
                                      "Loop": {"$ref": "#/components/schemas/Loop"},
                                      "a/b": {"type": "integer"}}}}
    assert resolve(doc, {"$ref": "#/components/schemas/A"}) == {"type": "string"}
    assert resolve(doc, {"$ref": "#/components/schemas/a~1b"}) == {"type": "integer"}
    with pytest.raises(InvalidSpec, match="cycle"):
        resolve(doc, {"$ref": "#/components/schemas/Loop"})
    with pytest.raises(InvalidSpec, match="only local"):
        resolve(doc, {"$ref": "other.yaml#/x"})
    with pytest.raises(InvalidSpec, match="points to nothing"):
        resolve(doc, {"$ref": "#/components/schemas/Missing"})


def test_all_of_is_folded_with_properties_merged_and_required_united() -> None:
    doc = {"components": {"schemas": {"Base": {"properties": {"id": {"type": "string"}}, "required": ["id"]}}}}
    schema = merged(doc, {"allOf": [{"$ref": "#/components/schemas/Base"}],
                          "properties": {"name": {"type": "string"}}, "required": ["name"]})
    assert list(schema["properties"]) == ["id", "name"] and schema["required"] == ["id", "name"]


def test_the_contract_reads_a_document_whose_operations_the_caller_names() -> None:
    doc = load_spec()
    doc["paths"] = {f"/v2{path}.json" if not path.startswith("/customers/") else
                    f"/v2/customers/{{id}}.json{path[len('/customers/{id}'):]}": item
                    for path, item in doc["paths"].items()}
    for item in doc["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") in ("listCustomers", "getCustomer"):
                op["operationId"] += "V2"
    contract = Contract.from_document(doc, list_operation="listCustomersV2", get_operation="getCustomerV2")
    assert (contract.list_path, contract.item_path) == ("/v2/customers.json", "/v2/customers/{id}.json")
    assert contract.item_url("a b") == "/v2/customers/a%20b.json"
    assert Contract.from_document(doc).list_path == "/v2/customers.json", "found by path shape"
    with pytest.raises(InvalidSpec, match="no listCustomers operation"):
        Contract.from_document(doc, list_operation="listCustomers")


@pytest.mark.parametrize("flavour", FLAVOURS.names())
def test_every_bundled_flavour_has_a_list_and_a_get_operation(flavour: str) -> None:
    from contracts.openapi import bundled_document

    doc = bundled_document(FLAVOURS.get(flavour).spec)
    list_id, get_id = flavour_operation_ids(flavour)
    listing, item = find_operations(doc, list_id=list_id, get_id=get_id)
    assert listing.method == "GET" and item is not None and item.method == "GET"
    assert "{" not in listing.path.rsplit("/", 1)[-1] and "{" in item.path.rsplit("/", 1)[-1]


def test_contracts_check_names_a_missing_operation_as_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from contracts.cli import main

    # Refused while reading the document, before any request: no server is needed.
    assert main(["check", "--base-url", "http://127.0.0.1:9", "--list-operation", "listClients", "-q"]) == 2
    err = capsys.readouterr().err
    assert "no listClients operation" in err and "Traceback" not in err
