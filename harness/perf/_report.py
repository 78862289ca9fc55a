"""The perf run for people: a self-contained HTML page (inline SVG charts, no scripts),
the verdict first, and a Markdown summary for CI step summaries and pull requests."""

from __future__ import annotations

import html
import math
from pathlib import Path

from harness.perf import _latency as latency
from harness.perf._assessment import Assessment
from harness.perf._latency import PERCENTILES
from harness.perf._outcome import PerfOutcome, outcome_path
from harness.perf._results import PerfResults, ScenarioResult
from harness.perf._stress import RampResult

_CHART_WIDTH = 560
_CURVE = (0.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99)
PALETTE = ("#3566b0", "#d9822b", "#2e9e5b", "#b03562", "#7a5cc2", "#8c6d31")
_CLASS = {"held": "ok", "broke": "bad", "not measured": "notice", "inconclusive": "notice"}
_BASELINE = "#b9b9b9"


def markdown(results: PerfResults, assessment: Assessment) -> str:
    """One table per scenario (percentiles, throughput, errors, change) and the failures."""
    lines = [f"## Performance ({results.backend})", ""]
    lines += PerfOutcome.of(results.backend, assessment).lines()
    lines += [f"- stress {ramp.text}" for ramp in results.stress.values()]
    notices = assessment.notices
    if notices:
        lines += ["", f"{len(notices)} notice(s), not failures:", ""]
        lines += [f"- {notice}" for notice in notices]
    for scenario in results.scenarios.values():
        lines += ["", f"### {scenario.name}", "", _scenario_line(scenario), ""]
        header = ["request", *PERCENTILES, "req/s", "errors", "vs baseline"]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for name, request in scenario.requests.items():
            comparison = assessment.comparisons.get(f"{scenario.name}/{name}")
            cells = [
                name,
                *(f"{_ms(request.percentiles_ms[p])} ms" for p in PERCENTILES),
                f"{request.throughput:.1f}",
                f"{request.error_rate:.2%}",
                comparison.text if comparison else "no baseline",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _ms(value: float) -> str:
    """Milliseconds to a tenth, or to a microsecond under 1 ms (Redis's own figures)."""
    return f"{value:.1f}" if value >= 1 else f"{value:.3f}"


def _scenario_line(scenario: ScenarioResult) -> str:
    parts = [
        f"{scenario.model} model",
        f"{scenario.throughput:.1f} req/s over {scenario.measured_seconds:.1f} s",
        f"generator CPU {scenario.runner_cpu_percent:.0f}% of a core",
        f"calibration p50 {scenario.calibration_p50_ms:.2f} ms",
    ]
    if scenario.peak_connections is not None:
        parts.append(f"peak database connections {scenario.peak_connections}")
    if scenario.invalid_reasons:
        parts.append("INVALID: " + "; ".join(scenario.invalid_reasons))
    return ", ".join(parts)


def html_page(results: PerfResults, assessment: Assessment) -> str:
    """The whole report as one HTML document: the verdict first, then each scenario's
    table, its latency over the windows and its percentile curve against the baseline."""
    baseline = assessment.baseline
    body = [f"<h1>Performance on {html.escape(results.backend)}</h1>"]
    body.append(f"<p>{html.escape(results.created_at)} · {html.escape(results.machine['node'])}")
    if baseline is not None:
        body.append(f" · baseline of {html.escape(baseline.created_at)}")
    body.append("</p>")
    body.append(_headline(assessment))
    for scenario in results.scenarios.values():
        before = baseline.scenarios.get(scenario.name) if baseline else None
        body.append(f"<h2>{html.escape(scenario.name)}</h2>")
        body.append(f"<p>{html.escape(_scenario_line(scenario))}</p>")
        body.append(_request_table(scenario, before, assessment))
        body.append(_over_time(scenario))
        body.append(_distribution(scenario, before))
        body.append(_service_table(scenario))
    for ramp in results.stress.values():
        body.append(f"<h2>stress: {html.escape(ramp.name)}</h2>")
        body.append(f"<p>{html.escape(ramp.text)}</p>")
        body.append(_knee(ramp))
    body.append(_verdict_table(assessment))
    return _PAGE.format(
        title=f"Performance on {html.escape(results.backend)}", body="\n".join(body)
    )


def _headline(assessment: Assessment) -> str:
    """How many budgets held, which broke, the notices and the regression verdict."""
    counts = {status: 0 for status in _CLASS}
    for verdict in assessment.verdicts:
        counts[verdict.status] += 1
    regressed = [key for key, c in assessment.comparisons.items() if c.regressed]
    parts = [
        f"{counts['held']} of {len(assessment.verdicts)} budgets held",
        f"{counts['broke']} broke",
        f"{counts['not measured'] + counts['inconclusive']} could not be judged",
    ]
    if assessment.comparisons:
        parts.append(
            f"{len(regressed)} of {len(assessment.comparisons)} requests regressed "
            "against the baseline"
        )
    else:
        parts.append("no baseline to compare with")
    state = "bad" if assessment.failures else "ok"
    items = "".join(
        f"<li>{html.escape(text)}</li>" for text in [*assessment.failures, *assessment.notices]
    )
    return f'<p class="headline {state}">{html.escape("; ".join(parts))}</p><ul>{items}</ul>'


def _request_table(
    scenario: ScenarioResult, before: ScenarioResult | None, assessment: Assessment
) -> str:
    """Endpoints as rows; percentiles, budgets and the baseline as columns."""
    budgets: dict[str, list[str]] = {}
    for verdict in assessment.verdicts:
        budget = verdict.budget
        if budget.scenario == scenario.name and budget.level == "requests":
            mark = {"held": "", "broke": " ✗", "not measured": " ?", "inconclusive": " ?"}
            budgets.setdefault(budget.name, []).append(
                f"{budget.metric} {budget.limit:g}{mark[verdict.status]}"
            )
    head = "".join(f"<th>{p}</th>" for p in PERCENTILES)
    rows = []
    for name, request in scenario.requests.items():
        old = before.requests.get(name) if before else None
        comparison = assessment.comparisons.get(f"{scenario.name}/{name}")
        cells = "".join(f"<td>{_ms(request.percentiles_ms[p])}</td>" for p in PERCENTILES)
        was = f"p50 {_ms(old.percentiles_ms['p50'])} ms" if old else "none"
        rows.append(
            f"<tr><td>{html.escape(name)}</td>{cells}<td>{request.throughput:.1f}</td>"
            f"<td>{request.error_rate:.2%}</td>"
            f"<td>{html.escape(', '.join(budgets.get(name, [])))}</td>"
            f"<td>{html.escape(was)}"
            f"{'<br>' + html.escape(comparison.text) if comparison else ''}</td></tr>"
        )
    return (
        f"<table><tr><th>request</th>{head}<th>req/s</th><th>errors</th><th>budgets</th>"
        f"<th>baseline</th></tr>{''.join(rows)}</table>"
    )


def _over_time(scenario: ScenarioResult) -> str:
    """Each request's p50 per measurement window."""
    series = {
        name: [(float(k), p50) for k, p50 in enumerate(request.window_p50_ms)]
        for name, request in scenario.requests.items()
    }
    return _figure("latency over time: p50 per window (ms)", _lines(series, "window"))


def _distribution(scenario: ScenarioResult, before: ScenarioResult | None) -> str:
    """Each request's percentile curve (HDR), the baseline's dashed beside it."""
    series: dict[str, list[tuple[float, float]]] = {}
    dashed: set[str] = set()
    for name, request in scenario.requests.items():
        series[name] = _curve(request.histogram)
        if before is not None and name in before.requests:
            series[f"{name} (baseline)"] = _curve(before.requests[name].histogram)
            dashed.add(f"{name} (baseline)")
    chart = _lines(series, "percentile (log scale of 1/(1-p))", dashed)
    return _figure("latency by percentile (ms)", chart)


def _knee(ramp: RampResult) -> str:
    """Each request's p95 against the offered level (the knee chart)."""
    names = list(ramp.levels[0].percentiles_ms)
    series = {
        name: [(level.level, level.percentiles_ms[name]["p95"]) for level in ramp.levels]
        for name in names
    }
    unit = "offered rate (req/s)" if ramp.model == "open" else "users"
    return _figure(f"p95 (ms) against the {unit}", _lines(series, unit))


def _curve(encoded: str) -> list[tuple[float, float]]:
    histogram = latency.decode(encoded)
    if not histogram.get_total_count():
        return []
    return [
        (math.log10(1 / (1 - p / 100)), histogram.get_value_at_percentile(p) / 1000) for p in _CURVE
    ]


def _figure(caption: str, chart: str) -> str:
    return f"<figure>{chart}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _lines(
    series: dict[str, list[tuple[float, float]]],
    x_label: str,
    dashed: frozenset[str] | set[str] = frozenset(),
) -> str:
    """An SVG line chart of `series` (label -> points), a legend beside it."""
    points = [point for line in series.values() for point in line]
    if not points:
        return "<p>no figures</p>"
    x_max = max(x for x, _ in points) or 1.0
    y_max = max(y for _, y in points) or 1.0
    width, height, left, bottom = _CHART_WIDTH, 220, 50, 30
    shapes = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" '
        'stroke="#888"/>',
        f'<line x1="{left}" y1="0" x2="{left}" y2="{height - bottom}" stroke="#888"/>',
        f'<text x="{left - 4}" y="10" text-anchor="end">{y_max:.0f}</text>',
        f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end">0</text>',
        f'<text x="{left}" y="{height - 8}">{html.escape(x_label)}</text>',
    ]
    for index, (label, line) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)] if label not in dashed else _BASELINE
        coordinates = " ".join(
            f"{left + x / x_max * (width - left - 10):.1f},"
            f"{(height - bottom) * (1 - y / y_max):.1f}"
            for x, y in line
        )
        style = ' stroke-dasharray="4 3"' if label in dashed else ""
        shapes.append(
            f'<polyline points="{coordinates}" fill="none" stroke="{colour}" '
            f'stroke-width="1.5"{style}><title>{html.escape(label)}</title></polyline>'
        )
        shapes.append(
            f'<text x="{width + 10}" y="{14 + index * 14}" fill="{colour}">'
            f"{html.escape(label)}</text>"
        )
    return (
        f'<svg width="{width + 220}" height="{height}" font-size="11" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(shapes)}</svg>'
    )


