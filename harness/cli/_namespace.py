"""The task namespace: one collection per task module."""

from __future__ import annotations

from invoke import Collection

from harness.cli import _contracts, _migrations, _perf, _ports, _reports, _services

namespace = Collection(
    Collection(
        "services",
        _services.up,
        _services.down,
        _services.status,
        _services.logs,
        _services.restart,
    ),
    Collection("ports", _ports.clean_ports),
    Collection("contracts", _contracts.export_contracts, _contracts.check_contracts),
    Collection("migrations", _migrations.check_migrations),
    Collection("perf", _perf.record_baseline),
    Collection("reports", _reports.begin_run, _reports.merge_reports),
)
