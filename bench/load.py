"""A small HTTP/1.1 keep-alive load generator on asyncio streams (no third-party client in the measured path).

Each of ``connections`` workers sends GETs back to back for ``seconds``; latencies are per request.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass


@dataclass
class LoadResult:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    body_bytes: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


async def _worker(
    host: str,
    port: int,
    paths: list[str],
    headers: str,
    stop: float,
    lat: list[float],
    errors: list[int],
    sizes: list[int],
    offset: int,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = offset
    try:
        while time.perf_counter() < stop:
            path = paths[i % len(paths)]
            i += 1
            t0 = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{headers}\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = None
            chunked = False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                key = name.strip().lower()
                if key == b"content-length":
                    length = int(value.strip())
                elif key == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
            if chunked:
                size = 0
                while True:
                    n = int((await reader.readuntil(b"\r\n")).strip(), 16)
                    await reader.readexactly(n + 2)
                    size += n
                    if n == 0:
                        break
            else:
                await reader.readexactly(length or 0)
                size = length or 0
            lat.append(time.perf_counter() - t0)
            sizes.append(size)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


async def _run(
    host: str, port: int, paths: list[str], headers: dict[str, str], connections: int, seconds: float
) -> LoadResult:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    lat: list[float] = []
    errors: list[int] = []
    sizes: list[int] = []
    t0 = time.perf_counter()
    stop = t0 + seconds
    await asyncio.gather(
        *(_worker(host, port, paths, head, stop, lat, errors, sizes, k * 7) for k in range(connections))
    )
    elapsed = time.perf_counter() - t0
    lat.sort()
    return LoadResult(
        requests=len(lat),
        seconds=elapsed,
        errors=len(errors),
        p50_ms=statistics.median(lat) * 1000 if lat else float("nan"),
        p99_ms=lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else float("nan"),
        body_bytes=int(statistics.median(sizes)) if sizes else 0,
    )


def combine(results: list[LoadResult]) -> LoadResult:
    """Several runs of the same load as one: requests and seconds added (so the rate is over all of them), the
    median of their p50 and p99 latencies, their median body size."""
    return LoadResult(
        requests=sum(r.requests for r in results),
        seconds=sum(r.seconds for r in results),
        errors=sum(r.errors for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        body_bytes=int(statistics.median(r.body_bytes for r in results)),
    )


def load(
    host: str, port: int, paths: list[str], headers: dict[str, str], *, connections: int = 16, seconds: float = 3.0
) -> LoadResult:
    return asyncio.run(_run(host, port, paths, headers, connections, seconds))
