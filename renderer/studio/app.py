"""The studio's routes. Every one is a fixed path: nothing a request names reaches the file system.

    GET  /                 the page (sets the token cookie)
    GET  /static/studio.js, /static/studio.css
    GET  /api/state        the session as JSON (project, errors, variables, rows, plan, render)
    GET  /api/frame?i=N&mode=M   output frame N as PNG, in a view mode
    GET  /api/frame-info?i=N     how many masks frame N needs inferred (0: it is quick)
    GET  /api/thumb?k=K    the K-th thumbnail as PNG; 204 while its masks are not cached
    POST /api/values       {"values": {name: text}}: the variables form
    POST /api/row          {"line": N | null}: the row picker
    POST /api/render       start the export;  POST /api/render/cancel  stop it
    GET  /api/output       the export file (the project's own export path), with Range support; not a PNG sequence (a folder)
    GET  /api/events       Server-Sent Events: state, render, warning
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
from importlib import resources
from typing import Any, AsyncIterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from renderer.studio import images
from renderer.studio.broker import Broker, sse
from renderer.studio.jobs import RenderJob, RenderState
from renderer.studio.security import Guard, cookie_name
from renderer.studio.session import NoProject, Session
from renderer.studio.settings import Settings
from renderer.studio.watch import watch

log = logging.getLogger("vbr.studio")

STATIC = {  # URL path -> (file in renderer/studio/static, content type)
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/studio.js": ("studio.js", "text/javascript; charset=utf-8"),
    "/static/studio.css": ("studio.css", "text/css; charset=utf-8"),
}
VIDEO_TYPES = {"webm": "video/webm", "mp4": "video/mp4", "mov": "video/quicktime"}
HEARTBEAT_S = 15.0
NO_STORE = {"Cache-Control": "no-store"}


class Studio:
    """What the routes share: the session, the render job, the event broker, the watcher."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.broker = Broker()
        self.session = Session(settings, self.broker.publish)
        self.job: RenderJob | None = None
        self.stopping = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None

    @property
    def render_state(self) -> RenderState:
        return self.job.state if self.job is not None else RenderState()

    async def start(self) -> None:
        self.stopping = asyncio.Event()
        await run_in_threadpool(self.session.reload)
        self._watcher = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        self.stopping.set()
        if self.job is not None:
            self.job.cancel()
            await run_in_threadpool(self.job.join, 30)
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watcher

    async def _watch(self) -> None:
        async def reload() -> None:
            await run_in_threadpool(self.session.reload)

        while not self.stopping.is_set():
            try:
                await watch(lambda: self.session.snapshot.watched, reload, self.stopping)
            except asyncio.CancelledError:
                raise
            except Exception:  # a watched folder vanished, say: look again shortly
                log.exception("watching the project's files failed; retrying")
                await asyncio.sleep(1)

    def start_render(self) -> RenderState:
        if self.job is not None and self.job.running:
            raise RuntimeError("a render is running")
        project = self.session.project()
        self.job = RenderJob(project, self.broker.publish, lambda state: self.session.refresh_plan())
        self.job.start()
        return self.job.state


