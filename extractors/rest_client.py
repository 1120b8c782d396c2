"""HTTP client of a paginated JSON REST API: pagination, retries for transient errors, and
bounds on time and size.

Every request has a connect timeout, a read timeout (the longest silence allowed between
two reads) and a total deadline over the whole exchange (connecting, the headers and the
whole body): a server that drips a byte every few seconds fails at the deadline instead of
holding the run for ever. A request that times out or is dropped is transient and retried
like a 429 or a 5xx; `Retry-After`, in seconds or as an HTTP date, is honoured up to
`max_retry_after_seconds` (an unreadable one falls back to the backoff). A page's body is
read in chunks and a body larger than `max_page_bytes` stops the run: no more than the
limit and one chunk is ever held.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import json
import logging
import math
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from urllib.parse import urlencode

log = logging.getLogger(__name__)
TRANSIENT_STATUS = {429, 500, 502, 503, 504}
CHUNK_BYTES = 64 * 1024
# The defaults of a mapping's `delivery` (extractors/mapping.py ApiDelivery).
CONNECT_TIMEOUT_SECONDS = 10.0
READ_TIMEOUT_SECONDS = 30.0
TOTAL_TIMEOUT_SECONDS = 120.0
MAX_PAGE_BYTES = 32 * 1024 * 1024
MAX_RETRY_AFTER_SECONDS = 300.0


class ApiError(RuntimeError):
    """A request failed for good; `rule` says how: `source_deadline` (timed out),
    `page_size_limit`, `api_contract` (not JSON) or `source_reachable`."""

    def __init__(self, message: str, rule: str = "source_reachable"):
        super().__init__(message)
        self.rule = rule


class _Failure(Exception):
    """One attempt failed: whether it is worth another, and what the server asked."""

    def __init__(
        self, message: str, rule: str, transient: bool, retry_after: str | None = None
    ) -> None:
        super().__init__(message)
        self.rule, self.transient, self.retry_after = rule, transient, retry_after


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """The wait a `Retry-After` header asks for: delay-seconds or an HTTP date (a date
    already past is 0); None when there is none or it cannot be read."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:  # "-0000": UTC, no zone information
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - now).total_seconds())
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


