"""Performance: load scenarios driven against the live stack, figures judged against
budgets and a baseline, and the perf report."""

from typing import TYPE_CHECKING

from harness._lazy import public_names

if TYPE_CHECKING:
    from harness.perf._assessment import measure
    from harness.perf._baseline import keep as keep_baseline
    from harness.perf._baseline import pool_checked, saved_run
    from harness.perf._baseline import summary as baseline_summary
    from harness.perf._budgets import Budget, BudgetVerdict, load_budgets
    from harness.perf._load_runner import LoadRunner
    from harness.perf._outcome import PerfOutcome, outcome_path
    from harness.perf._regression import Comparison
    from harness.perf._results import PerfResults, ScenarioResult, pooled
    from harness.perf._scenarios import (
        PerfPlan,
        Phases,
        Scenario,
        Step,
        WeightedRequest,
        load_plan,
    )
else:  # type checkers see the imports above; the package imports them on first use
    __all__, __getattr__ = public_names(__name__, __file__)
