"""The order a list operation promises, as its contract states it: `x-order` on the operation.

`"x-order": ["case_id", "position"]` says the array the operation answers is sorted by its
items' `case_id`, then `position`, ascending (`"-saved_at"`: descending). SQLite hands rows
back in insertion order whether or not the query sorts; PostgreSQL does not (an updated row
comes back last), so the order is a promise to check on every answer, not to assume.
"""

from __future__ import annotations

from typing import Any

from harness.exceptions import ContractError

ORDER_KEY = "x-order"


def declared_order(operation: dict[str, Any], where: str) -> list[str]:
    """The operation's `x-order` (empty when it promises none); ContractError when malformed."""
    order = operation.get(ORDER_KEY, [])
    if not isinstance(order, list) or not all(
        isinstance(name, str) and name.lstrip("-") for name in order
    ):
        raise ContractError(
            f"{where}: {ORDER_KEY} must be a list of item field names ('-name' for descending), "
            f"got {order!r}"
        )
    return order


def order_problems(body: Any, order: list[str]) -> list[str]:
    """Where `body` (a JSON array of objects) breaks `order`; [] when it keeps it."""
    if not order or not isinstance(body, list):
        return []
    keys = []
    for index, item in enumerate(body):
        missing = [name.lstrip("-") for name in order if name.lstrip("-") not in _fields(item)]
        if missing:
            return [f"body[{index}] has no {', '.join(missing)}, which {ORDER_KEY} sorts by"]
        keys.append(
            tuple(_Sortable(item[name.lstrip("-")], name.startswith("-")) for name in order)
        )
    for index in range(1, len(keys)):
        if keys[index] < keys[index - 1]:
            before, after = body[index - 1], body[index]
            return [
                f"body is not in its documented order ({ORDER_KEY}: {', '.join(order)}): "
                f"body[{index - 1}] ({_shown(before, order)}) comes before "
                f"body[{index}] ({_shown(after, order)})"
            ]
    return []


def _fields(item: Any) -> dict[str, Any]:
    return item if isinstance(item, dict) else {}


def _shown(item: dict[str, Any], order: list[str]) -> str:
    return ", ".join(f"{name.lstrip('-')}={item[name.lstrip('-')]!r}" for name in order)


class _Sortable:
    """A field's value in a sort key: None first, descending fields reversed."""

    def __init__(self, value: Any, descending: bool) -> None:
        self.key = (value is not None, value)
        self.descending = descending

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Sortable) and self.key == other.key

    def __lt__(self, other: _Sortable) -> bool:
        return other.key < self.key if self.descending else self.key < other.key
