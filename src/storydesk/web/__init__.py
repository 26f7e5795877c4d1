"""storydesk web: the REST API and the web UI over one store (``storydesk serve``).

>>> from storydesk.web import create_app        # doctest: +SKIP
>>> app = create_app("news.db", token="s3cret")  # an ASGI app for uvicorn
"""

from __future__ import annotations

from storydesk.web.app import create_app, serve

__all__ = ["create_app", "serve"]
