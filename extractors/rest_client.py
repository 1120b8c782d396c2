"""HTTP client of a paginated JSON REST API: pagination and retries for transient errors."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

log = logging.getLogger(__name__)
TRANSIENT_STATUS = {429, 500, 502, 503, 504}


class ApiError(RuntimeError):
    pass


@dataclass(frozen=True)
class RestClient:
    base_url: str
    page_size: int = 500
    attempts: int = 4
    backoff_seconds: float = 0.5
    timeout_seconds: float = 30.0

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
                raise ApiError(f"GET {path}: next page {page!r} was already read")
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
                with urllib.request.urlopen(url, timeout=self.timeout_seconds) as response:
                    return json.load(response)
            except urllib.error.HTTPError as error:
                if error.code not in TRANSIENT_STATUS or attempt == self.attempts:
                    raise ApiError(f"GET {url} failed with HTTP {error.code}") from error
                wait = float(
                    error.headers.get("Retry-After") or self.backoff_seconds * 2 ** (attempt - 1)
                )
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                if attempt == self.attempts:
                    raise ApiError(f"GET {url} failed: {error}") from error
                wait = self.backoff_seconds * 2 ** (attempt - 1)
            log.warning(
                "CRM GET %s: transient failure, attempt %s, retrying in %.1fs", url, attempt, wait
            )
            time.sleep(wait)
        raise AssertionError("unreachable")
