"""Every check of one Alembic history, each a result that names the revision and what differs.

`planned(history)` lists the checks without touching a database (pytest parametrises with
it); `MigrationChecker(...).run()` carries them out in databases it makes and drops:

- heads: one head (or the declared ones), and no revision pointing at one that is missing;
- offline[dialect]: `upgrade heads --sql` renders for SQLite and PostgreSQL;
- upgrade: from empty to heads; idempotent: a second upgrade emits nothing and changes
  nothing; models: autogenerate against the models finds nothing; fresh_install:
  `create_all` + stamp gives the upgraded schema;
- stairway[R], following the revision graph: up to R, down one step, up again; the schema
  after the step down is the one before the step up, and the second upgrade gives the
  first one's schema and rows;
- data[R]: rows generated at every earlier revision survive the upgrade to R unchanged but
  for the columns R declares in its module's `data_changes = {"table": ["column"]}` (which
  must change), and come back the same after the down/up round trip;
- downgrade_to_base: from heads to base leaves the schema the history started from.

The database at each revision is kept (a file copy or a template database) and the next
revision starts from it, so every revision is upgraded from its parent once, not from base.
Every check gets a verdict: an exception in one is its failure (naming the revision or file
and line) and the others still run; one that cannot run names the failure that blocked it.
The history's baseline (and start revision) is made before its first revision. Revisions it
declares `irreversible`, and those at or below its `minimum_downgrade`, are not stepped down:
their stairway is reported skipped with the reason.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import Inspector
from sqlalchemy.exc import SQLAlchemyError

from harness.config import HarnessConfig
from harness.db import EnvSettings, History, ScratchDatabases, connected, one_line, writes_recorded
from harness.exceptions import ConfigError, HarnessError, MigrationError
from harness.migrations import _failure_site as failure_site
from harness.migrations import _model_comparison as model_comparison
from harness.migrations import _row_data as row_data
from harness.migrations import _schema_snapshot as schema_snapshot
from harness.migrations._revision_graph import RevisionGraph

Status = Literal["passed", "failed", "skipped"]
DIALECTS = ("sqlite", "postgresql")
GRAPH_CHECKS = ("heads", *(f"offline[{dialect}]" for dialect in DIALECTS))
HEAD_CHECKS = ("upgrade", "idempotent", "models", "fresh_install")
MISSING_TABLE = re.compile(r'no such table|relation "[^"]+" does not exist|NoSuchTableError')


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check of one history."""

    history: str
    check: str
    status: Status
    detail: str = ""

    @property
    def id(self) -> str:
        return f"{self.history}:{self.check}"


def planned(history: History) -> list[str]:
    """The ids of the checks `MigrationChecker.run` reports for `history`, in order."""
    graph = RevisionGraph.of(history)
    revisions = graph.order() if not graph.orphans() else []
    per_revision = [
        f"{kind}[{revision}]" for revision in revisions for kind in ("stairway", "data")
    ]
    checks = [*GRAPH_CHECKS, *HEAD_CHECKS, *per_revision, "downgrade_to_base"]
    return [f"{history.name}:{check}" for check in checks]


@dataclass
class _State:
    """What a database holds at one moment: schema, version rows, table rows."""

    schema: schema_snapshot.Schema
    versions: tuple[str, ...]
    rows: row_data.Dump
    inspector: Inspector | None = None  # what read it (its cache still holds the schema)


def histories(config: HarnessConfig, names: list[str] | None = None) -> list[History]:
    """The history of every service with `migrations` (only those in `names`, if given), in
    config order: the order the services' histories are applied to their shared database."""
    known = [History.of(s) for s in config.services.values() if s.migrations is not None]
    unknown = sorted(set(names or []) - {history.name for history in known})
    if unknown:
        raise ConfigError(
            f"no history named {', '.join(unknown)}; services with migrations: "
            f"{', '.join(history.name for history in known) or 'none'}"
        )
    return [history for history in known if not names or history.name in names]


