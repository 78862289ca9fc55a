"""Tools for tests of a live stack: requests released at one moment (`send_at_once`), a
fault proxy in front of a service, WebSocket subscriptions to a service's streams, a
third party's API stubbed (`python -m harness.testing.stub_server`, driven by `Stub`), and a
delay server (`python -m harness.testing.delay_server`)."""

from typing import TYPE_CHECKING

from harness._lazy import public_names

if TYPE_CHECKING:
    from harness.testing._at_once import Call, send_at_once
    from harness.testing._faults import FaultProxy
    from harness.testing._stubs import Stub, StubMismatch, StubRequest, Stubs
    from harness.testing._websockets import ServiceStreams, Subscription
else:  # type checkers see the imports above; the package imports them on first use
    __all__, __getattr__ = public_names(__name__, __file__)
