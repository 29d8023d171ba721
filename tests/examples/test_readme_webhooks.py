"""The README's "Webhooks" section: its curl block run as written against a real server and a real
receiver, and its pytest example the file ``test_readme_webhooks_example.py`` that runs beside this one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from pathlib import Path

import pytest

from contracts.webhooks import WebhookReceiver
from mockserver import ServerProcess, Settings
from tests.examples.readme import bash_block, json_documents, run_against, section

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.integration


def test_the_curl_block_works_as_written() -> None:
    script = bash_block("## Webhooks:")
    receiver = WebhookReceiver().start()
    try:
        with ServerProcess(Settings(seed=42, count=100, workers=2, port=0)) as server:
            run = run_against(script, server.url, {"http://127.0.0.1:9000/webhooks": receiver.url})
        [hook] = receiver.wait_for("customers/create", timeout=5)
    finally:
        receiver.stop()
    assert run.returncode == 0, run.stderr
    subscription, customer, records = json_documents(run.stdout)
    assert subscription["secret"] == "my-app-secret" and subscription["flavour"] == "shopify"
    assert hook.json()["id"] == int(customer["data"]["id"])
    expected = base64.b64encode(hmac.new(b"my-app-secret", hook.body, hashlib.sha256).digest()).decode()
    assert hook.headers["X-Shopify-Hmac-Sha256"] == expected
    [record] = records["deliveries"]
    assert record["event"] == "customers/create" and record["status"] == 200 and record["outcome"] == "delivered"


def test_the_pytest_example_is_the_file_that_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", section("## Webhooks:"), re.DOTALL)
    assert blocks == [(HERE / "test_readme_webhooks_example.py").read_text(encoding="utf-8")]
