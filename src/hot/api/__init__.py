"""The HTTP API: a Litestar app built by ``create_app`` from HoT's parts."""

from hot.api.app import create_app

__all__ = ["create_app"]
