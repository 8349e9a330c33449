"""``hot``: the one entry point for everything HoT runs.

Subcommands are imported only when called: ``hot keys`` should not pay for importing
Litestar, uvicorn and the follower library (seconds on a busy machine).

Every error is one line on stderr, ``hot ...: what went wrong``: exit status 2 for a
usage error (see ``--help``), 1 for any other; ``-v`` shows an unexpected error's
traceback too.
"""

from __future__ import annotations

import errno
import importlib
import logging
import sys
import warnings
from typing import Any, NoReturn

import click

# name -> "module:attribute" of each subcommand, and what it does (``hot --help`` lists
# these without importing any subcommand; a test holds them equal to each one's help)
SUBCOMMANDS = {
    "catalog": "hot.cli.catalog:catalog",
    "forget": "hot.cli.personal:forget",
    "import": "hot.cli.importing:import_",
    "info": "hot.cli.info:info",
    "keys": "hot.cli.keys:keys",
    "migrate": "hot.cli.personal:migrate",
    "relay": "hot.cli.relay:relay",
    "serve": "hot.cli.serve:serve",
    "sql-access": "hot.cli.sql_access:sql_access",
    "status": "hot.cli.status:status",
    "tail": "hot.cli.tail:tail",
}
SUMMARIES = {
    "catalog": "Print every event name and version, with its description and payload schema.",
    "forget": "Forget a human: destroy their personal data for good, keep the facts.",
    "import": "Post a JSON Lines file of envelopes to the API, each recorded once (resumable).",
    "info": "Print the database and Redis URLs, and the streams' names, that followers use.",
    "keys": "Manage API keys (bearer tokens with scopes read, write, personal, catalog, admin).",
    "migrate": "Seal personal data stored in clear before encryption existed (resumable).",
    "relay": "Publish every event of the log into Redis streams, until SIGTERM or Ctrl-C.",
    "serve": "Serve the HTTP API (OpenAPI document and UI at /schema).",
    "sql-access": "Manage SQL readers: login roles that may read hot_read and nothing else.",
    "status": "One screen: servers, log head, relay, streams, hot_read, projections, API keys.",
    "tail": "Print events as they are recorded (after --after, or from now), until Ctrl-C.",
}


USAGE_ERROR = 2  # exit status of a command line that is wrong; any other error exits 1
QUIET_LOGGERS = ("pgserver", "httpx", "httpcore")  # narrate every start or request at INFO


class LazyGroup(click.Group):
    """A group whose subcommands are imported the first time they are asked for, and
    whose errors are each one line (see the module docstring)."""

    verbose = False  # set by ``-v``: an unexpected error shows its traceback

    def main(self, *args: Any, **kwargs: Any) -> NoReturn:
        kwargs["standalone_mode"] = False  # errors come here, not to click's printing
        try:
            returned = super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as error:  # ``hot`` alone: its help
            _fail(error.format_message(), USAGE_ERROR)
        except click.UsageError as error:
            where = error.ctx.command_path if error.ctx else "hot"
            _fail(f"{where}: {error.format_message()} (see {where} --help)", USAGE_ERROR)
        except click.ClickException as error:
            _fail(f"hot: {error.format_message()}", error.exit_code)
        except (click.Abort, KeyboardInterrupt):
            _fail("hot: aborted", 1)
        except OSError as error:
            if error.errno == errno.EPIPE:  # the reader went away (``hot tail | head``)
                sys.stdout = None  # nothing left to flush
                sys.exit(1)
            self._unexpected(error)
        except Exception as error:
            self._unexpected(error)
        sys.exit(returned if isinstance(returned, int) else 0)

    def _unexpected(self, error: Exception) -> NoReturn:
        if self.verbose:
            raise error
        first_line = next((line for line in str(error).splitlines() if line.strip()), "")
        message = f"hot: {first_line or type(error).__name__}"
        if not type(error).__module__.startswith(("hot.", "hot_follow.")):  # HoT's say it all
            message += " (-v shows where)"
        _fail(message, 1)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *SUBCOMMANDS})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The subcommands and what each does, from ``SUMMARIES``: none is imported."""
        width = formatter.width - 6 - max(len(name) for name in SUMMARIES)
        rows = [
            (name, click.Command(name, help=summary).get_short_help_str(width))
            for name, summary in sorted(SUMMARIES.items())
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in SUBCOMMANDS:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = SUBCOMMANDS[cmd_name].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{SUBCOMMANDS[cmd_name]} is not a click command")
        return command


@click.group(cls=LazyGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log at debug level.")
def main(verbose: bool) -> None:
    """HoT: the history of the humans of Trantor, as events."""
    from hot.infra.logs import configure_logging  # not for ``hot --help``
    from hot.infra.settings import SettingsError, log_format

    LazyGroup.verbose = verbose
    try:
        chosen = log_format()
    except SettingsError as error:
        raise click.UsageError(str(error)) from None
    configure_logging(logging.DEBUG if verbose else logging.INFO, chosen)
    if not verbose:
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    # pgserver's lock directory falls back to /tmp without XDG_RUNTIME_DIR: harmless.
    warnings.filterwarnings("ignore", module="platformdirs")


def _fail(message: str, status: int) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(status)
