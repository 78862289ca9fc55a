"""A third party's API, stubbed: the program a `[tool.harness.stubs.<name>]` server runs.

    python -m harness.testing.stub_server --port 8190 --name mail \
        [--scope-header X-Correlation-ID] [--recordings mail.json]

Every request is kept in the journal of its *scope* (the value of the scope header, which
the service under test forwards; "default" without one) and answered with the next answer
scripted for that scope: a status, headers and body, after a delay, or no answer at all (the
connection reset, or dropped: closed). With none scripted, the recorded answer of the same
method and path; with none recorded, a 501 saying so. Scopes keep parallel tests apart.

Tests drive it over HTTP, under `/_harness/stub` (`harness.testing.Stub` is the client):

    GET    /_harness/stub                         its name and scope header
    POST   /_harness/stub/scopes/{scope}/script   queue an answer (JSON: status, headers,
                                                  body in base64, delay, fault, times)
    GET    /_harness/stub/scopes/{scope}/requests the scope's journal (method, path,
                                                  headers, body in base64)
    DELETE /_harness/stub/scopes/{scope}          forget its script and journal, and the
                                                  answers it is delaying

h11 frames HTTP; one request per connection (`Connection: close`), so the journal is exact.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h11

from harness.config import DEFAULT_SCOPE_HEADER, Recording, load_recordings, recording_for
from harness.exceptions import ConfigError
from harness.testing._http1 import MAX_HEAD, Answer, framed, plain, read_message, reset

CONTROL = "/_harness/stub"
DEFAULT_SCOPE = "default"
FAULTS = ("reset", "drop")


@dataclass
class Scripted:
    """One scripted answer, for the next `times` requests of its scope."""

    answer: Answer
    delay: float = 0.0
    fault: str | None = None  # "reset" or "drop": no answer at all
    times: int = 1


@dataclass
class Scope:
    script: deque[Scripted] = field(default_factory=deque)
    journal: list[dict[str, Any]] = field(default_factory=list)
    forgotten: asyncio.Event = field(default_factory=asyncio.Event)


class StubServer:
    """The stub's state: a scope per test, and what it answers when nothing is scripted."""

    def __init__(self, name: str, scope_header: str, recordings: list[Recording]) -> None:
        self.name = name
        self.scope_header = scope_header.lower().encode()
        self.recordings = recordings
        self.scopes: dict[str, Scope] = {}

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        try:
            message = await read_message(reader, connection)
            if message is None:
                return
            head, body = message
            assert isinstance(head, h11.Request)
            target = head.target.decode()
            if target == CONTROL or target.startswith(CONTROL + "/"):
                answer: Answer | None = self.control(head.method.decode(), target, body)
            else:
                answer = await self.stubbed(head, body, writer)
            if answer is not None:
                writer.write(framed(connection, answer))
                await writer.drain()
        except h11.RemoteProtocolError:
            writer.write(framed(connection, plain(400, "stub: not an HTTP/1.1 request")))
        except ConnectionError:
            pass  # the client went away
        finally:
            writer.close()

    # -- what the service under test gets -------------------------------------------------

    async def stubbed(
        self, head: h11.Request, body: bytes, writer: asyncio.StreamWriter
    ) -> Answer | None:
        """The answer to a request of the service under test; None when it gets none."""
        headers = [(n.decode(), v.decode("latin-1")) for n, v in head.headers.raw_items()]
        scope_name = next(
            (v.decode("latin-1") for n, v in head.headers if n == self.scope_header),
            DEFAULT_SCOPE,
        )
        scope = self.scopes.setdefault(scope_name, Scope())
        method, path = head.method.decode(), head.target.decode()
        scope.journal.append(
            {
                "method": method,
                "path": path,
                "headers": headers,
                "body": base64.b64encode(body).decode(),
            }
        )
        scripted = _take(scope.script)
        if scripted is None:
            return self.unscripted(method, path, scope_name)
        if scripted.delay and not await _waited(scope, scripted.delay):
            reset(writer)
            return None
        if scripted.fault == "reset":
            reset(writer)
            return None
        if scripted.fault == "drop":
            return None
        return scripted.answer

    def unscripted(self, method: str, path: str, scope: str) -> Answer:
        recording = recording_for(self.recordings, method, path)
        if recording is not None:
            response = recording.response
            return Answer(response.status, list(response.headers.items()), response.body)
        return plain(
            501,
            f"stub {self.name!r} has no answer for {method} {path} (scope {scope!r}): script "
            f"one (stubs[{self.name!r}].respond(...)) or record one in its recordings file",
        )

    # -- what tests drive it with ---------------------------------------------------------

    def control(self, method: str, target: str, body: bytes) -> Answer:
        parts = target[len(CONTROL) :].strip("/").split("/")
        if parts == [""] and method == "GET":
            return _json(200, {"name": self.name, "scope_header": self.scope_header.decode()})
        if len(parts) >= 2 and parts[0] == "scopes":
            scope, action = parts[1], "/".join(parts[2:])
            if (method, action) == ("DELETE", ""):
                self.forget(scope)
                return Answer(204, [], b"")
            if (method, action) == ("GET", "requests"):
                return _json(200, self.scopes.get(scope, Scope()).journal)
            if (method, action) == ("POST", "script"):
                try:
                    scripted = _scripted(json.loads(body))
                except (ValueError, TypeError, KeyError, binascii.Error) as exc:
                    return plain(400, f"stub {self.name!r}: not a scripted answer: {exc}")
                self.scopes.setdefault(scope, Scope()).script.append(scripted)
                return Answer(204, [], b"")
        return plain(404, f"stub {self.name!r}: no control request {method} {target}")

    def forget(self, name: str) -> None:
        """Drop a scope's script and journal; the answers it is delaying are never sent."""
        scope = self.scopes.pop(name, None)
        if scope is not None:
            scope.forgotten.set()


