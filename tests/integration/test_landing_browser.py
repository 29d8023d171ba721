"""The landing page and the API docs in a real headless Chromium (Debian's ``chromium``), offline.

Chromium renders each page against a real server and prints the DOM after its scripts ran
(``--dump-dom``); every host but 127.0.0.1 is unresolvable, so a page that needed a CDN would
render without it and fail here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import yaml

from mockserver import ServerProcess, Settings
from mockserver.flavours import FLAVOURS

pytestmark = pytest.mark.integration

INSTALL_CHROMIUM = "apt-get update && apt-get install -y chromium"


def _find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def chromium() -> str:
    path = _find_chromium()
    if path is None and os.geteuid() == 0 and shutil.which("apt-get"):
        # NOTE: the README's test command is all a fresh machine (or CI) runs; as root on Debian the
        # suite installs the browser itself, as tests/test_specs.py installs the pinned linter.
        print(f"\nChromium is missing; installing it: {INSTALL_CHROMIUM}")
        subprocess.run(["bash", "-c", f"{INSTALL_CHROMIUM} >/dev/null"], env={**os.environ,
                       "DEBIAN_FRONTEND": "noninteractive"}, timeout=900, check=False)
        path = _find_chromium()
    if path is None:
        pytest.fail(f"these tests drive Debian's headless Chromium, which is not installed: run `{INSTALL_CHROMIUM}` "
                    "(as root)", pytrace=False)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    state = str(tmp_path_factory.mktemp("landing") / "state.sqlite3")
    with ServerProcess(Settings(seed=7, count=123, workers=1, flavour="ecwid", state=state)) as running:
        yield running


def render(chromium: str, url: str, profile: Path) -> str:
    """The DOM of ``url`` once its scripts have run, with every host but 127.0.0.1 unreachable."""
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--virtual-time-budget=20000",
         "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0 and "<body" in result.stdout, result.stderr[-2000:]
    return result.stdout


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of the page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def having(self, tag: str, attribute: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag and attribute in attrs]


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:  # raises on 4xx/5xx: a broken link fails
        return response.status, response.read()


def assert_offline(page: Elements, origin: str) -> None:
    for tag, attribute in (("script", "src"), ("link", "href"), ("img", "src")):
        for attrs in page.having(tag, attribute):
            url = urljoin(origin + "/", attrs[attribute])
            if not url.startswith("data:"):
                assert url.startswith(origin + "/"), f"{tag} loads {url} from outside the server"


def test_the_landing_page_renders_what_runs_and_every_link_and_example_works(
        chromium: str, server: ServerProcess, tmp_path: Path) -> None:
    dom = render(chromium, server.url + "/", tmp_path)
    page = Elements(dom)
    text = " ".join(" ".join(page.text).split())

    assert f"unified-customers-mock {version('unified-customers-mock')}" in text
    assert "Serving 123 deterministic customers from seed 7" in text and "ecwid is also served at the root" in text
    rows = [attrs for attrs in page.having("tr", "data-flavour")]
    assert {r["data-flavour"] for r in rows} == set(FLAVOURS.names())
    assert {r["data-prefix"] for r in rows} == {""} | {f"/{name}" for name in FLAVOURS.names()}
    assert_offline(page, server.url)

    links = [urljoin(server.url + "/", a["href"]) for a in page.having("a", "href")]
    assert len(links) >= 3 + 2 * len(rows)
    for link in links:
        assert urlsplit(link).netloc == urlsplit(server.url).netloc, link
        assert fetch(link)[0] == 200, link

    examples = page.having("pre", "data-url")
    assert len(examples) == len(rows)
    for example in examples:
        status, body = fetch(example["data-url"], json.loads(example["data-headers"]))
        assert status == 200 and json.loads(body), example["data-url"]


@pytest.mark.parametrize("flavour", FLAVOURS.names())
def test_the_docs_ui_renders_every_operation_of_each_document(chromium: str, server: ServerProcess, tmp_path: Path,
                                                              flavour: str) -> None:
    document: dict[str, Any] = yaml.safe_load(fetch(f"{server.url}/{flavour}/openapi.yaml")[1])
    dom = render(chromium, f"{server.url}/docs/{flavour}", tmp_path)
    page = Elements(dom)

    rendered = {attrs["data-path"] for attrs in page.having("span", "data-path")} | set(
        re.findall(r'data-path="([^"]*)"', dom))
    assert rendered == set(document["paths"]), f"the docs UI did not render {flavour}'s operations"
    assert document["info"]["title"] in " ".join(page.text)
    assert_offline(page, server.url)


def test_docs_without_a_flavour_opens_the_root_flavours_document(chromium: str, server: ServerProcess,
                                                                 tmp_path: Path) -> None:
    document: dict[str, Any] = yaml.safe_load(fetch(f"{server.url}/ecwid/openapi.yaml")[1])
    dom = render(chromium, f"{server.url}/docs", tmp_path)
    assert set(re.findall(r'data-path="([^"]*)"', dom)) == set(document["paths"])