class _Deadline:
    """The total deadline of one request: at its end every socket the request opened is
    shut down, which wakes a read blocked on a server that sends nothing or drips."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self._ends = time.monotonic() + seconds
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()

    def remaining(self) -> float:
        return self._ends - time.monotonic()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def check(self) -> None:
        if self.expired or self.remaining() <= 0:
            self.expired = True
            raise self.failure()

    def failure(self) -> _Failure:
        return _Failure(
            f"timed out: no complete response within {self.seconds:g}s (total_timeout_seconds)",
            "source_deadline",
            transient=True,
        )

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also under TLS: the reading thread owns the TLS state.
    with contextlib.suppress(OSError):  # already closed
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _ConnectTimeout(TimeoutError):
    pass


class _Bounded:
    """An HTTP(S) connection that connects within the connect timeout (the `timeout`
    urllib passes), then reads with the read timeout, its socket watched by the deadline."""

    def __init__(self, *args, read_timeout: float, deadline: _Deadline, **kwargs):
        super().__init__(*args, **kwargs)
        self._read_timeout, self._deadline = read_timeout, deadline

    def connect(self) -> None:
        try:
            super().connect()
        except TimeoutError as error:
            raise _ConnectTimeout(str(error)) from error
        self.sock.settimeout(self._read_timeout)
        self._deadline.watch(self.sock)


class _HTTPConnection(_Bounded, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_Bounded, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, **bounds):
        super().__init__()
        self._bounds = bounds

    def http_open(self, req):
        return self.do_open(partial(_HTTPConnection, **self._bounds), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, **bounds):
        super().__init__()
        self._bounds = bounds

    def https_open(self, req):
        return self.do_open(partial(_HTTPSConnection, **self._bounds), req, context=self._context)


@dataclass(frozen=True)
class RestClient:
    base_url: str
    page_size: int = 500
    attempts: int = 4
    backoff_seconds: float = 0.5
    connect_timeout_seconds: float = CONNECT_TIMEOUT_SECONDS
    read_timeout_seconds: float = READ_TIMEOUT_SECONDS
    total_timeout_seconds: float = TOTAL_TIMEOUT_SECONDS
    max_page_bytes: int = MAX_PAGE_BYTES
    max_retry_after_seconds: float = MAX_RETRY_AFTER_SECONDS
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def pages(
        self,
        path: str,
        params: dict[str, str] | None = None,
        *,
        page_param: str = "page",
        page_size_param: str = "page_size",
        page_size: int | None = None,
        next_page_key: str = "next_page",
    ) -> Iterator[tuple[str, dict]]:
        """Yield (source_object, payload) for every page of an endpoint, in order; the
        parameter and key names are the vendor mapping's."""
        page, seen = 1, set()
        while page is not None:
            if page in seen:
                # A page served twice would land its records twice (or loop for ever).
                raise ApiError(f"GET {path}: next page {page!r} was already read", "api_contract")
            seen.add(page)
            query = urlencode(
                {**(params or {}), page_param: page, page_size_param: page_size or self.page_size}
            )
            source_object = f"GET {path}?{query}"
            payload = self._get(f"{self.base_url.rstrip('/')}{path}?{query}")
            yield source_object, payload
            page = payload.get(next_page_key)

    def _get(self, url: str) -> dict:
        for attempt in range(1, self.attempts + 1):
            try:
                return self._attempt(url)
            except _Failure as failure:
                if not failure.transient or attempt == self.attempts:
                    tries = f" (after {attempt} attempts)" if attempt > 1 else ""
                    raise ApiError(f"GET {url} {failure}{tries}", failure.rule) from failure
                wait = self._wait(failure.retry_after, attempt)
                log.warning(
                    "GET %s: %s, attempt %s of %s, retrying in %.1fs",
                    url,
                    failure,
                    attempt,
                    self.attempts,
                    wait,
                )
            self.sleep(wait)
        raise AssertionError("unreachable")

    def _wait(self, retry_after: str | None, attempt: int) -> float:
        """What the server asked (capped at max_retry_after_seconds), else the backoff."""
        backoff = self.backoff_seconds * 2 ** (attempt - 1)
        asked = retry_after_seconds(retry_after, datetime.now(UTC))
        if asked is None:
            if retry_after is not None:
                log.warning("unreadable Retry-After %r: backing off %.1fs", retry_after, backoff)
            return backoff
        if asked > self.max_retry_after_seconds:
            log.warning(
                "Retry-After %r asks %.0fs: waiting the max_retry_after_seconds %.0fs",
                retry_after,
                asked,
                self.max_retry_after_seconds,
            )
        return min(asked, self.max_retry_after_seconds)

    def _attempt(self, url: str) -> dict:
        """One GET within the request's bounds: the page's JSON, or a _Failure."""
        with _Deadline(self.total_timeout_seconds) as deadline:
            opener = urllib.request.build_opener(
                _HTTPHandler(read_timeout=self.read_timeout_seconds, deadline=deadline),
                _HTTPSHandler(read_timeout=self.read_timeout_seconds, deadline=deadline),
            )
            try:
                timeout = min(self.connect_timeout_seconds, self.total_timeout_seconds)
                with opener.open(url, timeout=timeout) as response:
                    body = self._body(response, deadline)
            except _Failure:
                raise
            except urllib.error.HTTPError as error:
                error.close()
                raise _Failure(
                    f"failed with HTTP {error.code}",
                    "source_reachable",
                    transient=error.code in TRANSIENT_STATUS,
                    retry_after=error.headers.get("Retry-After"),
                ) from error
            except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
                raise self._transient(error, deadline) from error
        try:
            return json.loads(body)
        except ValueError as error:
            raise _Failure(
                f"failed: the response is not JSON: {error}", "api_contract", False
            ) from error

    def _body(self, response, deadline: _Deadline) -> bytearray:
        """The whole body, read a chunk at a time within the deadline and the page limit."""
        limit = self.max_page_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.strip().isdigit() and int(declared) > limit:
            raise self._too_large(f"declares {int(declared)} bytes")
        body = bytearray()
        while chunk := response.read1(CHUNK_BYTES):
            body += chunk
            if len(body) > limit:
                raise self._too_large(f"sent more than {limit} bytes")
            deadline.check()
        deadline.check()  # a read the deadline woke ends like the end of the body
        if response.length:  # the server closed before its Content-Length
            raise _Failure(
                f"failed: the connection closed {response.length} bytes short of the page",
                "source_reachable",
                transient=True,
            )
        return body

    def _too_large(self, what: str) -> _Failure:
        return _Failure(
            f"refused: the page {what}, over the limit of {self.max_page_bytes} bytes"
            " (max_page_bytes)",
            "page_size_limit",
            transient=False,
        )

    def _transient(self, error: BaseException, deadline: _Deadline) -> _Failure:
        reason = error.reason if isinstance(error, urllib.error.URLError) else error
        if deadline.expired or deadline.remaining() <= 0:
            return deadline.failure()
        if isinstance(reason, _ConnectTimeout):
            what = f"could not connect within {self.connect_timeout_seconds:g}s"
            return _Failure(f"timed out: {what} (connect_timeout_seconds)", "source_deadline", True)
        if isinstance(reason, TimeoutError):
            what = f"the server sent nothing for {self.read_timeout_seconds:g}s"
            return _Failure(f"timed out: {what} (read_timeout_seconds)", "source_deadline", True)
        return _Failure(f"failed: {reason}", "source_reachable", transient=True)
