"""The CRM's API: tickets as the landing reads a page of them (extractors/daily.land_mappings
from a REST endpoint into the warehouse), each read alike by the Python reference
(tests/reference_reading.py); the REST client's retries and pagination."""

import json
import threading
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from extractors.batch import make_batch
from extractors.daily import land_mappings, table_columns
from extractors.deliveries import Places
from extractors.mapping import load_mapping
from extractors.rest_client import ApiError, RestClient
from extractors.settings import DEFAULT_MAPPINGS
from tests.reference_reading import RowParser, kept_rows, landed_rows, page_rows
from tests.sample_records import TICKET
from warehouse.connection import connect
from warehouse.landing import ContractError

MAPPING = load_mapping(DEFAULT_MAPPINGS / "crm_tickets.yml")
PARSER = RowParser(MAPPING)
COLUMNS = table_columns("crm_tickets")
DAY = date(2026, 10, 2)


class OnePageApi:
    """Serves `payload` as the only page of every endpoint."""

    def __init__(self, payload: dict):
        self.payload = payload

    def __enter__(self):
        body = json.dumps(self.payload).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _land(conn, folder, payload: dict):
    batch = make_batch("crm", DAY, MAPPING.timezone, "run", "extract_crm", datetime.now(UTC))
    with OnePageApi(payload) as url:
        return land_mappings(conn, batch, {"crm_tickets": MAPPING}, Places(folder, api_url=url))


@pytest.fixture
def land_page(clean_warehouse, tmp_path):
    """Land the records as one page of the tickets endpoint; the rows landed and
    quarantined, in page order, which must be the reference's reading of the page."""

    def rows(*records):
        payload = {"data": list(records), "next_page": None}
        with connect() as conn:
            _land(conn, tmp_path, payload)
            [page] = conn.execute("select source_object from raw.batch_manifest").fetchone()
            reference = kept_rows(page_rows(page, payload, PARSER))
            texts = {(r.source_object, r.position): r.raw_text for r in reference}
            landed = landed_rows(conn, "crm_tickets", COLUMNS, MAPPING.timezone, texts)
        assert landed == reference
        return landed

    return rows


@pytest.mark.integration
def test_a_good_ticket_parses(land_page):
    [row] = land_page(TICKET)
    assert row.values[0] == "TK1"
    assert row.values[10].isoformat() == "2026-10-02T09:00:00+08:00"
    assert row.values[COLUMNS.index("is_complaint")] is False


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("resolved_at", "2026-09-30T09:00:00+08:00", "resolved before it was created"),
        ("created_at", "2026-10-01T09:00:00", "has no time zone offset"),
        ("is_complaint", "no", "is_complaint: 'no' is not one of ['false', 'true']"),
        ("channel", "pigeon", "channel: 'pigeon' is not one of"),
        ("assignee_agent_id", "", "assignee_agent_id: required value is missing"),
        ("reopen_count", "twice", "reopen_count: 'twice' is not a whole number"),
    ],
)
@pytest.mark.integration
def test_bad_tickets_are_rejected_with_a_reason(land_page, field, value, reason):
    [row] = land_page(TICKET | {field: value})
    assert row.values is None
    assert reason in row.reason
    assert json.loads(row.raw_text)[field] == value


@pytest.mark.integration
def test_a_page_without_its_data_list_breaks_the_contract(clean_warehouse, tmp_path):
    with (
        connect() as conn,
        pytest.raises(ContractError, match="api_contract.*response has no 'data' list"),
    ):
        _land(conn, tmp_path, {"items": []})
    # The reference refuses it alike.
    with pytest.raises(ValueError, match="response has no 'data' list"):
        list(page_rows("GET /api/v1/tickets?page=1", {"items": []}, PARSER))


class FlakyApi:
    """Fails the first `failures` requests with `status`, then serves two pages."""

    def __init__(self, failures: int, status: int):
        self.failures, self.status, self.calls = failures, status, 0

    def __enter__(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                api.calls += 1
                if api.calls <= api.failures:
                    self.send_response(api.status)
                    self.send_header("Retry-After", "0")
                    self.end_headers()
                    return
                page = int(self.path.split("page=")[1].split("&")[0])
                body = json.dumps({"data": [{"n": page}], "next_page": 2 if page == 1 else None})
                self.send_response(200)
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("status", [429, 503])
def test_transient_errors_are_retried_then_every_page_is_read(status):
    api = FlakyApi(failures=2, status=status)
    with api as url:
        pages = list(RestClient(url, backoff_seconds=0.01).pages("/api/v1/tickets"))
    assert [p["data"] for _, p in pages] == [[{"n": 1}], [{"n": 2}]]
    assert api.calls == 4
    assert pages[1][0] == "GET /api/v1/tickets?page=2&page_size=500"


def test_a_persistent_error_fails_with_the_url():
    with FlakyApi(failures=99, status=503) as url, pytest.raises(ApiError, match="HTTP 503"):
        list(RestClient(url, attempts=3, backoff_seconds=0.01).pages("/api/v1/agents"))


def test_a_client_error_is_not_retried():
    api = FlakyApi(failures=1, status=404)
    with api as url, pytest.raises(ApiError, match="HTTP 404"):
        list(RestClient(url, backoff_seconds=0.01).pages("/api/v1/nothing"))
    assert api.calls == 1


class LoopingClient(RestClient):
    """An API whose pagination comes back to a page it already served."""

    def _get(self, url: str) -> dict:
        return {"data": [], "next_page": 2 if "page=1" in url else 1}


def test_a_pagination_that_loops_is_refused():
    pages = LoopingClient("http://crm.invalid").pages("/api/v1/tickets")
    assert next(pages)[0].startswith("GET /api/v1/tickets?page=1")
    assert next(pages)[0].startswith("GET /api/v1/tickets?page=2")
    with pytest.raises(ApiError, match="next page 1 was already read"):
        next(pages)