def check_all(
    histories: list[History],
    scratch: ScratchDatabases,
    starting: Callable[[History], None] = lambda _history: None,
) -> list[CheckResult]:
    """Every check of every history, one by one, each after the ones before it;
    `starting` is told each history as its checks begin."""
    results = []
    for index, history in enumerate(histories):
        starting(history)
        results += MigrationChecker(history, scratch, tuple(histories[:index])).run()
    return results


class MigrationChecker:
    """Checks one history in scratch databases, after `before` (histories that share its
    database and come first) have been applied to heads."""

    def __init__(
        self,
        history: History,
        scratch: ScratchDatabases,
        before: tuple[History, ...] = (),
    ) -> None:
        self.history = history
        self.scratch = scratch
        self.before = before
        self.results: dict[str, CheckResult] = {}
        self.numbers: Iterator[int] = itertools.count(1)
        self.ignore: frozenset[str] = frozenset()  # the version table: in no snapshot
        self.row_ignore: frozenset[str] = frozenset()  # and the tables whose rows aren't checked
        self.notices: dict[str, list[str]] = {}  # check -> lines that do not fail it
        self.kept_states: dict[str, _State] = {}  # revision -> its kept database's state
        self.settings = EnvSettings("alembic_version", {})
        self.graph = RevisionGraph.of(history)
        self.cause: dict[str, str] = {}  # revision with no database -> the revision that failed

    def run(self) -> list[CheckResult]:
        """Every planned check's result, in the order `planned` gives: an exception in one
        check is that check's failure, and the others still run."""
        self._check_declarations()
        self._check_graph()
        if not self.graph.orphans():  # else the revision map cannot be built
            base = self._base()
            if base is not None:
                try:
                    with self._attempt("upgrade", "checking from empty to heads"):
                        self._check_head(base)
                    with self._attempt("downgrade_to_base", "checking revision by revision"):
                        self._check_stairway(base)
                finally:
                    self.scratch.drop(base)
        results = [self.results.get(c) or self._blocked(c) for c in planned(self.history)]
        return [self._with_notices(result) for result in results]

    # -- reporting ------------------------------------------------------------------------

    def _report(self, check: str, problems: list[str], skipped: str = "") -> None:
        status: Status = "failed" if problems else "skipped" if skipped else "passed"
        detail = "\n".join(problems) if problems else skipped
        result = CheckResult(self.history.name, check, status, detail)
        self.results[result.id] = result

    def _with_notices(self, result: CheckResult) -> CheckResult:
        notices = self.notices.get(result.check, [])
        if not notices:
            return result
        detail = "\n".join([result.detail, *notices] if result.detail else notices)
        return CheckResult(result.history, result.check, result.status, detail)

    def _fail(self, check: str, problem: str) -> None:
        """Add `problem` to `check`'s result, failing it (whatever it said before)."""
        previous = self.results.get(f"{self.history.name}:{check}")
        lines = [previous.detail] if previous is not None and previous.status == "failed" else []
        self._report(check, [*lines, problem])

    @contextlib.contextmanager
    def _attempt(
        self, check: str, doing: str, connection: Connection | None = None
    ) -> Iterator[None]:
        """Run the block; an exception in it (but a HarnessError: the history or its config is
        unusable) becomes `check`'s failure, naming the revision or file and line."""
        try:
            yield
        except HarnessError:
            raise
        except Exception as exc:
            if connection is not None:
                with contextlib.suppress(SQLAlchemyError):
                    connection.rollback()
            self._fail(check, f"{doing} raised {one_line(exc)}{self._where(exc)}")

    def _blocked(self, check_id: str) -> CheckResult:
        check = check_id.split(":", 1)[1]
        cause = self._cause_of(check)
        reason = f"not run: blocked by {cause}" if cause else "not run"
        return CheckResult(self.history.name, check, "skipped", reason)

    def _cause_of(self, check: str) -> str | None:
        """The failed check that kept `check` from running: for a revision's checks the
        stairway of the revision that failed below it, else the upgrade from empty."""
        revision = re.fullmatch(r"(?:stairway|data)\[(.+)\]", check)
        if revision is not None and revision[1] in self.cause:
            return f"stairway[{self.cause[revision[1]]}]"
        heads = sorted({self.cause[h] for h in self.graph.heads() if h in self.cause})
        if check == "downgrade_to_base" and heads:
            return ", ".join(f"stairway[{head}]" for head in heads)
        upgrade = self.results.get(f"{self.history.name}:upgrade")
        return "upgrade" if upgrade is not None and upgrade.status == "failed" else None

    # -- graph ----------------------------------------------------------------------------

    def _check_graph(self) -> None:
        orphans = self.graph.orphans()
        heads = self.graph.heads()
        expected = sorted(self.history.heads) if self.history.heads else None
        problems = list(orphans)
        if orphans:
            pass  # the heads of a broken graph say nothing more
        elif expected is not None and heads != expected:
            problems.append(f"heads are {', '.join(heads)}; declared {', '.join(expected)}")
        elif expected is None and len(heads) != 1:
            problems.append(
                f"{len(heads)} heads ({', '.join(heads)}): merge them (alembic merge heads) "
                "or declare them"
            )
        self._report("heads", problems)
        for dialect in DIALECTS:
            if orphans:
                continue
            try:
                self.history.render_sql(dialect)
                self._report(f"offline[{dialect}]", [])
            except Exception as exc:
                where = self._where(exc)
                self._report(
                    f"offline[{dialect}]", [f"--sql for {dialect}{where}: {one_line(exc)}"]
                )

    # -- from empty to heads --------------------------------------------------------------

    def _base(self) -> str | None:
        """An empty database with the earlier histories at heads (and rows in their tables);
        None, the upgrade check failed, if it cannot be made."""
        base = self.scratch.create()
        ready = False
        try:
            with connected(base) as connection:
                ready = self._prepare(connection)
        finally:
            if not ready:
                self.scratch.drop(base)
        return base if ready else None

    def _prepare(self, connection: Connection) -> bool:
        doing = "running env.py"
        try:
            version_tables = set()
            for history in self.before:
                doing = f"applying {history.name}, which comes before {self.history.name},"
                version_tables.add(history.upgrade(connection).version_table)
                connection.commit()
            doing = "running env.py"
            self.settings = self.history.settings(connection)
            self.ignore = frozenset({self.settings.version_table})
            self.row_ignore = self.ignore | set(self.history.unchecked_tables)
            doing = "applying the baseline"
            self.history.apply_baseline(connection)
            connection.commit()
            if self.history.data_checks:
                row_data.generate(connection, self.numbers, self.row_ignore | version_tables)
        except HarnessError:
            raise
        except Exception as exc:
            with contextlib.suppress(SQLAlchemyError):
                connection.rollback()
            self._fail("upgrade", f"{doing} raised {one_line(exc)}{self._where(exc)}")
            return False
        return True

    def _check_head(self, base: str) -> None:
        head = self.scratch.create(copy_of=base)
        try:
            with connected(head) as connection:
                upgraded = self._upgrade_from_empty(connection)
                if upgraded is None:
                    return
                with self._attempt("idempotent", "a second upgrade to heads", connection):
                    self._check_idempotent(connection, upgraded)
                with self._attempt("models", "comparing with the models", connection):
                    self._check_models(connection, base)
            with self._attempt("fresh_install", "create_all + stamp"):
                self._check_fresh_install(base, upgraded)
        finally:
            self.scratch.drop(head)

    def _upgrade_from_empty(self, connection: Connection) -> _State | None:
        """The state at heads, upgraded from empty; None (reported) if that fails."""
        exc = _committed(connection, lambda: self.history.upgrade(connection))
        if exc is not None:
            where, hint = self._where(exc), self._baseline_hint(exc)
            self._report(
                "upgrade", [f"upgrade from empty to heads failed{where}: {one_line(exc)}{hint}"]
            )
            return None
        self._report("upgrade", [])
        return self._state(connection, rows=False)

    def _check_idempotent(self, connection: Connection, upgraded: _State) -> None:
        with writes_recorded(connection) as writes:
            self.history.upgrade(connection)
            connection.commit()
        again = self._state(connection, rows=False)
        problems = [f"a second upgrade to heads emitted: {statement}" for statement in writes]
        problems += _state_differences(upgraded, again, "after a second upgrade")
        self._report("idempotent", problems)

    def _check_models(self, connection: Connection, base: str) -> None:
        metadata = self.history.metadata
        if metadata is None:
            self._report("models", [], skipped="no metadata declared for this history")
            return
        others = self._tables_of(base)
        self._report(
            "models", model_comparison.differences(connection, metadata, self.settings, others)
        )

    def _check_fresh_install(self, base: str, upgraded: _State) -> None:
        metadata = self.history.metadata
        if metadata is None:
            self._report("fresh_install", [], skipped="no metadata declared for this history")
            return
        fresh = self.scratch.create(copy_of=base)
        try:
            with connected(fresh) as connection:
                metadata.create_all(connection)
                self.history.stamp(connection)
                connection.commit()
                installed = self._state(connection, rows=False)
        finally:
            self.scratch.drop(fresh)
        problems = _state_differences(
            upgraded, installed, "fresh install differs", ("upgraded", "after create_all + stamp")
        )
        self._report("fresh_install", problems)

    # -- revision by revision ---------------------------------------------------------------

    def _check_stairway(self, base: str) -> None:
        """Each revision from its parents' kept database; the last ones go down to base."""
        kept: dict[str, str | None] = {}
        waiting = {
            r: sum(r in ps for ps in self.graph.parents.values()) for r in self.graph.parents
        }
        start = self.history.start_revision
        before_start = self.graph.ancestors_and_self(start) if start else set()
        try:
            for revision in self.graph.order():
                if revision in before_start:
                    reason = f"not run: at or before start_revision {start}"
                    self._report(f"stairway[{revision}]", [], skipped=reason)
                    self._report(f"data[{revision}]", [], skipped=reason)
                    kept[revision] = base if revision == start else None
                    continue
                below, merged = self._below(revision, base, kept)
                parents = self.graph.parents[revision]
                known = self.kept_states.get(parents[0]) if len(parents) == 1 else None
                kept[revision] = None if below is None else self._step(revision, below, known)
                if kept[revision] is None:
                    failed = [
                        self.cause[p] for p in self.graph.parents[revision] if p in self.cause
                    ]
                    self.cause[revision] = failed[0] if failed else revision
                if merged:
                    self.scratch.drop(below or "")
                for parent in self.graph.parents[revision]:
                    waiting[parent] -= 1
                    if waiting[parent] == 0 and kept.get(parent) not in (None, base):
                        self.scratch.drop(kept.pop(parent) or "")
                        self.kept_states.pop(parent, None)
            with self._attempt("downgrade_to_base", "downgrading to base"):
                self._check_downgrade_to_base(base, kept)
        finally:
            for url in kept.values():
                if url and url != base:
                    self.scratch.drop(url)

    def _below(
        self, revision: str, base: str, kept: dict[str, str | None]
    ) -> tuple[str | None, bool]:
        """The database with exactly `revision`'s ancestors applied (None if one failed), and
        whether it was made for this revision alone (a merge point's)."""
        parents = self.graph.parents[revision]
        if not parents:
            return base, False
        if any(kept.get(parent) is None for parent in parents):
            return None, False
        if len(parents) == 1:
            return kept[parents[0]], False
        merged = self.scratch.create(copy_of=kept[parents[0]])
        joined = False
        with (
            self._attempt(f"stairway[{revision}]", "bringing its parents together"),
            connected(merged) as connection,
        ):
            for parent in parents[1:]:
                self.history.upgrade(connection, parent)
            joined = True
        if joined:
            return merged, True
        self.scratch.drop(merged)
        return None, False

    def _step(self, revision: str, below: str, known: _State | None) -> str | None:
        """Stairway and data checks of `revision` on a copy of `below` (whose state is `known`,
        if it is); the database kept at `revision` for its children (rows added), or None if
        `revision` cannot be applied. An upgrade that fails over the generated rows is tried
        again on empty tables, so the revisions after it are still checked."""
        emptied = False
        work, outcome = self._checked_copy(revision, below, known)
        if outcome == "over rows":
            failure = self.results[f"{self.history.name}:stairway[{revision}]"]
            emptied = True
            work, outcome = self._checked_copy(revision, below, None, emptied)
            self._after_rows_failed(revision, failure, outcome)
        if work is not None:
            return work
        return self._recovered(revision, below, emptied) if outcome == "again" else None

    def _checked_copy(
        self, revision: str, below: str, known: _State | None, emptied: bool = False
    ) -> tuple[str | None, str]:
        """(the copy of `below`, kept if the outcome is "kept"; the outcome of `_step_on`)."""
        work = self.scratch.create(copy_of=below)
        outcome = "again"  # if the checks raise, start again from below for the children
        try:
            with (
                self._attempt(f"stairway[{revision}]", f"checking {revision}"),
                connected(work) as connection,
            ):
                if emptied:
                    row_data.empty(connection, self.row_ignore)
                    connection.commit()
                outcome = self._step_on(connection, revision, known)
        except HarnessError:
            self.scratch.drop(work)
            raise
        if outcome == "kept":
            return work, outcome
        self.scratch.drop(work)  # only now: on PostgreSQL a database in use cannot be dropped
        return None, outcome

    def _after_rows_failed(self, revision: str, failure: CheckResult, outcome: str) -> None:
        """Report an upgrade that fails over the generated rows but not on empty tables."""
        if outcome in ("failed", "over rows"):  # it fails on empty tables too
            self.results[failure.id] = failure
            return
        lines = [f"{failure.detail}; on empty tables it succeeds, and the later revisions are "]
        lines[0] += "checked from there"
        again = self.results[failure.id]
        self._report(f"stairway[{revision}]", lines + ([again.detail] if again.detail else []))
        reason = f"not run: the upgrade to {revision} fails over the generated rows"
        self._report(f"data[{revision}]", [], skipped=reason)

    def _step_on(self, connection: Connection, revision: str, known: _State | None) -> str:
        """ "kept" (the connection's database is at `revision`, rows added), "failed" or
        "over rows" (the upgrade to it failed, over no rows or over some), or "again" (it is
        not in the state the upgrade left). `known`: the state it starts in, if known."""
        before = known or self._state(connection)
        exc = _committed(connection, lambda: self.history.upgrade(connection, revision))
        if exc is not None:
            rows = row_data.count(before.rows)
            over = f" over {rows} existing rows" if rows else ""
            where, hint = self._where(exc), self._baseline_hint(exc)
            self._report(
                f"stairway[{revision}]",
                [f"upgrade to {revision} failed{over}{where}: {one_line(exc)}{hint}"],
            )
            return "over rows" if rows else "failed"
        upgraded = self._state(connection)
        declared = self._declared_changes(revision)
        data = row_data.compare(before.rows, upgraded.rows, declared)
        data += row_data.untouched(before.rows, upgraded.rows, declared)
        stairway, round_trip, final = self._down_and_up(
            connection, revision, before, upgraded, declared
        )
        if self.history.data_checks:
            self._report(f"data[{revision}]", data + round_trip)
        else:
            self._report(f"data[{revision}]", [], skipped="not run: data_checks = false")
        self._report(*stairway)
        if stairway[1]:
            return "again"
        self._add_rows(connection, revision, final, row_data.wanting_rows(before.rows, final.rows))
        return "kept"

    def _down_and_up(
        self,
        connection: Connection,
        revision: str,
        before: _State,
        upgraded: _State,
        declared: dict[str, set[str]],
    ) -> tuple[tuple[str, list[str], str], list[str], _State]:
        """(stairway report, data problems, the state it leaves) of stepping down from
        `revision` and up again."""
        check = f"stairway[{revision}]"
        if revision in self.history.irreversible:
            return (check, [], f"downgrade of {revision} declared irreversible"), [], upgraded
        if revision in self._below_floor():
            reason = (
                f"downgrade of {revision} declared irreversible "
                f"(minimum_downgrade = {self.history.minimum_downgrade})"
            )
            return (check, [], reason), [], upgraded
        parents = self.graph.parents[revision]
        target = parents[0] if parents else "base"
        exc = _committed(connection, lambda: self.history.downgrade(connection, target))
        if exc is not None:
            hint = (
                "; if it cannot be undone, declare it irreversible"
                if failure_site.on_purpose(exc)
                else ""
            )
            where = self._where(exc)
            problem = f"downgrade of {revision} failed{where}: {one_line(exc)}{hint}"
            return (check, [problem], ""), [], upgraded
        down = self._state(connection)
        problems = _state_differences(before, down, f"downgrade of {revision} leaves a trace")
        data = [
            f"after downgrade: {line}"
            for line in row_data.compare(before.rows, down.rows, declared)
        ]
        exc = _committed(connection, lambda: self.history.upgrade(connection, revision))
        if exc is not None:
            failed = f"upgrade to {revision} after its downgrade failed{self._where(exc)}"
            return (check, [*problems, f"{failed}: {one_line(exc)}"], ""), data, down
        again = self._state(connection)
        problems += _state_differences(upgraded, again, "upgrade after downgrade differs")
        data += [
            f"after down and up again: {line}"
            for line in row_data.compare(upgraded.rows, again.rows, {})
        ]
        return (check, problems, ""), data, again

    def _recovered(self, revision: str, below: str, emptied: bool) -> str | None:
        """`revision` applied once over `below` (its rows deleted first if `emptied`), so its
        descendants can still be checked."""
        work = self.scratch.create(copy_of=below)
        try:
            with connected(work) as connection:
                if emptied:
                    row_data.empty(connection, self.row_ignore)
                self.history.upgrade(connection, revision)
                connection.commit()
                self._add_rows(connection, revision, None)
        except Exception:
            self.scratch.drop(work)
            return None
        return work

    def _add_rows(
        self,
        connection: Connection,
        revision: str,
        state: _State | None,
        tables: set[str] | None = None,
    ) -> None:
        """Rows into the database kept at `revision` (into `tables`, if given, else into
        every table); with its `state` known (read by an inspector whose cache still holds
        the schema), the state its children start from."""
        inspector = state.inspector if state else None
        filling = self.history.data_checks and tables != set()
        if filling:
            generated = row_data.generate(
                connection, self.numbers, self.row_ignore, inspector, tables
            )
            for notice in generated:
                self.notices.setdefault(f"data[{revision}]", []).append(f"at {revision}: {notice}")
            connection.commit()
        if state is not None:  # adding rows changes no schema: only the rows are read again
            rows = state.rows
            if filling and rows:  # the same tables and keys: only their rows are new
                keys = {name: table.key for name, table in rows.items()}
                rows = row_data.dump(connection, self.row_ignore, keys=keys)
            self.kept_states[revision] = _State(state.schema, state.versions, rows)

    def _check_downgrade_to_base(self, base: str, kept: dict[str, str | None]) -> None:
        if self.history.minimum_downgrade or self.history.irreversible:
            floor = self.history.minimum_downgrade
            reason = f"minimum_downgrade = {floor}" if floor else "irreversible revisions declared"
            self._report("downgrade_to_base", [], skipped=f"not run: {reason}")
            return
        heads = self.graph.heads()
        if any(kept.get(head) is None for head in heads):
            return  # blocked: a failed revision is reported
        with connected(base) as connection:
            start = self._state(connection, rows=False)
        top = self.scratch.create(copy_of=kept[heads[0]])
        try:
            with connected(top) as connection:
                for head in heads[1:]:
                    self.history.upgrade(connection, head)
                target = self.history.start_revision or "base"
                exc = _committed(connection, lambda: self.history.downgrade(connection, target))
                if exc is not None:
                    where = self._where(exc)
                    self._report(
                        "downgrade_to_base",
                        [f"downgrade to {target} failed{where}: {one_line(exc)}"],
                    )
                    return
                end = self._state(connection, rows=False)
        finally:
            self.scratch.drop(top)
        self._report(
            "downgrade_to_base", _state_differences(start, end, "base after downgrade differs")
        )

    # -- helpers --------------------------------------------------------------------------

    def _state(self, connection: Connection, rows: bool = True) -> _State:
        """Schema, versions and (if `rows`) rows, read through one inspector (its cache serves
        the snapshot and the rows generated later), the primary keys once for both."""
        inspector = inspect(connection)
        versions: tuple[str, ...] = ()
        tables = inspector.get_table_names()  # kept in its cache: the snapshot reads it again
        for table in self.ignore:
            if table in tables:
                found = connection.execute(text(f'SELECT version_num FROM "{table}"')).scalars()
                versions = tuple(sorted(found))
        keys = schema_snapshot.primary_keys(connection, inspector)
        dumped = {}
        if rows and self.history.data_checks:
            dumped = row_data.dump(connection, self.row_ignore, inspector, keys)
        return _State(
            schema_snapshot.snapshot(connection, self.ignore, inspector, keys),
            versions,
            dumped,
            inspector,
        )

    def _baseline_hint(self, exc: BaseException) -> str:
        if self.history.baseline_path is not None or not MISSING_TABLE.search(one_line(exc)):
            return ""
        return (
            "; if the history expects tables made before its first revision (by create_all "
            "or an older release), declare them as its baseline"
        )

    def _where(self, exc: BaseException) -> str:
        return failure_site.where((self.history, *self.before), exc)

    def _tables_of(self, url: str) -> set[str]:
        with connected(url) as connection:
            return set(inspect(connection).get_table_names())

    def _below_floor(self) -> set[str]:
        floor = self.history.minimum_downgrade
        return self.graph.ancestors_and_self(floor) if floor else set()

    def _check_declarations(self) -> None:
        """Every revision the history names (irreversible, start_revision) is one of its own."""
        declared = {"irreversible": list(self.history.irreversible)}
        declared["start_revision"] = [r for r in [self.history.start_revision] if r]
        for option, revisions in declared.items():
            unknown = sorted(set(revisions) - set(self.graph.parents))
            if unknown:
                raise MigrationError(
                    f"{self.history.name}: {option} names {', '.join(unknown)}, not revisions "
                    f"of the history (it has {', '.join(sorted(self.graph.parents))})"
                )

    def _declared_changes(self, revision: str) -> dict[str, set[str]]:
        """The columns (or, for "*", the rows) revision's `data_changes` says it changes."""
        declared = getattr(self.history.revision(revision).module, "data_changes", {})
        if not isinstance(declared, dict) or not all(
            isinstance(columns, (list, tuple, set)) or columns == "*"
            for columns in declared.values()
        ):
            raise MigrationError(
                f"revision {revision}: data_changes must map table names to lists of columns "
                f'(or "*": any change to its rows), got {declared!r}'
            )
        return {
            table: {row_data.ANY_ROWS} if columns == "*" else set(columns)
            for table, columns in declared.items()
        }


def _committed(connection: Connection, action: Callable[[], object]) -> Exception | None:
    """Run `action` and commit; the exception it raised (rolled back), or None if it worked.
    A HarnessError (the history itself is unusable) is raised on."""
    try:
        action()
        connection.commit()
    except HarnessError:
        raise
    except Exception as exc:
        with contextlib.suppress(SQLAlchemyError):
            connection.rollback()
        return exc
    return None


def _state_differences(
    before: _State, after: _State, what: str, labels: tuple[str, str] = ("before", "after")
) -> list[str]:
    changes = schema_snapshot.differences(before.schema, after.schema, labels)
    if before.versions != after.versions:
        first, second = labels
        changes.append(
            f"version table {list(before.versions)} {first}, {list(after.versions)} {second}"
        )
    return [f"{what}: {change}" for change in changes]
