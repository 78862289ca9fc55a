"""Checked-in contract documents: canonical form, drift against a live service, base revisions.

A contract is a service's OpenAPI document kept in the repository as canonical JSON
(sorted keys, two-space indent). The checked-in copy is the contract: the live
`/openapi.json` must equal it (drift), and it may only break what a base revision
promised with a major version bump (see `harness.contracts._breaking`).
"""

from __future__ import annotations

import difflib
import json
import subprocess
from pathlib import Path

import httpx

from harness.config import HarnessConfig
from harness.contracts._breaking import Document, Verdict, judge
from harness.exceptions import ContractError

_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def canonical(document: Document) -> str:
    """The one text form of a document: sorted keys, two-space indent, final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load_contract(path: Path) -> Document:
    """The checked-in contract at `path`; ContractError saying how to create it when missing."""
    try:
        document: Document = json.loads(path.read_text())
    except FileNotFoundError:
        raise ContractError(
            f"{path}: no checked-in contract; write it with `invoke contracts.export`"
        ) from None
    except json.JSONDecodeError as exc:
        raise ContractError(f"{path}: not valid JSON ({exc}); re-export it") from None
    return document


def with_framework_statuses(document: Document, statuses: tuple[int, ...]) -> Document:
    """A copy of `document` where every operation also answers `statuses` (what the
    framework adds on any route, e.g. FastAPI's 422), with no body promised."""
    if not statuses:
        return document
    copied: Document = json.loads(json.dumps(document))
    for item in copied.get("paths", {}).values():
        for method, operation in item.items():
            if method in _METHODS and isinstance(operation, dict):
                responses = operation.setdefault("responses", {})
                for status in statuses:
                    responses.setdefault(str(status), {"description": "answered by the framework"})
    return copied


def write_contract(path: Path, document: Document) -> bool:
    """Write `document` in canonical form; True when the file changed."""
    text = canonical(document)
    if path.is_file() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


def fetch_document(base_url: str, openapi_path: str) -> Document:
    """A live service's contract document (OpenAPI, or AsyncAPI for its streams)."""
    url = base_url.rstrip("/") + openapi_path
    try:
        response = httpx.get(url, timeout=10.0)
        response.raise_for_status()
        document: Document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ContractError(f"cannot read the contract document at {url}: {exc}") from None
    return document


def drift(contract: Document, live: Document, label: str) -> str:
    """A unified diff from the checked-in contract to the live document; '' when they agree."""
    if contract == live:
        return ""
    return "".join(
        difflib.unified_diff(
            canonical(contract).splitlines(keepends=True),
            canonical(live).splitlines(keepends=True),
            fromfile=f"{label} (checked in)",
            tofile=f"{label} (live service)",
        )
    )


def merge_base(root: Path, branch: str) -> str:
    """The commit where HEAD left `branch` (or `origin/<branch>`): the default base revision."""
    for ref in (branch, f"origin/{branch}"):
        result = _git(root, "merge-base", "HEAD", ref)
        if result.returncode == 0:
            return result.stdout.strip()
    raise ContractError(
        f"no merge base of HEAD with {branch!r} or 'origin/{branch}' in {root}; "
        "fetch that branch, or name a base revision (--base REV)"
    )


def base_revision(config: HarnessConfig, base: str | None) -> str:
    """The commit breaking changes are judged against: `base` if given (checked to be a
    commit), else the merge base with the configured base branch."""
    if base is None:
        return merge_base(config.root, config.contracts.base_branch)
    result = _git(config.root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    if result.returncode != 0:
        raise ContractError(f"{base!r} is not a commit of the repository at {config.root}")
    return result.stdout.strip()


def contract_at(root: Path, path: Path, revision: str) -> Document | None:
    """The contract at `path` as it was at `revision`; None when it did not exist then.

    `root` may be anywhere in its git repository (a pyproject.toml in a subdirectory): the
    path is given to git relative to it. A lookup git cannot answer is a ContractError,
    never "new contract, nothing to break".
    """
    relative = "./" + path.resolve().relative_to(root.resolve()).as_posix()
    listed = _git(root, "ls-tree", "--name-only", revision, "--", relative)
    if listed.returncode != 0:
        raise ContractError(
            f"cannot look up {relative} at {revision[:12]} in the git repository at {root}: "
            f"{listed.stderr.strip() or 'git failed'}"
        )
    if not listed.stdout.strip():
        return None
    shown = _git(root, "show", f"{revision}:{relative}")
    if shown.returncode != 0:
        raise ContractError(
            f"cannot read {relative} at {revision[:12]}: {shown.stderr.strip() or 'git failed'}"
        )
    try:
        document: Document = json.loads(shown.stdout)
    except json.JSONDecodeError as exc:
        raise ContractError(f"{relative} at {revision[:12]} is not valid JSON: {exc}") from None
    return document


def verdict_since(config: HarnessConfig, service: str, revision: str) -> Verdict | None:
    """Breaking changes of `service`'s checked-in contract since `revision`; None if it is new."""
    path = config.contract_path(service)
    old = contract_at(config.root, path, revision)
    return None if old is None else judge(old, load_contract(path))


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ContractError("git is not installed; it is needed to read base revisions") from None
