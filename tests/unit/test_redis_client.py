"""Which key prefixes keep every key in one Redis Cluster slot, and who refuses the others."""

from __future__ import annotations

import pytest

from hot_follow import Feed
from hot_follow.redis_client import hash_tag, one_slot_problem


@pytest.mark.parametrize(
    ("key", "tag"),
    [
        ("{hot}:events", "hot"),
        ("prod{hot}:events:HUMAN_JOINED", "hot"),
        ("{a}{b}", "a"),  # the first braces only
        ("{}{hot}", None),  # empty first braces: the whole key is hashed
        ("hot}{x}", "x"),
        ("{hot", None),
        ("hot:events", None),
    ],
)
def test_the_hash_tag_is_what_redis_hashes(key: str, tag: str | None) -> None:
    assert hash_tag(key) == tag


def test_a_prefix_with_a_hash_tag_has_no_problem_and_one_without_is_told_the_braces() -> None:
    assert one_slot_problem("{hot}") is None
    problem = one_slot_problem("trantor")
    assert problem is not None
    assert "'{trantor}'" in problem


def test_a_follower_of_a_cluster_refuses_a_prefix_without_a_hash_tag_before_connecting() -> None:
    with pytest.raises(ValueError, match="Following a Redis Cluster: the key prefix 'hot'"):
        Feed.connect(
            "postgresql://postgres@127.0.0.1:9/none",  # never reached
            "redis://127.0.0.1:9",
            redis_cluster=True,
            prefix="hot",
        )
