"""Regression tests for findings of the lint and type pass (issue 11, section 9)."""

from __future__ import annotations

import pytest

from mockserver import ServerProcess, Settings
from mockserver.flavours import Rendered


def test_rendered_headers_default_is_not_one_dict_shared_by_every_instance() -> None:
    first = Rendered(400, b"{}")
    with pytest.raises(TypeError):
        first.headers["X-Leak"] = "yes"  # type: ignore[index]
    assert dict(Rendered(404, b"{}").headers) == {}


def test_server_process_closes_its_log_file_when_the_child_cannot_start() -> None:
    server = ServerProcess(Settings(count=10), env={"MOCKSERVER_BROKEN": "nul\0byte"})
    with pytest.raises(ValueError):
        server.start()
    assert server._log is None
