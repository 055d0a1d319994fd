"""``python -m connector``: the same as the ``connector`` command."""

from .cli.main import app

app()
