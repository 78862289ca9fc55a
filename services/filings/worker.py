"""filings-worker: applies the queued status events to the database, in order, each once.

`python -m services.filings.worker --port PORT`: the second process of the filings service,
with no API but `GET /health` on its port (200 once it reads the queue). It reads batches
from the stream, applies each batch in one transaction and acknowledges it after the commit;
after a failure (the database or Redis away) it waits a second and reads its unacknowledged
entries again first, so no case's later event overtakes an earlier one. SIGTERM or SIGINT
lets it finish the batch in hand and exit.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pydantic import ValidationError
from redis import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from services.common.database import engine_for
from services.common.redis_connection import redis_from_env
from services.filings.applying import apply_events
from services.filings.events import QueuedEvent
from services.filings.queue import Entry, StatusQueue

BATCH = 100
BLOCK_MS = 100  # how long an idle read waits: also how late a SIGTERM is noticed
RETRY_SECONDS = 1.0
REDIS_TIMEOUT = 10.0  # beyond BLOCK_MS: a blocking read is not a timeout

log = logging.getLogger("filings-worker")


class Worker:
    """The loop: read, apply, acknowledge, until `stop` is set."""

    def __init__(
        self, queue: StatusQueue, sessions: sessionmaker[Session], stop: threading.Event
    ) -> None:
        self._queue = queue
        self._sessions = sessions
        self._stop = stop
        self.ready = threading.Event()

    def run(self) -> None:
        pending = True  # at start and after a failure: what was delivered but not acknowledged
        while not self._stop.is_set():
            try:
                if pending:
                    self._queue.ensure_group()  # a restarted Redis kept nothing
                    self.ready.set()
                entries = self._queue.read(pending=pending, count=BATCH, block_ms=BLOCK_MS)
                if pending and not entries:
                    pending = False
                    continue
                self._apply(entries)
            except (RedisError, SQLAlchemyError) as exc:
                log.warning("%s; retrying in %s s", exc, RETRY_SECONDS)
                pending = True
                self._stop.wait(RETRY_SECONDS)

    def _apply(self, entries: list[Entry]) -> None:
        """Apply a batch in one transaction, then acknowledge it; an entry that is not a
        status event goes to the dead letters."""
        events, entry_ids = [], []
        for entry_id, body in entries:
            try:
                events.append(QueuedEvent.model_validate_json(body or b""))
            except ValidationError as exc:
                log.error("entry %s is not a status event, moved to the dead letters", entry_id)
                self._queue.bury(entry_id, body, str(exc))
                continue
            entry_ids.append(entry_id)
        if not entry_ids:
            return
        with self._sessions.begin() as session:
            applied = apply_events(session, events)
        self._queue.acknowledge(entry_ids)
        log.info("applied %d of %d event(s)", applied, len(events))


def _health_handler(worker: Worker) -> type[BaseHTTPRequestHandler]:
    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/health":
                self.send_error(404)
                return
            ready = worker.ready.is_set()
            body = json.dumps(
                {
                    "status": "healthy" if ready else "starting",
                    "service": "filings-worker",
                    "timestamp": datetime.now(UTC).isoformat(),
                }
            ).encode()
            self.send_response(200 if ready else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # health polls are not worth a log line

    return Health


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.filings.worker")
    parser.add_argument("--port", type=int, required=True, help="the health endpoint's port")
    port = parser.parse_args(argv).port
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop.set())
    worker = Worker(
        StatusQueue(redis_from_env(socket_timeout=REDIS_TIMEOUT)),
        sessionmaker(engine_for(), expire_on_commit=False),
        stop,
    )
    server = ThreadingHTTPServer(("127.0.0.1", port), _health_handler(worker))
    serve = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="health", daemon=True
    )  # polls for shutdown every 50 ms: a SIGTERM ends it at once, not within 0.5 s
    serve.start()
    try:
        worker.run()
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