def _verdict_table(assessment: Assessment) -> str:
    rows = [
        f"<tr class={_CLASS[v.status]}><td>{v.status}</td><td>{html.escape(v.text)}</td></tr>"
        for v in assessment.verdicts
    ]
    rows += [
        f"<tr class={'bad' if c.regressed else 'ok'}><td>{'FAIL' if c.regressed else 'ok'}</td>"
        f"<td>{html.escape(key)}: {html.escape(c.text)}</td></tr>"
        for key, c in assessment.comparisons.items()
    ]
    return "<h2>Every budget and comparison</h2><table>" + "".join(rows) + "</table>"


def _service_table(scenario: ScenarioResult) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{use.peak_rss_mb:.1f}</td>"
        f"<td>{use.cpu_percent:.0f}</td><td>{_kept(use.memory_kib_per_request)}</td>"
        f"<td>{use.memory_requests}</td></tr>"
        for name, use in scenario.services.items()
    )
    return (
        "<table><tr><th>service</th><th>peak RSS (MB)</th><th>CPU (% of a core)</th>"
        "<th>memory kept per request (KiB)</th><th>requests served</th></tr>"
        f"{rows}</table>"
    )


def _kept(value: float | None) -> str:
    return "not measured" if value is None else f"{value:+.2f}"


def write(results: PerfResults, assessment: Assessment, directory: Path) -> list[Path]:
    """`<db>.json`, `<db>.md`, `<db>.html` and `<db>.outcome.json` in `directory`; their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / results.backend
    paths = [stem.with_suffix(".json"), stem.with_suffix(".md"), stem.with_suffix(".html")]
    results.save(paths[0])
    paths[1].write_text(markdown(results, assessment))
    paths[2].write_text(html_page(results, assessment))
    paths.append(outcome_path(directory, results.backend))
    PerfOutcome.of(results.backend, assessment).save(paths[3])
    return paths


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: left; }}
tr.bad td {{ background: #fbe3e3; }}
tr.notice td {{ background: #fdf5d8; }}
p.headline {{ font-size: 1.2em; padding: .5em; }}
p.headline.ok {{ background: #e3f4e3; }}
p.headline.bad {{ background: #fbe3e3; }}
figure {{ margin: 1em 0; }}
svg text {{ fill: #222; }}
</style></head>
<body>
{body}
</body></html>
"""
