"""``gunicorn mockserver.wsgi:app``: the app built from ``MOCKSERVER_*`` environment variables."""

from mockserver.app import create_app

app = create_app()
