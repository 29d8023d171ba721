"""GET / and /docs in-process: what they answer without a browser (tests/integration has the browser)."""

from __future__ import annotations

import falcon.testing

from mockserver import Settings, create_app
from mockserver.flavours import FLAVOURS


def test_root_and_docs_answer_html_instead_of_404(tmp_path) -> None:  # type: ignore[no-untyped-def]
    client = falcon.testing.TestClient(create_app(Settings(seed=7, count=50, state=str(tmp_path / "s.db"))))
    for path in ["/", "/docs", *(f"/docs/{name}" for name in FLAVOURS.names())]:
        response = client.simulate_get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert client.simulate_get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.simulate_get("/docs/assets/../../settings.py").status_code == 404
    assert client.simulate_get("/docs/assets/index.html").status_code == 404  # only the files the page loads
    assert client.simulate_get("/docs/no-such-flavour").status_code == 404


def test_a_required_token_is_never_printed_on_the_page(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(seed=7, count=50, token="s3cret-token", state=str(tmp_path / "s.db"))
    page = falcon.testing.TestClient(create_app(settings)).simulate_get("/").text
    assert "s3cret-token" not in page
    assert "Bearer $MOCKSERVER_TOKEN" in page


def test_the_admin_document_has_its_docs_and_a_link_on_the_landing_page(tmp_path) -> None:  # type: ignore[no-untyped-def]
    client = falcon.testing.TestClient(create_app(Settings(seed=1, count=10, state=str(tmp_path / "s.sqlite3"))))
    docs = client.simulate_get("/docs/admin")
    assert docs.status_code == 200 and '"url": "/__admin/openapi.yaml"' in docs.text
    assert '"urls.primaryName": "admin"' in docs.text
    assert '"name": "admin"' in client.simulate_get("/docs").text
    assert 'href="/__admin/openapi.yaml"' in client.simulate_get("/").text
