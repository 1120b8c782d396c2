"""The simulated CRM's paginated REST API, served over HTTP on loopback.

    GET /api/v1/teams?page=N&page_size=M
    GET /api/v1/agents?page=N&page_size=M
    GET /api/v1/team_assignments?page=N&page_size=M
    GET /api/v1/tickets?updated_since=ISO&updated_before=ISO&page=N&page_size=M
    GET /api/v1/ticket_events?updated_since=ISO&updated_before=ISO&page=N&page_size=M

Tickets change after the day they were created (first response, resolution). The API
returns each ticket's state as of `updated_before` when its last change falls in
[updated_since, updated_before), ordered by (updated_at, ticket_id), so pages are stable.
Each response carries `page`, `page_size`, `total_pages` and `next_page`.
"""

from __future__ import annotations

import bisect
import json
import math
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from simulator.world import Ticket

TICKET_TIMES = ("created_at", "first_response_at", "resolved_at", "sla_due_at")


class CrmData:
    def __init__(self, folder: Path):
        self.teams = json.loads((folder / "teams.json").read_text())
        self.agents = json.loads((folder / "agents.json").read_text())
        self.assignments = json.loads((folder / "team_assignments.json").read_text())
        with (folder / "ticket_events.jsonl").open(encoding="utf-8") as handle:
            self.events = [json.loads(line) for line in handle]
        for event in self.events:
            event["occurred"] = datetime.fromisoformat(event["occurred_at"])
        self.tickets: list[Ticket] = []
        with (folder / "tickets.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                for key in TICKET_TIMES:
                    record[key] = datetime.fromisoformat(record[key])
                self.tickets.append(Ticket(**record))

        # Indexes by time, so a day's query reads that day's changes, not years of tickets.
        self._changes = sorted(
            (moment, index)
            for index, ticket in enumerate(self.tickets)
            for moment in ticket.change_times
        )
        self.events.sort(key=lambda e: (e["occurred"], e["event_id"]))
        self._event_times = [e["occurred"] for e in self.events]
        self._answers: dict[tuple, list[dict]] = {}  # an extract reads one query page by page

    def _answer(self, query: tuple, compute) -> list[dict]:
        if query not in self._answers:
            if len(self._answers) > 64:
                self._answers.clear()
            self._answers[query] = compute()
        return self._answers[query]

    def tickets_updated(self, since: datetime, before: datetime) -> list[dict]:
        return self._answer(("tickets", since, before), lambda: self._tickets(since, before))

    def _tickets(self, since: datetime, before: datetime) -> list[dict]:
        low = bisect.bisect_left(self._changes, (since,))
        high = bisect.bisect_left(self._changes, (before,))
        changed = {index for _, index in self._changes[low:high]}
        states = [self.tickets[index].state_as_of(before) for index in changed]
        states.sort(key=lambda s: (s["updated_at"], s["ticket_id"]))
        return [
            {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in s.items()}
            for s in states
        ]

    def events_between(self, since: datetime, before: datetime) -> list[dict]:
        low = bisect.bisect_left(self._event_times, since)
        high = bisect.bisect_left(self._event_times, before)
        return [{k: v for k, v in e.items() if k != "occurred"} for e in self.events[low:high]]


def _page(items: list, query: dict) -> dict:
    page = int(query.get("page", ["1"])[0])
    size = min(int(query.get("page_size", ["100"])[0]), 1000)
    total_pages = max(1, math.ceil(len(items) / size))
    return {
        "data": items[(page - 1) * size : page * size],
        "page": page,
        "page_size": size,
        "total_pages": total_pages,
        "next_page": page + 1 if page < total_pages else None,
    }


def make_handler(data: CrmData):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urlparse(self.path)
            query = parse_qs(url.query)
            try:
                if url.path == "/api/v1/teams":
                    body = _page(data.teams, query)
                elif url.path == "/api/v1/agents":
                    body = _page(data.agents, query)
                elif url.path == "/api/v1/team_assignments":
                    body = _page(data.assignments, query)
                elif url.path in ("/api/v1/tickets", "/api/v1/ticket_events"):
                    since = datetime.fromisoformat(query["updated_since"][0])
                    before = datetime.fromisoformat(query["updated_before"][0])
                    changed = (
                        data.tickets_updated
                        if url.path == "/api/v1/tickets"
                        else data.events_between
                    )
                    body = _page(changed(since, before), query)
                else:
                    return self._send(404, {"error": f"no such endpoint {url.path}"})
            except (KeyError, ValueError) as error:
                return self._send(400, {"error": f"bad request: {error}"})
            return self._send(200, body)

        def _send(self, status: int, body: dict) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format, *args):  # quiet: the extractor logs what it reads
            pass

    return Handler


class CrmApiServer:
    """Serve a simulated CRM folder on 127.0.0.1 in a background thread."""

    def __init__(self, folder: Path, port: int = 0):
        self._server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(CrmData(folder)))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> CrmApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def main() -> None:
    """python -m simulator.crm_api --folder .local/sample/crm [--port 8765]: serve until stopped."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(CrmData(args.folder)))
    print(f"simulated CRM API on http://127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