def create_app(settings: Settings) -> Starlette:
    studio = Studio(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await studio.start()
        try:
            yield
        finally:
            await studio.stop()

    async def page(request: Request) -> Response:
        name, kind = STATIC[request.url.path]
        body = resources.files("renderer.studio.static").joinpath(name).read_bytes()
        response = Response(body, media_type=kind, headers=NO_STORE)
        if request.url.path == "/":
            response.set_cookie(
                cookie_name(settings.port), settings.token, httponly=True, samesite="strict", path="/"
            )
        return response

    async def state(request: Request) -> Response:
        body = studio.session.state()
        body["render"] = studio.render_state.to_json()
        return JSONResponse(body, headers=NO_STORE)

    async def frame(request: Request) -> Response:
        index, problem = _int_param(request, "i")
        if problem:
            return problem
        mode = request.query_params.get("mode", "composite")
        if mode not in images.MODES:
            return _error(400, f"mode: one of {', '.join(images.MODES)}")
        inferred = 0  # masks inferred by this request
        try:
            shown = studio.session.cached_frame(index)
            if shown is None:
                shown = await run_in_threadpool(studio.session.frame, index)
                inferred = shown.inferred
        except NoProject as exc:
            return JSONResponse({"errors": list(exc.errors)}, status_code=409, headers=NO_STORE)
        except IndexError as exc:
            return _error(404, str(exc))
        except Exception as exc:  # VbrError (a source that stops decoding...): shown in place of the frame
            return JSONResponse({"errors": _lines(exc)}, status_code=422, headers=NO_STORE)
        if inferred:
            asyncio.get_running_loop().run_in_executor(None, studio.session.refresh_plan)
        data = await run_in_threadpool(
            lambda: images.png(images.view(mode, shown.image, shown.source, shown.matte))
        )
        headers = {**NO_STORE, "X-Vbr-Frame": str(shown.index), "X-Vbr-Exact": str(shown.exact).lower(),
                   "X-Vbr-Inferred": str(inferred)}
        return Response(data, media_type="image/png", headers=headers)

    async def frame_info(request: Request) -> Response:
        index, problem = _int_param(request, "i")
        if problem:
            return problem
        if studio.session.cached_frame(index) is not None:
            return JSONResponse({"index": index, "masks_to_infer": 0, "ready": True}, headers=NO_STORE)
        try:
            count = await run_in_threadpool(studio.session.masks_to_infer, index)
        except NoProject as exc:
            return JSONResponse({"errors": list(exc.errors)}, status_code=409, headers=NO_STORE)
        except IndexError as exc:
            return _error(404, str(exc))
        except Exception as exc:
            return JSONResponse({"errors": _lines(exc)}, status_code=422, headers=NO_STORE)
        return JSONResponse({"index": index, "masks_to_infer": count, "ready": False}, headers=NO_STORE)

    async def thumb(request: Request) -> Response:
        k, problem = _int_param(request, "k")
        if problem:
            return problem
        try:
            data = await run_in_threadpool(studio.session.thumbnail, k)
        except NoProject as exc:
            return JSONResponse({"errors": list(exc.errors)}, status_code=409, headers=NO_STORE)
        except IndexError:
            return _error(404, f"no thumbnail {k}")
        except Exception as exc:
            return JSONResponse({"errors": _lines(exc)}, status_code=422, headers=NO_STORE)
        if data is None:
            return Response(status_code=204, headers=NO_STORE)  # masks not cached: the page shows a placeholder
        return Response(data, media_type="image/png", headers=NO_STORE)

    async def values(request: Request) -> Response:
        body = await _json(request)
        given = body.get("values") if isinstance(body, dict) else None
        if not isinstance(given, dict) or not all(isinstance(k, str) and isinstance(v, (str, int, float, bool)) for k, v in given.items()):
            return _error(400, 'expected {"values": {"name": "text", ...}}')
        texts = {name: _text(value) for name, value in given.items()}
        snapshot = await run_in_threadpool(studio.session.set_values, texts)
        return JSONResponse({"version": snapshot.version, "errors": list(snapshot.errors)}, headers=NO_STORE)

    async def row(request: Request) -> Response:
        body = await _json(request)
        line = body.get("line") if isinstance(body, dict) else None
        if settings.rows is None:
            return _error(409, "the studio was started without --rows")
        if line is not None and (not isinstance(line, int) or isinstance(line, bool)):
            return _error(400, 'expected {"line": N} or {"line": null}')
        snapshot = await run_in_threadpool(studio.session.select_row, line)
        return JSONResponse({"version": snapshot.version, "errors": list(snapshot.errors)}, headers=NO_STORE)

    async def render(request: Request) -> Response:
        try:
            started = studio.start_render()
        except NoProject as exc:
            return JSONResponse({"errors": list(exc.errors)}, status_code=409, headers=NO_STORE)
        except RuntimeError as exc:
            return _error(409, str(exc))
        return JSONResponse(started.to_json(), status_code=202, headers=NO_STORE)

    async def cancel(request: Request) -> Response:
        if studio.job is None or not studio.job.running:
            return _error(409, "no render is running")
        studio.job.cancel()
        return JSONResponse({"cancelling": True}, status_code=202, headers=NO_STORE)

    async def output(request: Request) -> Response:
        snapshot = studio.session.snapshot
        if snapshot.project is None:
            return _error(404, "the project does not load")
        path = snapshot.project.loaded.export  # the project's own export path: nothing from the request
        if studio.job is not None and studio.job.running and studio.job.project.loaded.export == path:
            return _error(409, "the export is being rendered")
        if snapshot.project.loaded.format == "png":
            return _error(404, f"a PNG sequence is a folder of files, not served here: open {path} in an editor")
        if not path.is_file():
            return _error(404, "not rendered yet")
        kind = VIDEO_TYPES.get(snapshot.project.loaded.format) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return FileResponse(path, media_type=kind, headers=NO_STORE)

    async def events(request: Request) -> Response:
        async def stream() -> AsyncIterator[bytes]:
            async with studio.broker.subscribe() as queue:
                yield sse("hello", {"version": studio.session.snapshot.version})
                while not studio.stopping.is_set():
                    try:
                        kind, data = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
                    except asyncio.TimeoutError:
                        yield b": keep-alive\n\n"
                        continue
                    yield sse(kind, data)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={**NO_STORE, "X-Accel-Buffering": "no"}
        )

    routes = [Route(path, page) for path in STATIC] + [
        Route("/api/state", state),
        Route("/api/frame", frame),
        Route("/api/frame-info", frame_info),
        Route("/api/thumb", thumb),
        Route("/api/values", values, methods=["POST"]),
        Route("/api/row", row, methods=["POST"]),
        Route("/api/render", render, methods=["POST"]),
        Route("/api/render/cancel", cancel, methods=["POST"]),
        Route("/api/output", output),
        Route("/api/events", events),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Guard, token=settings.token, host=settings.host, port=settings.port)],
        lifespan=lifespan,
    )
    app.state.studio = studio
    return app


def _int_param(request: Request, name: str) -> tuple[int, Response | None]:
    raw = request.query_params.get(name, "")
    try:
        return int(raw), None
    except ValueError:
        return 0, _error(400, f"{name}: an integer, not {raw!r}")


def _error(status: int, message: str) -> Response:
    return JSONResponse({"errors": [message]}, status_code=status, headers=NO_STORE)


def _lines(exc: Exception) -> list[str]:
    lines = getattr(exc, "lines", None)
    return list(lines()) if callable(lines) else [f"internal error: {type(exc).__name__}: {exc}"]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None
