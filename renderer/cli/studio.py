"""`vbr studio PROJECT`: a live preview of a project file in the browser.

Starlette, uvicorn and watchfiles (the `studio` extra) load only when this
command runs, so `vbr --help` stays fast and a missing extra is one line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from renderer.cli.common import add_cache_options, add_device_options, add_set_option, set_values
from renderer.errors import UsageError

MISSING_EXTRA = "vbr studio needs the studio extra: pip install 'vbr[studio]'"


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("studio", help="preview a project live in the browser (reloads on save)")
    parser.add_argument("project", metavar="PROJECT")
    parser.add_argument("--rows", metavar="ROWS", help="a batch rows file (CSV/YAML/JSON): pick a row to see the template as it renders it")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8765, metavar="N", help="port to listen on (default 8765; 0 picks a free one)")
    parser.add_argument("--no-browser", action="store_true", help="print the address but do not open a browser")
    add_set_option(parser)
    add_device_options(parser)
    add_cache_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
        import watchfiles  # noqa: F401
    except ImportError:
        raise UsageError(MISSING_EXTRA) from None
    from renderer.api import Options
    from renderer.cli import Terminated
    from renderer.studio.security import is_loopback, new_token
    from renderer.studio.server import bind, serve, url
    from renderer.studio.settings import Settings

    project = Path(args.project)
    if not project.is_file():
        raise UsageError(f"vbr studio: {project}: no such file")
    rows = Path(args.rows) if args.rows else None
    if rows is not None and not rows.is_file():
        raise UsageError(f"vbr studio: --rows {rows}: no such file")
    if not 0 <= args.port <= 65535:
        raise UsageError("vbr studio: --port takes 0 to 65535")
    if args.threads is not None and args.threads < 1:
        raise UsageError("vbr: --threads must be at least 1")
    options = Options(cache_dir=args.cache_dir, device=args.device, threads=args.threads, pull=args.pull)
    options.resolved_device()  # an unusable --device is a usage error now, not on the first frame
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        raise UsageError(f"vbr studio: cannot listen on {args.host}:{args.port} ({exc.strerror or exc})") from None
    port = sock.getsockname()[1]
    settings = Settings(project=project, token=new_token(), host=args.host, port=port, rows=rows, options=options, values=set_values(args))
    address = url(args.host, port, settings.token)
    if not is_loopback(args.host):
        print(
            f"vbr studio: warning: listening on {args.host}: anyone who can reach this machine and learns the token "
            "can see your project and render it (the default, 127.0.0.1, is this machine only)",
            file=sys.stderr,
        )

    def ready() -> None:
        print(f"vbr studio: {address}", flush=True)
        print("vbr studio: Ctrl-C stops it", file=sys.stderr, flush=True)
        if not args.no_browser:
            import webbrowser

            webbrowser.open(address)

    try:
        serve(settings, sock, ready)
    except Terminated:
        raise
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a studio is meant to stop
    finally:
        sock.close()
    print("vbr studio: stopped", file=sys.stderr)
    return 0
