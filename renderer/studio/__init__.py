"""`vbr studio`: a live preview of a project file in the browser.

The server has no render logic of its own: every frame, plan and export comes
from `renderer.api`. Modules, one job each:

    settings.py  what a studio serves (project, rows, options, address, token)
    security.py  the token and Host checks every request passes (ASGI middleware)
    session.py   the project as last loaded, its frames and thumbnails (in memory)
    jobs.py      the export running in a background thread, cancellable
    broker.py    events from any thread to every open page (Server-Sent Events)
    watch.py     the project's files watched; a save reloads the session
    images.py    pixels for each view mode, PNG bytes (pure functions)
    app.py       the routes
    server.py    uvicorn on a socket the studio bound itself (so port 0 works)
    static/      the page: plain HTML, CSS and JS, no build step

Starlette, uvicorn and watchfiles (the `studio` extra) are imported only here,
never by the rest of vbr.
"""
