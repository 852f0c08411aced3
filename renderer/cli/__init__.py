"""`vbr` command line: the only place that prints or exits.

Exit codes: 0 ok, 1 runtime failure, 2 invalid project or usage, 130 interrupted
(Ctrl-C), 141 stdout closed early (`vbr ... | head`), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Sequence

from renderer import __version__
from renderer.errors import UsageError, VbrError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INVALID = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a program whose reader went away
EXIT_TERMINATED = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so everything unwinds (and cleans up) as on Ctrl-C."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so usage errors share one path."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    from renderer.cli import batch, cache, models, plan, preview, render, schema, studio, validate

    parser = _Parser(prog="vbr", description="Declarative video background removal.")
    parser.add_argument("--version", action="version", version=f"vbr {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for unexpected errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in (render, batch, preview, plan, validate, models, cache, schema, studio):
        module.register(commands)
    return parser


def raw_main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    previous = _install(signal.SIGTERM, _on_sigterm)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help(sys.stderr)
            return EXIT_INVALID
        code = int(args.run(args))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return code
    except BrokenPipeError:
        _drop_stdout()
        return EXIT_BROKEN_PIPE
    except VbrError as exc:
        if debug:
            raise
        for line in exc.lines():
            print(line, file=sys.stderr)
        return exc.exit_code
    except Terminated:
        print("vbr: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("vbr: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # argparse --help / --version
        return int(exc.code or 0)
    except Exception as exc:
        if debug:
            raise
        print(f"vbr: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _drop_stdout() -> None:
    """stdout's reader is gone (`vbr models list | head`): the output is not wanted, so exit quietly.

    What is still buffered goes to /dev/null, so the interpreter's flush at exit
    cannot fail a second time and print a traceback of its own.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _install(signum: int, handler) -> object:
    """Set a handler from the main thread (elsewhere Python refuses); returns the one it replaced."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signum, handler)


def main(argv: Sequence[str] | None = None) -> int:
    return raw_main(argv)
