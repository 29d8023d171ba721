"""pytest plugin: the mock Customers API and the contract checks as fixtures.

Loaded in every pytest run through the ``pytest11`` entry point, so this module imports only
pytest and the standard library; Falcon, httpx, Schemathesis and ``mockserver`` are imported
inside the fixtures that need them.

Fixtures (settings: marker > command-line option > environment variable > default):

=====================  =========  =============================================================
``mock_settings``      function   ``mockserver.Settings`` for this test (seed, count, flavour, token)
``mock_app``           function   in-process WSGI app (``falcon.App``) with a fresh write store
``mock_client``        function   ``httpx.Client`` bound to ``mock_app``, sending the bearer token
``mock_admin``         function   :class:`~contracts.admin_client.AdminClient` of ``mock_app`` (tenants, faults...)
``mock_dataset``       function   ground truth: ``mockserver.Dataset(seed, count)``
``mock_server``        function   real gunicorn server, reset per test (:class:`MockServer`: ``.url``, ``.admin``)
``mock_server_factory`` session   starts one server per distinct settings, stops them at the end
``contract``           function   :class:`Contract`: ``check_server(url)``, ``check_adapter(adapter)``
``contract_base_url``  function   ``--contract-base-url`` if given, else ``mock_server.url``
``generated_api``      function   a :class:`contracts.generated.GeneratedAPI` drawn from the seed
``webhook_receiver``   function   a real HTTP receiver: ``.url``, ``.wait_for(event)`` (:mod:`contracts.webhooks`)
=====================  =========  =============================================================

Unhappy paths, on ``mock_server`` (a real server) and ``mock_admin`` (the in-process app) alike:
``.tenant("job-42", mode="isolated", state="disabled", count=50)``, ``with .faults({...}, tenant=None):``
(the previous profile back at the end of the block), ``.rate_limit("shopify", limit=2, seconds=60)``,
``.clock(advance_seconds=60)``; ``mock_server.admin`` is the whole
:class:`~contracts.admin_client.AdminClient`. Every test starts with the writes forgotten and the
controls as the server started (``POST /__admin/reset``).

Marker: ``@pytest.mark.mockserver(seed=7, count=50, flavour="apideck", token=None)``.
Options: ``--mockserver-seed`` (``MOCKSERVER_SEED``, default 42), ``--mockserver-count``
(``MOCKSERVER_COUNT``, 1000), ``--mockserver-flavour`` (``MOCKSERVER_FLAVOUR``, canonical),
``--mockserver-token`` (``MOCKSERVER_TOKEN``, none: any token is accepted),
``--mockserver-server`` (``MOCKSERVER_SERVER``, gunicorn; or granian),
``--contract-base-url`` (``CONTRACTS_BASE_URL``, as for ``contracts check``; the old
``CONTRACT_BASE_URL`` still works, with a deprecation warning) and ``--contract-max-examples``
(``CONTRACT_MAX_EXAMPLES``, 25).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from contracts.admin_client import AdminClient, AdminShortcuts, urllib_sender, wsgi_sender
from contracts.extras import missing_extra

if TYPE_CHECKING:
    import falcon
    import httpx

    from mockserver import Dataset, ServerProcess, Settings

__all__ = ["Contract", "MockServer", "MockServerFactory"]

DEFAULT_TOKEN = "secret_mockserver-test"
"""Token the client fixtures send when none is configured (``secret_`` so Ecwid accepts it too)."""

BASE_URL_ENV = "CONTRACTS_BASE_URL"
"""The variable ``contracts check`` reads too; ``CONTRACT_BASE_URL`` (the plugin's old name) still works."""
_OLD_BASE_URL_ENV = "CONTRACT_BASE_URL"


_SETTINGS: dict[str, tuple[type, Any, str, str]] = {
    # name: (type, default, environment variable, help)
    "seed": (int, 42, "MOCKSERVER_SEED", "seed of the mock's dataset (same seed, same customers)"),
    "count": (int, 1000, "MOCKSERVER_COUNT", "customers in the mock's dataset"),
    "flavour": (str, "canonical", "MOCKSERVER_FLAVOUR", "flavour served at the mock's root"),
    "token": (str, None, "MOCKSERVER_TOKEN", "the only token the mock accepts (default: any)"),
    "server": (str, "gunicorn", "MOCKSERVER_SERVER", "HTTP server of the mock: gunicorn or granian"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockserver", "mock Customers API and contract checks")
    for name, (kind, default, env, text) in _SETTINGS.items():
        group.addoption(f"--mockserver-{name}", type=kind, default=None, dest=f"mockserver_{name}",
                        help=f"{text}; env {env}, default {default}")
    group.addoption("--contract-base-url", default=None, dest="contract_base_url",
                    help="run contract.check_server() against this deployed service instead of the mock; "
                         f"env {BASE_URL_ENV}")
    group.addoption("--contract-max-examples", type=int, default=None, dest="contract_max_examples",
                    help="Hypothesis examples per contract property; env CONTRACT_MAX_EXAMPLES, default 25")


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get(_OLD_BASE_URL_ENV) and not os.environ.get(BASE_URL_ENV):
        config.issue_config_time_warning(DeprecationWarning(
            f"{_OLD_BASE_URL_ENV} is deprecated: set {BASE_URL_ENV} instead (the name `contracts check` reads too)"),
            stacklevel=2)
    config.addinivalue_line(
        "markers",
        "mockserver(seed=42, count=1000, flavour='canonical', token=None, server='gunicorn'): settings of the mock_* fixtures "
        "and of contract.check_adapter() for this test",
    )


def _configured(config: pytest.Config, name: str) -> Any:
    kind, default, env, _ = _SETTINGS[name]
    value = config.getoption(f"mockserver_{name}")
    if value is not None:
        return value
    raw = os.environ.get(env)
    if raw:
        try:
            return kind(raw)
        except ValueError:
            raise pytest.UsageError(f"{env} must be {kind.__name__}, got {raw!r}") from None
    return default


def _base_url(config: pytest.Config) -> str | None:
    option = config.getoption("contract_base_url")
    if option:
        return str(option)
    if os.environ.get(BASE_URL_ENV):
        return os.environ[BASE_URL_ENV]
    return os.environ.get(_OLD_BASE_URL_ENV) or None


def _max_examples(config: pytest.Config) -> int:
    value = config.getoption("contract_max_examples")
    if value is None:
        raw = os.environ.get("CONTRACT_MAX_EXAMPLES", "25")
        try:
            value = int(raw)
        except ValueError:
            raise pytest.UsageError(f"CONTRACT_MAX_EXAMPLES must be an integer, got {raw!r}") from None
    return int(value)


def pytest_report_header(config: pytest.Config) -> list[str]:
    values = {name: _configured(config, name) for name in _SETTINGS}
    line = (f"mockserver: seed={values['seed']} count={values['count']} flavour={values['flavour']} "
            f"(replay with --mockserver-seed={values['seed']} or MOCKSERVER_SEED={values['seed']})")
    url = _base_url(config)
    return [line] + ([f"contract base URL: {url}"] if url else [])


# ---- settings -------------------------------------------------------------------------------


@pytest.fixture
def mock_settings(request: pytest.FixtureRequest) -> Settings:
    """``mockserver.Settings`` for this test: the ``mockserver`` marker, then options, env, defaults."""
    from mockserver import Settings

    values = {name: _configured(request.config, name) for name in _SETTINGS}
    marker = request.node.get_closest_marker("mockserver")
    if marker is not None:
        if marker.args:
            pytest.fail("@pytest.mark.mockserver takes keyword arguments only, "
                        "e.g. @pytest.mark.mockserver(seed=7, count=50)", pytrace=False)
        unknown = set(marker.kwargs) - set(_SETTINGS)
        if unknown:
            pytest.fail(f"@pytest.mark.mockserver got unknown argument(s) {sorted(unknown)}; "
                        f"valid: {', '.join(_SETTINGS)}", pytrace=False)
        values.update(marker.kwargs)
    return Settings(seed=values["seed"], count=values["count"], flavour=values["flavour"], token=values["token"],
                    server=values["server"])


def _kit(module: str) -> Any:
    """Import a module of the contract kit; a missing ``contracts`` extra fails the test in one line."""
    __tracebackhide__ = True
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        message = missing_extra(exc)
        if message is None:
            raise
        pytest.fail(f"mockserver plugin: {message}", pytrace=False)


def _token(settings: Settings) -> str:
    return settings.token or DEFAULT_TOKEN


# ---- in-process ---------------------------------------------------------------------------------


@pytest.fixture
def mock_app(mock_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> falcon.App[falcon.Request, falcon.Response]:
    """The mock as an in-process WSGI app (no socket), with its own empty write store.

    The configured flavour is also served at the root; every flavour is under ``/<name>``.
    """
    from mockserver import create_app

    state = tmp_path_factory.mktemp("mockserver") / "state.sqlite3"
    return create_app(mock_settings.replace(state=str(state)))


@pytest.fixture
def mock_client(mock_app: falcon.App[falcon.Request, falcon.Response], mock_settings: Settings) -> Iterator[httpx.Client]:
    """``httpx.Client`` calling ``mock_app`` in-process, base URL ``http://mockserver``, with the token."""
    httpx = _kit("httpx")
    with httpx.Client(transport=httpx.WSGITransport(app=mock_app), base_url="http://mockserver",
                      headers={"Authorization": f"Bearer {_token(mock_settings)}"}) as client:
        yield client


@pytest.fixture
def mock_admin(mock_app: falcon.App[falcon.Request, falcon.Response], mock_settings: Settings) -> AdminClient:
    """The admin API of ``mock_app``: ``.tenant(...)``, ``.faults(...)``, ``.rate_limit(...)``, ``.clock(...)``,
    ``.requests(...)``, ``.assert_called(...)``."""
    return AdminClient(wsgi_sender(mock_app), _token(mock_settings), mock_settings.flavour)


_DATASETS: dict[tuple[int, int], Any] = {}


@pytest.fixture
def mock_dataset(mock_settings: Settings) -> Dataset:
    """The ground truth: ``Dataset(seed, count)``; ``.customer(i)`` is the canonical customer ``i``."""
    from mockserver import Dataset

    key = (mock_settings.seed, mock_settings.count)
    if key not in _DATASETS:
        _DATASETS[key] = Dataset(*key)
    return _DATASETS[key]  # type: ignore[no-any-return]


@pytest.fixture
def generated_api(mock_settings: Settings) -> Any:
    """A :class:`contracts.generated.GeneratedAPI` drawn from the mock seed (mock mode for clients)."""
    return _kit("contracts.generated").generated_api(mock_settings.seed)


# ---- real server ----------------------------------------------------------------------------


@dataclass
class MockServer(AdminShortcuts):
    """A running mock server (``mockserver serve`` under gunicorn); ``.tenant()``, ``.faults()``,
    ``.rate_limit()``, ``.clock()``, ``.requests()``, ``.assert_called()`` are its :attr:`admin`'s
    (:class:`~contracts.admin_client.AdminShortcuts`)."""

    url: str
    """Base URL, e.g. ``http://127.0.0.1:50123``; the configured flavour answers at its root."""
    settings: Settings
    process: ServerProcess = field(repr=False)
    _dataset: Any = field(default=None, repr=False)

    def url_for(self, path: str, flavour: str | None = None) -> str:
        """Absolute URL of ``path`` (``/customers``), under ``/<flavour>`` when one is given."""
        prefix = f"/{flavour}" if flavour else ""
        return f"{self.url}{prefix}/{path.lstrip('/')}"

    @property
    def dataset(self) -> Dataset:
        """The server's ground truth, ``Dataset(seed, count)``."""
        if self._dataset is None:
            from mockserver import Dataset

            self._dataset = Dataset(self.settings.seed, self.settings.count)
        return self._dataset  # type: ignore[no-any-return]

    @property
    def token(self) -> str:
        """A token the server accepts."""
        return _token(self.settings)

    @property
    def admin(self) -> AdminClient:
        """The server's admin API (:class:`~contracts.admin_client.AdminClient`)."""
        return AdminClient(urllib_sender(self.url), self.token, self.settings.flavour)

    def reset(self) -> None:
        """Forget every write made so far and put the controls back as at start (``POST /__admin/reset``).

        Raises:
            contracts.admin_client.AdminError: the server refused (a ``RuntimeError``).
        """
        self.admin.reset()


class MockServerFactory:
    """Starts one real server per distinct settings, on a free port, and stops them all at the end."""

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers
        self._servers: dict[tuple[Any, ...], MockServer] = {}

    def get(self, settings: Settings) -> MockServer:
        from mockserver import ServerProcess

        key = (settings.seed, settings.count, settings.flavour, settings.token, settings.journal_size,
               settings.journal_body_bytes)
        server = self._servers.get(key)
        if server is None or server.process.process is None or server.process.process.poll() is not None:
            process = ServerProcess(settings.replace(port=0, workers=self.workers)).start()
            server = MockServer(process.url, process.settings, process)
            self._servers[key] = server
        return server

    def close(self) -> None:
        servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.process.stop()


@pytest.fixture(scope="session")
def mock_server_factory() -> Iterator[MockServerFactory]:
    """Session-wide: real servers are started once per distinct settings and stopped at the end."""
    factory = MockServerFactory()
    yield factory
    factory.close()


@pytest.fixture
def mock_server(mock_server_factory: MockServerFactory, mock_settings: Settings) -> MockServer:
    """A real gunicorn mock server for this test's settings, reset to the seeded data.

    One server is shared by the tests with the same settings (starting one takes a fraction of a
    second); each test gets it with the writes of earlier tests forgotten.
    """
    server = mock_server_factory.get(mock_settings)
    server.reset()
    return server


# ---- contract checks ---------------------------------------------------------------------


@dataclass
class Contract:
    """Runs the contract checks from a test and fails it with the readable report."""

    request: pytest.FixtureRequest
    settings: Settings
    max_examples: int
    base_url: str | None

    def check_server(self, url: str | None = None, **options: Any) -> Any:
        """Check a server against the canonical contract (``contracts check``); fail the test if it breaks it.

        Args:
            url: the server's base URL; default ``--contract-base-url``, else the in-process mock
                (``mock_app``).
            options: passed to :func:`contracts.check.check_server` (``app``, ``spec``, ``token``,
                ``checks``, ``list_operation``/``get_operation`` for a document whose operations
                are not ``listCustomers``/``getCustomer``...); ``seed`` defaults to the mock seed,
                ``max_examples`` to ``--contract-max-examples``.

        Returns:
            the :class:`~contracts.failures.CheckReport` when every property held.
        """
        __tracebackhide__ = True
        check_server = _kit("contracts.check").check_server
        options.setdefault("seed", self.settings.seed)
        options.setdefault("max_examples", self.max_examples)
        target = url or self.base_url
        if "app" in options:
            report = check_server(**options)
        elif target is None:
            report = check_server(app=self.request.getfixturevalue("mock_app"), **options)
        else:
            report = check_server(target, **options)
        return self._judge(report)

    def check_adapter(self, adapter: Any, **options: Any) -> Any:
        """Check an adapter (class, factory, instance or registry name) against the mock's ground truth.

        Args:
            options: passed to :func:`contracts.adapter_check.check_adapter` (``count``, ``checks``...).
        """
        __tracebackhide__ = True
        check_adapter = _kit("contracts.adapter_check").check_adapter
        options.setdefault("seed", self.settings.seed)
        options.setdefault("max_examples", self.max_examples)
        return self._judge(check_adapter(adapter, **options))

    @staticmethod
    def _judge(report: Any) -> Any:
        __tracebackhide__ = True
        if not report.ok:
            pytest.fail(report.render(), pytrace=False)
        return report


@pytest.fixture
def contract(request: pytest.FixtureRequest, mock_settings: Settings) -> Contract:
    """``contract.check_server(url=None)`` and ``contract.check_adapter(MyAdapter)``; a broken contract fails the test."""
    return Contract(request, mock_settings, _max_examples(request.config), _base_url(request.config))


@pytest.fixture
def webhook_receiver() -> Iterator[Any]:
    """A real HTTP endpoint for webhooks (:class:`contracts.webhooks.WebhookReceiver`): ``.url``,
    ``.wait_for(event, timeout=5.0, count=1)``, ``.events``, ``.fail_first(n, status=500)``, ``.clear()``."""
    from contracts.webhooks import WebhookReceiver

    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def contract_base_url(request: pytest.FixtureRequest) -> str:
    """The service under test: ``--contract-base-url`` (or ``CONTRACTS_BASE_URL``), else a real mock server."""
    url = _base_url(request.config)
    if url:
        return url.rstrip("/")
    server: MockServer = request.getfixturevalue("mock_server")
    return server.url

