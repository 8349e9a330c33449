"""The browser the console's tests and its benchmark drive: Debian's ``chromium``
(Playwright's own download does not work here), headless, with nothing of its own
reaching the network."""

from __future__ import annotations

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
