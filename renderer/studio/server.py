"""Serving the studio with uvicorn on a socket bound here, so the real port is known before it serves.

The socket is bound first (port 0 picks a free one), the app is made for that
exact address (its Host check needs it), then uvicorn serves it. Ctrl-C stops
the server: open event streams end, a running render is cancelled (leaving no
partial file), and `serve` returns.
"""

from __future__ import annotations

import socket
from typing import Any, Callable
from urllib.parse import quote

from renderer.studio.settings import Settings


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (0: any free port); OSError when it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def url(host: str, port: int, token: str) -> str:
    """The address to open: a wildcard bind is reached through loopback."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/?token={quote(token)}"


def make_server(settings: Settings, on_ready: Callable[[], None] = lambda: None, log_level: str = "warning") -> Any:
    """A uvicorn Server for the studio app; `server.run(sockets=[sock])` serves until stopped.

    `on_ready` runs once the app has started (the project loaded) and requests are answered.
    """
    import asyncio

    import uvicorn

    from renderer.studio.app import create_app

    app = create_app(settings)
    studio = app.state.studio

    class StudioServer(uvicorn.Server):
        loop: asyncio.AbstractEventLoop | None = None

        def handle_exit(self, sig: int, frame: Any) -> None:
            # End the event streams now: uvicorn would otherwise wait for them to close.
            if self.loop is not None:
                self.loop.call_soon_threadsafe(studio.stopping.set)
            super().handle_exit(sig, frame)

        async def startup(self, sockets: Any = None) -> None:
            self.loop = asyncio.get_running_loop()
            await super().startup(sockets=sockets)
            if self.started:
                on_ready()

    config = uvicorn.Config(
        app, log_level=log_level, access_log=False, timeout_graceful_shutdown=2, lifespan="on",
        server_header=False, date_header=False,
    )
    return StudioServer(config)


def serve(settings: Settings, sock: socket.socket, on_ready: Callable[[], None] = lambda: None) -> None:
    """Serve until Ctrl-C (or SIGTERM); uvicorn raises the signal again once it has shut down."""
    make_server(settings, on_ready).run(sockets=[sock])
