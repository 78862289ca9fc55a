"""The noise-aware comparison: Mann-Whitney U p-values and the verdict texts."""

from __future__ import annotations

import pytest

from harness.perf._regression import Runs, compare, compare_runs, mann_whitney_p


def test_exact_p_value_of_completely_separated_samples():
    # U = 0 for 5 against 5: 2 of the 252 orderings are as extreme, two-sided
    assert mann_whitney_p([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(2 / 252)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        # values from scipy.stats.mannwhitneyu(..., alternative="two-sided")
        ([1.1, 2.3, 0.4, 5.0, 3.3], [2.0, 6.1, 4.4, 7.7, 5.5], 0.09524),  # exact
        ([1, 2, 2, 3, 4, 4, 5], [3, 4, 5, 5, 6, 7, 7], 0.02360),  # ties: normal approximation
    ],
)
def test_p_values_agree_with_scipy(first, second, expected):
    assert mann_whitney_p(first, second) == pytest.approx(expected, abs=1e-4)


def test_a_real_slowdown_is_reported_as_significant_and_a_regression():
    baseline = [10 + i / 10 for i in range(10)]
    current = [13 + i / 10 for i in range(10)]

    comparison = compare(current, baseline)

    assert comparison.regressed
    assert comparison.text == "slower by 29% (significant, p=0.000)"


def test_noise_of_ten_percent_is_no_significant_change():
    baseline = [9.1, 9.6, 10.2, 10.8, 9.4, 10.1, 10.9, 9.8, 11.0, 9.0]
    current = [9.3, 10.0, 10.6, 9.2, 10.4, 9.9, 10.7, 9.5, 11.1, 9.7]

    comparison = compare(current, baseline)

    assert not comparison.significant and not comparison.regressed
    assert comparison.text.startswith("no significant change")


def test_a_significant_change_under_the_threshold_is_not_a_regression():
    comparison = compare([10.5 + i / 100 for i in range(10)], [10 + i / 100 for i in range(10)])

    assert comparison.significant and not comparison.regressed
    assert "within the 20% threshold" in comparison.text


def test_faster_is_reported_but_never_a_regression():
    comparison = compare([5 + i / 10 for i in range(8)], [10 + i / 10 for i in range(8)])

    assert comparison.text.startswith("faster by 48%") and not comparison.regressed


def test_too_few_samples_are_not_compared():
    comparison = compare([1.0, 2.0], [1.0, 2.0, 3.0])

    assert not comparison.regressed and "not enough samples" in comparison.text


def runs(*p50s: float, calibration: float = 1.0) -> Runs:
    """Runs at these p50s, each with 6 windows spread 2% around its p50."""
    windows = [p50 * (0.98 + i / 250) for p50 in p50s for i in range(6)]
    return Runs(windows, list(p50s), [calibration] * len(p50s))


def test_a_slowdown_beyond_every_baseline_run_is_a_regression():
    comparison = compare_runs(runs(17.0), runs(10.0, 11.0, 13.0))

    assert comparison.regressed
    assert comparison.text.startswith("slower by 5")
    assert comparison.text.endswith(
        ": +31% against the slowest of the baseline's 3 runs, "
        "+31% relative to the calibration endpoint"
    )


def test_a_slowdown_within_the_baselines_run_to_run_noise_is_not_a_regression():
    # 27% slower than the baseline's median run, but only 8% slower than its slowest
    comparison = compare_runs(runs(14.0), runs(10.0, 11.0, 13.0))

    assert comparison.significant and not comparison.regressed
    assert "but within run-to-run noise plus 20%: +8% against the slowest" in comparison.text


def test_a_machine_slower_across_the_board_is_not_a_regression():
    # 30% slower, and so is the calibration endpoint
    comparison = compare_runs(runs(13.0, calibration=1.3), runs(10.0, 10.0, 10.0))

    assert not comparison.regressed
    assert comparison.text.endswith("+0% relative to the calibration endpoint")


def test_a_baseline_of_fewer_than_three_runs_judges_nothing_and_says_how_to_record_one():
    # 30% slower than the one run: a regression of a baseline that shows no noise is a guess
    for baseline in (runs(10.0), runs(10.0, 10.0)):
        comparison = compare_runs(runs(13.0), baseline)

        assert comparison.significant and not comparison.regressed
        assert comparison.text.endswith(
            "cannot show run-to-run noise, record one of at least 3 "
            "(invoke perf.baseline --repeats 3)"
        )


def test_a_noisy_calibration_alone_is_not_a_regression():
    # calibration 30% faster
    comparison = compare_runs(runs(10.0, calibration=0.7), runs(10.0, 10.0, 10.0))

    assert not comparison.regressed and comparison.text.startswith("no significant change")
