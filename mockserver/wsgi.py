"""``gunicorn mockserver.wsgi:app``: the app built from ``MOCKSERVER_*`` environment variables.

For granian use ``mockserver serve --server granian``, not ``granian mockserver.wsgi:app``: granian's own
threads would run this app side by side, without the lock that keeps its per-process caches consistent
(:mod:`mockserver.granian_server`), and each worker would build its own temporary state.
"""

from mockserver.app import create_app

app = create_app()
