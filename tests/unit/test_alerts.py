"""A failed task is logged and, with ALERT_WEBHOOK_URL, posted to the webhook."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

from operations.alerts import notify_failure

CONTEXT = {
    "task_instance": SimpleNamespace(
        dag_id="contact_center_daily", task_id="audit", run_id="r1", try_number=1
    ),
    "dag_run": SimpleNamespace(run_id="r1"),
    "exception": RuntimeError("audit of 2026-10-09 failed: rule unknown_agents_below_threshold"),
}


def _no_warehouse(monkeypatch) -> list:
    """Recording in audit.task_failures is proved end to end (test_quality_gate.py)."""
    recorded = []
    monkeypatch.setattr("operations.alerts.record_failure", recorded.append)
    return recorded


def test_a_failure_is_posted_to_the_webhook(monkeypatch, caplog):
    recorded = _no_warehouse(monkeypatch)
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_address[1]}/hook")
    try:
        notify_failure(CONTEXT)
    finally:
        server.shutdown()
    assert received == [
        {
            "event": "task_failed",
            "dag_id": "contact_center_daily",
            "task_id": "audit",
            "run_id": "r1",
            "try_number": 1,
            "error": "audit of 2026-10-09 failed: rule unknown_agents_below_threshold",
        }
    ]
    assert "unknown_agents_below_threshold" in caplog.text
    assert recorded == received


def test_an_unreachable_webhook_is_logged_not_raised(monkeypatch, caplog):
    _no_warehouse(monkeypatch)
    monkeypatch.setenv("ALERT_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    notify_failure(CONTEXT)
    assert "could not deliver the failure notification" in caplog.text
