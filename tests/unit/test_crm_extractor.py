import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from extractors.crm.client import CrmApiError, CrmClient
from extractors.crm.parse import page_rows
from extractors.mapping import RowParser, load_mapping
from extractors.settings import DEFAULT_MAPPINGS
from tests.sample_records import TICKET

PARSER = RowParser(load_mapping(DEFAULT_MAPPINGS / "crm_tickets.yml"))


def _rows(*records):
    return list(page_rows("GET /api/v1/tickets?page=1", {"data": list(records)}, PARSER))


def test_a_good_ticket_parses():
    [row] = _rows(TICKET)
    assert row.values[0] == "TK1"
    assert row.values[10].isoformat() == "2026-10-02T09:00:00+08:00"
    assert row.values[13] is False  # is_complaint


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
def test_bad_tickets_are_rejected_with_a_reason(field, value, reason):
    [row] = _rows(TICKET | {field: value})
    assert row.values is None
    assert reason in row.reason
    assert json.loads(row.raw_text)[field] == value


def test_a_page_without_its_data_list_breaks_the_contract():
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
        pages = list(CrmClient(url, backoff_seconds=0.01).pages("/api/v1/tickets"))
    assert [p["data"] for _, p in pages] == [[{"n": 1}], [{"n": 2}]]
    assert api.calls == 4
    assert pages[1][0] == "GET /api/v1/tickets?page=2&page_size=500"


def test_a_persistent_error_fails_with_the_url():
    with FlakyApi(failures=99, status=503) as url, pytest.raises(CrmApiError, match="HTTP 503"):
        list(CrmClient(url, attempts=3, backoff_seconds=0.01).pages("/api/v1/agents"))


def test_a_client_error_is_not_retried():
    api = FlakyApi(failures=1, status=404)
    with api as url, pytest.raises(CrmApiError, match="HTTP 404"):
        list(CrmClient(url, backoff_seconds=0.01).pages("/api/v1/nothing"))
    assert api.calls == 1


class LoopingClient(CrmClient):
    """An API whose pagination comes back to a page it already served."""

    def _get(self, url: str) -> dict:
        return {"data": [], "next_page": 2 if "page=1" in url else 1}


def test_a_pagination_that_loops_is_refused():
    pages = LoopingClient("http://crm.invalid").pages("/api/v1/tickets")
    assert next(pages)[0].startswith("GET /api/v1/tickets?page=1")
    assert next(pages)[0].startswith("GET /api/v1/tickets?page=2")
    with pytest.raises(CrmApiError, match="next page 1 was already read"):
        next(pages)
