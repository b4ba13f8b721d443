"""Server-rendered pages (Jinja2 + vendored htmx, no build step). Adapters only: they call the same
services as the JSON API and hold no queries or business rules; templates only present.

Exports what ``app.py`` mounts: ``router`` (every page), ``STATIC_DIR`` (css, js, vendored htmx) and
``render_error`` (the HTML error handler for non-API paths).
"""

from scribetree.web.errors import render_error
from scribetree.web.pages import STATIC_DIR
from scribetree.web.routes import router

__all__ = ["STATIC_DIR", "render_error", "router"]
