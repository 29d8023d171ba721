"""The ceiling runs under the mock's own gunicorn settings: every hook of theirs needs an equivalent."""

from __future__ import annotations

from bench.ceiling import decode_options, encode_options
from mockserver import Settings
from mockserver.server import gunicorn_options


def test_every_gunicorn_hook_of_the_mock_has_a_ceiling_equivalent() -> None:
    """``post_worker_init`` (issue 14) had none: the benchmark stopped with "no equivalent for gunicorn hook"."""
    options = gunicorn_options(Settings())
    decoded = decode_options(encode_options(options))
    hooks = [key for key, value in options.items() if callable(value)]
    assert hooks and all(callable(decoded[key]) for key in hooks)
