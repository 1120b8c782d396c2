"""Bounded time and size at the API source (extractors/rest_client.py): a server that
drips fails every request at its total deadline, retried, then stops the run naming the
source, table, URL and batch with nothing of the batch landed; `Retry-After` is read as
seconds or as an HTTP date and capped; a page over `max_page_bytes` stops the run without
the client reading the rest of it."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
import yaml

from extractors.daily import extract
from extractors.deliveries import api_client
from extractors.mapping import load_mapping
from extractors.rest_client import CHUNK_BYTES, ApiError, RestClient, retry_after_seconds
from extractors.settings import DEFAULT_MAPPINGS, SourceSettings
from tests.sample_records import TICKET
from warehouse.connection import connect
from warehouse.landing import ContractError

pytestmark = pytest.mark.integration
TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 10, 2)
BIG_BODY = 50 * 1024 * 1024


class ScriptedApi:
    """A loopback HTTP server whose handler is `respond(handler, call number)`; it counts
    the requests and, per request, the body bytes it managed to send."""

    def __init__(self, respond):
        self.calls = 0
        self.sent: list[int] = []
        self.stop = threading.Event()
        self.done = threading.Event()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                api.calls += 1
                try:
                    respond(self, api.calls, api)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up
                finally:
                    api.done.set()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    def __enter__(self) -> ScriptedApi:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def _page(handler, records=(TICKET,)):
    body = json.dumps({"data": list(records), "next_page": None}).encode()
    handler.send_response(200)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _drip_body(handler, call, api):
    """A 200 whose body comes one byte a second and never ends."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.end_headers()
    handler.wfile.write(b"{")
    while not api.stop.wait(1.0):
        handler.wfile.write(b" ")
        handler.wfile.flush()


def _drip_headers(handler, call, api):
    """A status line, then a header that never ends, a byte a second."""
    handler.wfile.write(b"HTTP/1.0 200 OK\r\nX-Slow: ")
    while not api.stop.wait(1.0):
        handler.wfile.write(b"a")
        handler.wfile.flush()


