"""A consumer that takes a batch from its group and then hangs without acknowledging it.

Run as a subprocess by the consumer-group tests, and killed there with SIGKILL:
``python group_worker.py REDIS_URL PREFIX GROUP CONSUMER COUNT``. It takes exactly
COUNT entries, and then pushes their positions onto the list ``<PREFIX>:taken:<CONSUMER>``.
"""

from __future__ import annotations

import sys
import time

import redis

from hot_follow import ConsumerGroup


def main(redis_url: str, prefix: str, group: str, consumer: str, count: str) -> None:
    client = redis.Redis.from_url(redis_url)
    consumers = ConsumerGroup(client, group, consumer, prefix=prefix)
    consumers.create()
    wanted = int(count)
    taken: list[int] = []
    # A read hands out what the stream has so far, maybe less than COUNT while the relay
    # is still publishing (as on a busy machine): read on until COUNT are held.
    while len(taken) < wanted:
        consumers.count = wanted - len(taken)  # never more than COUNT in all
        taken += [d.event.position for d in consumers.read()]
    client.rpush(f"{prefix}:taken:{consumer}", *taken)
    time.sleep(3600)  # "working" forever: the entries stay pending until someone claims them


if __name__ == "__main__":
    main(*sys.argv[1:])