def _take(script: deque[Scripted]) -> Scripted | None:
    if not script:
        return None
    scripted = script[0]
    scripted.times -= 1
    if scripted.times == 0:
        script.popleft()
    return scripted


async def _waited(scope: Scope, seconds: float) -> bool:
    """Wait `seconds`; False when the scope is forgotten first."""
    try:
        await asyncio.wait_for(scope.forgotten.wait(), seconds)
    except TimeoutError:
        return True
    return False


def _scripted(raw: Any) -> Scripted:
    """A scripted answer from its JSON (as `harness.testing.Stub` sends it)."""
    if not isinstance(raw, dict):
        raise TypeError("expected a JSON object")
    status = raw.get("status", 200)
    delay, times, fault = raw.get("delay", 0), raw.get("times", 1), raw.get("fault")
    headers = raw.get("headers", {})
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"status {status!r} is not an HTTP status")
    if not isinstance(delay, int | float) or delay < 0:
        raise ValueError(f"delay {delay!r} is not a number of seconds")
    if not isinstance(times, int) or times < 1:
        raise ValueError(f"times {times!r}: an answer is for at least one request")
    if fault is not None and fault not in FAULTS:
        raise ValueError(f"fault {fault!r} is not one of {FAULTS}")
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ValueError("headers must be an object of strings")
    body = base64.b64decode(raw.get("body", ""), validate=True)
    return Scripted(Answer(status, list(headers.items()), body), float(delay), fault, times)


def _json(status: int, document: Any) -> Answer:
    return Answer(status, [("Content-Type", "application/json")], json.dumps(document).encode())


async def _serve(server: StubServer, port: int) -> None:
    listening = await asyncio.start_server(server.serve, "127.0.0.1", port, reuse_address=True)
    print(f"stub {server.name!r} listening on 127.0.0.1:{port}", flush=True)
    async with listening:
        await listening.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.testing.stub_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--scope-header", default=DEFAULT_SCOPE_HEADER)
    parser.add_argument("--recordings", type=Path)
    options = parser.parse_args(argv)
    try:
        recordings = load_recordings(options.recordings) if options.recordings else []
    except ConfigError as exc:
        print(f"stub {options.name!r}: {exc}", file=sys.stderr)
        return 2
    server = StubServer(options.name, options.scope_header, recordings)
    asyncio.run(_serve(server, options.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
