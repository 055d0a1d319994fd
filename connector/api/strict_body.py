"""Request bodies parsed with the strict JSON parser: a route class for every router that takes a JSON body.

FastAPI reads a JSON body with ``json.loads``: the last of two members with the same name wins, and NaN, Infinity and
``1e999999`` (read as infinity) pass. :class:`StrictJsonRoute` gives its endpoints a request whose ``json()`` is
:func:`~connector.strict_json.strict_json_loads`; what it refuses becomes FastAPI's ``json_invalid`` error, which
the app answers with a 400 problem (or PACT's error body on PACT paths).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from ..strict_json import strict_json_loads


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = strict_json_loads(body)
            except json.JSONDecodeError:
                raise
            except (ValueError, RecursionError) as exc:  # a duplicate member, NaN, a number out of range, not UTF-8
                raise json.JSONDecodeError(str(exc), body.decode("utf-8", "replace"), 0) from None
        return self._json


class StrictJsonRoute(APIRoute):
    """An APIRoute whose endpoint reads its JSON body strictly (see the module)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict_handler
