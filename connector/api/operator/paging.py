"""limit/offset pagination with an RFC 8288 ``Link: rel="next"`` header."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response

LIMIT_MAX = 500
OFFSET_MAX = 2**31 - 1
"""The largest offset a list takes: more rows than any list holds, and within every SQL integer type (an unbounded
one reached the database: above 2**63 PostgreSQL and SQLite refused it, and the client got a 500)."""


class Paging:
    def __init__(
        self,
        request: Request,
        response: Response,
        limit: Annotated[int, Query(ge=1, le=LIMIT_MAX, description="Page size")] = 50,
        offset: Annotated[int, Query(ge=0, le=OFFSET_MAX, description="Items to skip")] = 0,
    ) -> None:
        self.request, self.response, self.limit, self.offset = request, response, limit, offset

    def link(self, total: int) -> None:
        if self.offset + self.limit < total:
            url = self.request.url.include_query_params(limit=self.limit, offset=self.offset + self.limit)
            self.response.headers["Link"] = f'<{url}>; rel="next"'


PagingDep = Annotated[Paging, Depends()]
