"""HoT's OpenTelemetry traces: off unless the operator sets the standard ``OTEL_*`` variables.

``tracing_from_env`` is for the entry point (through ``bootstrap``): it makes a
``TracerProvider`` only when ``OTEL_TRACES_EXPORTER`` (``otlp``, ``console``) or an OTLP
endpoint (``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is
set, and never with ``OTEL_SDK_DISABLED=true``. The SDK reads the rest itself: the
service's name and resource (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``; HoT
names itself ``hot`` when neither does), the sampler (``OTEL_TRACES_SAMPLER``...), the
exporter's endpoint, headers and timeout, the batch processor's delays (``OTEL_BSP_*``).
The provider is HoT's own, handed down; the process's global one is left alone.

The spans of one command, in one trace:

    POST /humans/{human_id}/attend        the HTTP request (``hot.api.observing``)
      command attend                      the pipeline: decided, committed, answered
        group commit                      the transaction that carried it (BEGIN to COMMIT,
                                          then the after-commit work), in the committer's thread
          write-through XADD              its events into the streams (``hot.infra.relay``)

A transaction carries many commands from many requests, and a span has one parent: the
transaction's span is the child of the first traced (sampled) command it carries, and
has a link to every other one; so each command's trace holds its commit, or a link to it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from uuid import UUID

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Link, Span, Status, StatusCode

from hot.application.meter import DEADLINE, ERROR
from hot.infra.settings import SettingsError

SERVICE = "hot"
OTLP_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
OTLP_PROTOCOLS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
_SERVER_FAULTS = frozenset({ERROR, DEADLINE})  # the outcomes that are HoT's fault


class TracingSettingError(SettingsError):
    """An ``OTEL_*`` variable asks for what HoT cannot do."""


class Tracing:
    """The traces of one HoT process: its provider, the tracer HoT's parts use, and the
    application's ``Tracer`` over it."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer("hot")
        self.commands = CommandTracer(self.tracer)

    def close(self) -> None:
        """Export what is left, and stop."""
        self.provider.shutdown()


def tracing_from_env(environ: Mapping[str, str] = os.environ) -> Tracing | None:
    """The traces the ``OTEL_*`` variables ask for, or None (off)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    names = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not names:
        if not any(environ.get(name) for name in OTLP_ENDPOINTS):
            return None
        names = "otlp"
    exporters = [_exporter(name.strip(), environ) for name in names.split(",") if name.strip()]
    chosen = [exporter for exporter in exporters if exporter is not None]
    if not chosen:
        return None  # "none"
    provider = TracerProvider(resource=_resource())
    for exporter in chosen:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return Tracing(provider)


def _exporter(name: str, environ: Mapping[str, str]) -> SpanExporter | None:
    if name == "none":
        return None
    if name == "console":
        return ConsoleSpanExporter()
    if name != "otlp":
        raise TracingSettingError(
            f"OTEL_TRACES_EXPORTER: {name!r} is not one of otlp, console, none."
        )
    protocol = next((environ[v] for v in OTLP_PROTOCOLS if environ.get(v)), "http/protobuf")
    if protocol.strip() != "http/protobuf":
        raise TracingSettingError(
            f"OTLP protocol {protocol!r}: HoT exports traces over http/protobuf only."
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout: from the OTEL_* variables


def _resource() -> Resource:
    resource = Resource.create()  # OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: SERVICE}))
    return resource


class _CommandSpan:
    """A command's span (``hot.application.tracing.CommandSpan``): its ``context`` is the
    span itself, which the committer's thread takes as a parent or a link."""

    __slots__ = ("context",)

    def __init__(self, span: Span) -> None:
        self.context = span

    def committed(self, human_id: UUID, position: int) -> None:
        self.context.set_attributes({"hot.human_id": str(human_id), "hot.log.position": position})

    def end(self, outcome: str, error: BaseException | None = None) -> None:
        span = self.context
        span.set_attribute("hot.outcome", outcome)
        if outcome in _SERVER_FAULTS and error is not None:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end()


class _TransactionSpan:
    __slots__ = ("_span",)

    def __init__(self, span: Span) -> None:
        self._span = span

    def committed(self, first: int, last: int) -> None:
        self._span.set_attributes({"hot.log.first_position": first, "hot.log.last_position": last})
        self._span.add_event("COMMIT")


class CommandTracer:
    """The application's ``Tracer`` (``hot.application.tracing``) over ``tracer``."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def command(self, name: str, human_id: UUID | None) -> _CommandSpan:
        attributes: dict[str, Any] = {"hot.command": name}
        if human_id is not None:
            attributes["hot.human_id"] = str(human_id)
        return _CommandSpan(self._tracer.start_span(f"command {name}", attributes=attributes))

    @contextlib.contextmanager
    def transaction(self, commands: Sequence[Any]) -> Iterator[_TransactionSpan]:
        spans = [span for span in commands if isinstance(span, Span)]
        traced = [span for span in spans if span.get_span_context().trace_flags.sampled]
        parent = traced[0] if traced else spans[0] if spans else None
        context = trace.set_span_in_context(parent) if parent is not None else None
        links = [Link(span.get_span_context()) for span in traced[1:]]
        attributes: dict[str, Any] = {
            "hot.batch.commands": len(commands),
            "db.system.name": "postgresql",
        }
        with self._tracer.start_as_current_span(
            "group commit", context=context, links=links, attributes=attributes
        ) as span:
            yield _TransactionSpan(span)
