"""Errors of the application layer that are no rule of the domain."""

from __future__ import annotations


class DeadlineExceededError(Exception):
    """The store did not answer within the deadline: PostgreSQL is unreachable or swamped.

    A command abandoned so may still commit when the database answers again: a client
    that retries it with the same ``Idempotency-Key`` gets it recorded once.
    """
