"""Thin typer commands over the same services as the API."""
