"""Print HoT's events as another team's app follows them: one JSON object a line.

    python print_events.py --database-url postgresql://reader_x:...@db/hot \
        --redis-url redis://cache:6379/0 --names HUMAN_JOINED,HUMAN_LEFT

reads the history from ``hot_read`` (a role made by ``hot sql-access create`` is
enough), then follows the relay's Redis streams, and prints each event once, in log
order, its personal fields masked. ``--api-url`` with ``--token`` reads the HTTP API
instead (``--personal`` then shows personal fields, if the token has that scope).
``--caught-up`` prints the history up to the log's end, and stops.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from types import FrameType

from hot_follow import Feed, FollowerError
from hot_follow.representation import event_to_dict


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--database-url", help="a SQL reader's postgresql:// URL")
    source.add_argument("--api-url", help="HoT's API, e.g. http://hot:8000 (with --token)")
    parser.add_argument("--token", help="an API token (scope read; personal for --personal)")
    parser.add_argument("--redis-url", help="the relay's Redis (default: the source only)")
    parser.add_argument("--prefix", default="hot", help="the relay's stream prefix")
    parser.add_argument("--names", default="", help="event names, comma-separated (all)")
    parser.add_argument("--after", type=int, default=0, help="print the events after this")
    parser.add_argument("--personal", action="store_true", help="show personal fields")
    parser.add_argument("--caught-up", action="store_true", help="print the history, then stop")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    try:
        print_events(args)
    except (FollowerError, ValueError) as error:  # a name misspelt, a source refused...
        sys.exit(f"print_events: {error}")


def print_events(args: argparse.Namespace) -> None:
    names = [name for name in args.names.split(",") if name]
    feed = Feed.connect(
        args.database_url,
        args.redis_url,
        api_url=args.api_url,
        token=args.token,
        prefix=args.prefix,
    )
    try:
        if args.caught_up:  # the history only, page after page, to the log's end
            for page in feed.history(args.after, names, personal=args.personal):
                for event in page:
                    print(json.dumps(event_to_dict(event)), flush=True)
            return
        with feed.follow(args.after, names, personal=args.personal) as events:

            def stop(signum: int, frame: FrameType | None) -> None:
                events.stop()  # ends within a second

            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
            for event in events:
                print(json.dumps(event_to_dict(event)), flush=True)
    finally:
        feed.close()


if __name__ == "__main__":
    main()