def _big_page(declared: bool):
    """A 200 of 50 MB, its length declared or not; records what it could send."""

    def respond(handler, call, api):
        handler.send_response(200)
        if declared:
            handler.send_header("Content-Length", str(BIG_BODY))
        handler.end_headers()
        sent, block = 0, b'{"data": [' + b"0," * (CHUNK_BYTES // 2)
        try:
            while sent < BIG_BODY:
                handler.wfile.write(block)
                sent += len(block)
        finally:
            api.sent.append(sent)

    return respond


def _mappings(tmp_path, name: str, **delivery):
    """A mappings folder holding the simulator's crm_tickets mapping with `delivery` keys."""
    folder = tmp_path / name
    folder.mkdir()
    source = DEFAULT_MAPPINGS / "crm_tickets.yml"
    document = yaml.safe_load(source.read_text())
    document["delivery"].update(delivery)
    (folder / "crm_tickets.yml").write_text(yaml.safe_dump(document, sort_keys=False))
    return folder


def _extract(tmp_path, mappings_dir, url: str, run: str) -> dict:
    settings = SourceSettings(
        landing_dir=tmp_path,
        crm_api_url=url,
        qa_db_path=tmp_path / "qa.sqlite",
        timezone="Asia/Shanghai",
        mappings_dir=mappings_dir,
        enabled_sources=("crm",),
    )
    start = datetime(DAY.year, DAY.month, DAY.day, tzinfo=TZ)
    return extract("crm", start, start + timedelta(days=1), run, "extract_crm", settings)


def _landed_batches() -> list[tuple[str, int]]:
    with connect() as conn:
        return conn.execute(
            "select batch_id, count(*) from raw.crm_tickets group by batch_id order by 1"
        ).fetchall()


# -- deadlines ----------------------------------------------------------------------------------


@pytest.mark.parametrize("drip", [_drip_body, _drip_headers], ids=["body", "headers"])
def test_a_dripping_server_fails_each_request_at_its_total_deadline(drip):
    deadline, attempts = 2.0, 2
    with ScriptedApi(drip) as api:
        client = RestClient(
            api.url,
            attempts=attempts,
            backoff_seconds=0.01,
            read_timeout_seconds=10.0,  # longer than the deadline: the total must fire
            total_timeout_seconds=deadline,
        )
        began = time.monotonic()
        with pytest.raises(ApiError) as caught:
            list(client.pages("/api/v1/tickets"))
        elapsed = time.monotonic() - began
    assert caught.value.rule == "source_deadline"
    message = str(caught.value)
    assert f"GET {api.url}/api/v1/tickets?page=1&page_size=500 timed out" in message
    assert "within 2s (total_timeout_seconds)" in message
    assert f"after {attempts} attempts" in message
    assert api.calls == attempts  # a timeout is transient: retried
    # Each attempt waited out its deadline, and no longer than a bound of it.
    assert attempts * deadline * 0.9 <= elapsed < 3 * attempts * deadline


def test_a_silent_server_fails_at_the_read_timeout():
    def silent(handler, call, api):
        handler.send_response(200)
        handler.end_headers()
        api.stop.wait(30)

    with ScriptedApi(silent) as api:
        client = RestClient(
            api.url, attempts=1, read_timeout_seconds=0.5, total_timeout_seconds=20.0
        )
        began = time.monotonic()
        with pytest.raises(ApiError, match=r"sent nothing for 0.5s \(read_timeout_seconds\)"):
            list(client.pages("/api/v1/agents"))
        assert time.monotonic() - began < 3 * 0.5


def test_a_dripping_crm_stops_the_extract_and_leaves_the_landed_batch(tmp_path, clean_warehouse):
    with ScriptedApi(lambda handler, call, api: _page(handler)) as good:
        first = _extract(tmp_path, _mappings(tmp_path, "fast"), good.url, "r1")
    assert first["rows_loaded"] == 1
    assert _landed_batches() == [("r1/extract_crm", 1)]

    mappings = _mappings(tmp_path, "slow", total_timeout_seconds=1)
    with ScriptedApi(_drip_body) as slow:
        began = time.monotonic()
        with pytest.raises(ContractError) as caught:
            _extract(tmp_path, mappings, slow.url, "r2")
        elapsed = time.monotonic() - began
    error = caught.value
    assert (error.source_system, error.batch_id, error.rule) == (
        "crm",
        "r2/extract_crm",
        "source_deadline",
    )
    message = str(error)
    assert message.startswith("[crm] batch r2/extract_crm broke rule 'source_deadline'")
    assert f"crm_tickets: GET {slow.url}/api/v1/tickets?updated_since=" in message
    assert "within 1s (total_timeout_seconds)" in message and "after 4 attempts" in message
    assert slow.calls == 4  # the client's retries, each cut at the mapping's deadline
    assert elapsed < 3 * (4 * 1 + 0.5 + 1 + 2)  # four deadlines and three backoffs
    # Nothing of the failed batch landed; the day's earlier batch is as it was.
    assert _landed_batches() == [("r1/extract_crm", 1)]
    with connect() as conn:
        manifest = conn.execute(
            "select distinct batch_id from raw.batch_manifest where source_system = 'crm'"
        ).fetchall()
    assert manifest == [("r1/extract_crm",)]


# -- Retry-After --------------------------------------------------------------------------------


def _throttled(retry_after: str, status: int = 429):
    def respond(handler, call, api):
        if call == 1:
            handler.send_response(status)
            handler.send_header("Retry-After", retry_after)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        _page(handler)

    return respond


def _waits(retry_after: str, **client) -> list[float]:
    """The sleeps the client asks for before reading a page the server throttled once."""
    waits: list[float] = []
    with ScriptedApi(_throttled(retry_after)) as api:
        pages = list(
            RestClient(api.url, backoff_seconds=0.25, sleep=waits.append, **client).pages("/x")
        )
    assert [p["data"] for _, p in pages] == [[TICKET]]  # then read, nothing lost
    assert api.calls == 2
    return waits


def test_a_retry_after_of_a_day_is_capped():
    assert _waits("86400") == [300.0]  # the default max_retry_after_seconds
    assert _waits("86400", max_retry_after_seconds=45) == [45.0]
    assert _waits("7") == [7.0]


def test_a_retry_after_given_as_an_http_date_is_read():
    ahead = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    [wait] = _waits(ahead)
    assert 28 <= wait <= 30  # the date has whole seconds
    tomorrow = format_datetime(datetime.now(UTC) + timedelta(days=1), usegmt=True)
    assert _waits(tomorrow, max_retry_after_seconds=60) == [60.0]


@pytest.mark.parametrize("value", ["garbage", "-5", "nan", "Wed, 99 Foo 2026 07:28:00 GMT"])
def test_an_unreadable_retry_after_falls_back_to_the_backoff(value):
    assert _waits(value) == [0.25]


def test_retry_after_values():
    now = datetime(2026, 10, 21, 7, 28, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds(" 0 ", now) == 0
    assert retry_after_seconds("Wed, 21 Oct 2026 07:30:00 GMT", now) == 120
    assert retry_after_seconds("Wed, 21 Oct 2026 07:30:00 -0000", now) == 120
    assert retry_after_seconds("Wed, 21 Oct 2026 07:00:00 GMT", now) == 0  # already past
    for unreadable in (None, "", "soon", "-1", "inf", "1e999"):
        assert retry_after_seconds(unreadable, now) is None


def test_the_mapping_sets_the_bounds_of_its_client(tmp_path):
    mapping = load_mapping(
        _mappings(
            tmp_path,
            "bounded",
            connect_timeout_seconds=3,
            read_timeout_seconds=4,
            total_timeout_seconds=5,
            max_retry_after_seconds=6,
            max_page_bytes=4096,
        )
        / "crm_tickets.yml"
    )
    client = api_client("http://crm.invalid", mapping.delivery)
    assert (
        client.connect_timeout_seconds,
        client.read_timeout_seconds,
        client.total_timeout_seconds,
        client.max_retry_after_seconds,
        client.max_page_bytes,
    ) == (3, 4, 5, 6, 4096)
    default = load_mapping(DEFAULT_MAPPINGS / "crm_tickets.yml").delivery
    assert api_client("http://crm.invalid", default) == RestClient("http://crm.invalid")


# -- page size ----------------------------------------------------------------------------------


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "no-length"])
def test_a_page_over_the_limit_stops_without_reading_the_rest(declared):
    limit = 1024 * 1024
    with ScriptedApi(_big_page(declared)) as api:
        client = RestClient(api.url, max_page_bytes=limit, backoff_seconds=0.01)
        with pytest.raises(ApiError) as caught:
            list(client.pages("/api/v1/tickets"))
        assert api.done.wait(10)
    assert caught.value.rule == "page_size_limit"
    assert f"over the limit of {limit} bytes (max_page_bytes)" in str(caught.value)
    assert api.calls == 1  # not retried: the same page would be as large again
    # The client hung up: the server could not send the whole body (what it sent beyond
    # the limit and one chunk sits in the kernel's socket buffers, unread).
    [sent] = api.sent
    assert sent < BIG_BODY / 2


def test_a_page_over_the_mapping_limit_stops_the_extract(tmp_path, clean_warehouse):
    mappings = _mappings(tmp_path, "small_pages", max_page_bytes=4096)
    with ScriptedApi(_big_page(declared=False)) as api:
        with pytest.raises(ContractError) as caught:
            _extract(tmp_path, mappings, api.url, "r1")
        assert api.done.wait(10)
    assert caught.value.rule == "page_size_limit"
    message = str(caught.value)
    assert message.startswith("[crm] batch r1/extract_crm broke rule 'page_size_limit'")
    assert f"crm_tickets: GET {api.url}/api/v1/tickets?" in message
    assert "over the limit of 4096 bytes (max_page_bytes)" in message
    assert api.calls == 1
    assert _landed_batches() == []
