"""``Blocking``: a ``HumansApplication`` whose use cases plain (synchronous) test code calls.

The application's use cases are coroutines. Called from a test's own code, one runs to
completion on an event loop of the tests' (one loop in a daemon thread, shared by every
test thread, as a server's loop is shared by its requests) and its result is returned;
called from a running event loop (the API under test), it is the coroutine, as usual.
Every other attribute is the application's.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from hot.application import HumansApplication
from hot.infra.bootstrap import build_application

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def _tests_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="tests-loop", daemon=True).start()
        return _loop


def run(coroutine: Any) -> Any:
    """Run ``coroutine`` to completion on the tests' event loop; its result."""
    return asyncio.run_coroutine_threadsafe(coroutine, _tests_loop()).result()


class Blocking:
    """``application``, its coroutine methods callable from synchronous code."""

    def __init__(self, application: HumansApplication) -> None:
        object.__setattr__(self, "application", application)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.application, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute
        return partial(_called, attribute)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.application, name, value)


def _called(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run(method(*args, **kwargs))
    return method(*args, **kwargs)  # on a running loop: the caller awaits it


def blocking_application(database_url: str, *args: Any, **kwargs: Any) -> Any:
    """``build_application``, wrapped in ``Blocking``."""
    return Blocking(build_application(database_url, *args, **kwargs))


@contextlib.contextmanager
def opened_application(database_url: str, *args: Any, **kwargs: Any) -> Iterator[Any]:
    """``blocking_application`` for the block, closed after it (a fixture's ``yield``)."""
    application = blocking_application(database_url, *args, **kwargs)
    try:
        yield application
    finally:
        application.close()
