"""The client tests drive a stub server with (`harness.testing.stub_server`), one scope each.

    mail = stubs["mail"]                       # this test's scope of the stub named mail
    mail.respond(429, headers={"Retry-After": "1"})
    mail.respond(202, json={"id": "msg_1"})
    signature.post("/signature/email", json=..., headers=mail.headers)
    assert [r.header("Idempotency-Key") for r in mail.requests] == [key, key]

A scope is the value of the stub's scope header: the service under test forwards the one
the test sent it, so parallel tests (pytest-xdist workers) script and read only their own.
"""

from __future__ import annotations

import base64
import json as json_module
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from harness.config import Recording, StubConfig, recording_for, shape_differences
from harness.exceptions import HarnessError
from harness.testing.stub_server import CONTROL

CONTROL_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
_NOTHING = object()


class StubMismatch(HarnessError, AssertionError):
    """A request a service sent is not what the stub's recordings say it sends."""


@dataclass(frozen=True)
class StubRequest:
    """One request the stub received: method, path (with its query), headers, body."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header `name` (any case), or None."""
        return next((v for n, v in self.headers if n.lower() == name.lower()), None)

    def json(self) -> Any:
        return json_module.loads(self.body)


class Stub:
    """One stub server, seen from one scope: script its answers, read what it received."""

    def __init__(self, config: StubConfig, url: str, scope: str) -> None:
        self.name, self.url, self.scope = config.name, url, scope
        self._config = config
        self._control = httpx.Client(
            base_url=f"{url}{CONTROL}/scopes/{scope}",
            timeout=CONTROL_TIMEOUT,
            trust_env=False,
        )

    @property
    def headers(self) -> dict[str, str]:
        """What to send the service under test, so its calls to the stub are this scope's."""
        return {self._config.scope_header: self.scope}

    def respond(
        self,
        status: int = 200,
        *,
        json: Any = _NOTHING,
        body: bytes | str = b"",
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests with `status`, `headers` and a body (`json`
        encoded, or `body`), each after `delay` seconds."""
        headers = dict(headers or {})
        if json is not _NOTHING:
            body = json_module.dumps(json)
            headers.setdefault("Content-Type", "application/json")
        raw = body.encode() if isinstance(body, str) else body
        self._script(status=status, headers=headers, body=raw, delay=delay, times=times)

    def reset(self, times: int = 1) -> None:
        """Reset the connection of each of the next `times` requests: no answer, an RST."""
        self._script(fault="reset", times=times)

    def drop(self, times: int = 1) -> None:
        """Close the connection of each of the next `times` requests without an answer."""
        self._script(fault="drop", times=times)

    @property
    def requests(self) -> list[StubRequest]:
        """Every request of this scope so far, in order of arrival."""
        response = self._control.get("/requests")
        _check(response, self.name)
        return [
            StubRequest(
                item["method"],
                item["path"],
                [(name, value) for name, value in item["headers"]],
                base64.b64decode(item["body"]),
            )
            for item in response.json()
        ]

    def clear(self) -> None:
        """Forget this scope's script and journal; answers it is delaying are never sent."""
        _check(self._control.delete(""), self.name)

    def check_recorded(self, requests: Iterable[StubRequest] | None = None) -> None:
        """Every request (default: this scope's) has a recording of its method and path and
        the recorded request's shape: its headers, and its JSON fields and their types.
        Raises `StubMismatch` listing every difference."""
        recordings = self._config.recordings
        if not recordings:
            raise HarnessError(
                f"stub {self.name!r} has no recordings to check against; set "
                f"{self._config.server.key}.recordings"
            )
        problems = [
            problem
            for request in (self.requests if requests is None else requests)
            for problem in _differences(recordings, request)
        ]
        if problems:
            raise StubMismatch(
                f"stub {self.name!r}: what was sent is not what "
                f"{self._config.recordings_path} recorded:\n  " + "\n  ".join(problems)
            )

    def close(self) -> None:
        """Close the control client (the scope stays until `clear`)."""
        self._control.close()

    def _script(self, **answer: Any) -> None:
        if answer.get("times", 1) < 1:
            raise ValueError(f"times={answer['times']}: an answer is for at least one request")
        if "body" in answer:
            answer["body"] = base64.b64encode(answer["body"]).decode()
        _check(self._control.post("/script", json=answer), self.name)


def _differences(recordings: tuple[Recording, ...], request: StubRequest) -> list[str]:
    where = f"{request.method} {request.path}"
    recording = recording_for(list(recordings), request.method, request.path)
    if recording is None:
        return [f"{where}: no recording of this method and path"]
    return [
        f"{where}: {problem}"
        for problem in shape_differences(recording, request.headers, request.body)
    ]


def _check(response: httpx.Response, name: str) -> None:
    if response.status_code >= 300:
        raise HarnessError(
            f"stub {name!r} refused {response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text}"
        )


class Stubs:
    """The stack's stubs, by name, each in one scope (a test's): `stubs["mail"]`."""

    def __init__(self, configs: dict[str, StubConfig], urls: dict[str, str], scope: str) -> None:
        self._configs, self._urls, self.scope = configs, urls, scope
        self._made: dict[str, Stub] = {}

    def __getitem__(self, name: str) -> Stub:
        if name not in self._configs:
            raise KeyError(
                f"no stub {name!r} in [tool.harness.stubs]; stubs: {sorted(self._configs)}"
            )
        if name not in self._urls:
            raise KeyError(
                f"stub {name!r} is declared but not running in this stack (started before it "
                "was declared?); take the run down and bring it up again"
            )
        if name not in self._made:
            stub = Stub(self._configs[name], self._urls[name], self.scope)
            stub.clear()  # a scope is new, but a crashed run's may linger on a kept stack
            self._made[name] = stub
        return self._made[name]

    def close(self) -> None:
        """Forget every scope this test used, and close the clients: every stub's, whatever
        became of the others (the first error is raised after)."""
        errors: list[BaseException] = []
        for stub in self._made.values():
            try:
                stub.clear()
            except Exception as exc:
                errors.append(exc)
            finally:
                stub.close()
        if errors:
            raise errors[0]
