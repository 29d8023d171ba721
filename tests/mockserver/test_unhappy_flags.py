"""``serve --faults``: a fault profile from the command line, checked before gunicorn starts."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from mockserver import ServerProcess, Settings


def test_a_fault_profile_given_as_a_flag_answers_every_request_and_shows_in_the_config(tmp_path: Path) -> None:
    profile = tmp_path / "chaos.yaml"
    profile.write_text("errors:\n  - {status: 503, rate: 1, retry_after: 7}\n", encoding="utf-8")
    with ServerProcess(Settings(count=20, workers=2, faults=f"@{profile}")) as server:
        for _ in range(4):
            try:
                urllib.request.urlopen(urllib.request.Request(f"{server.url}/customers",
                                                              headers={"Authorization": "Bearer t"}), timeout=10)
                raise AssertionError("the profile answers every request with 503")
            except urllib.error.HTTPError as exc:
                assert exc.code == 503 and exc.headers["Retry-After"] == "7"
                assert json.loads(exc.read())["status"] == 503  # canonical's problem body
        config = urllib.request.urlopen(urllib.request.Request(f"{server.url}/__admin/config",
                                                               headers={"Authorization": "Bearer t"}), timeout=10)
        faults = json.loads(config.read())["controls"]["faults"]
        assert faults["errors"] == [{"status": 503, "rate": 1, "retry_after": 7}]


def test_a_bad_fault_profile_flag_is_a_usage_error_naming_the_key() -> None:
    run = subprocess.run([sys.executable, "-m", "mockserver", "serve", "--port", "0", "--faults",
                          '{"errors": [{"status": 503, "rate": 2}]}'], capture_output=True, text=True, timeout=60,
                         check=False)
    assert run.returncode == 2
    assert "faults.errors[0].rate" in run.stderr and "Traceback" not in run.stderr
