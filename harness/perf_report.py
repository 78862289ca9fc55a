"""The perf run for people: a self-contained HTML page (inline SVG charts, no scripts)
and a Markdown summary for CI step summaries and pull requests."""

from __future__ import annotations

import html
from pathlib import Path

from harness.latency import PERCENTILES
from harness.perf import Assessment
from harness.perf_results import PerfResults, ScenarioResult

_BAR = 14
_CHART_WIDTH = 560
_LABEL_WIDTH = 150
_CLASS = {"held": "ok", "broke": "bad", "not measured": "notice", "inconclusive": "notice"}
_CURRENT = "#3566b0"
_BASELINE = "#b9b9b9"


def markdown(results: PerfResults, assessment: Assessment) -> str:
    """One table per scenario (percentiles, throughput, errors, change) and the failures."""
    lines = [f"## Performance ({results.backend})", ""]
    failures = assessment.failures
    lines += [f"**{len(failures)} failure(s)**" if failures else "**All budgets met.**", ""]
    lines += [f"- {failure}" for failure in failures]
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
                *(f"{request.percentiles_ms[p]:.1f} ms" for p in PERCENTILES),
                f"{request.throughput:.1f}",
                f"{request.error_rate:.2%}",
                comparison.text if comparison else "no baseline",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


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
    """The whole report as one HTML document."""
    baseline = assessment.baseline
    body = [f"<h1>Performance on {html.escape(results.backend)}</h1>"]
    body.append(f"<p>{html.escape(results.created_at)} · {html.escape(results.machine['node'])}")
    if baseline is not None:
        body.append(f" · baseline of {html.escape(baseline.created_at)}")
    body.append("</p>")
    body.append(_verdict_table(assessment))
    for scenario in results.scenarios.values():
        before = baseline.scenarios.get(scenario.name) if baseline else None
        body.append(f"<h2>{html.escape(scenario.name)}</h2>")
        body.append(f"<p>{html.escape(_scenario_line(scenario))}</p>")
        body.append(_chart(scenario, before))
        body.append(_service_table(scenario))
    return _PAGE.format(
        title=f"Performance on {html.escape(results.backend)}", body="\n".join(body)
    )


def _chart(scenario: ScenarioResult, before: ScenarioResult | None) -> str:
    """Horizontal bars: each request's percentiles, the baseline's beside them in grey."""
    rows: list[tuple[str, str, float]] = []
    for name, request in scenario.requests.items():
        for percentile in PERCENTILES:
            rows.append((f"{name} {percentile}", _CURRENT, request.percentiles_ms[percentile]))
            if before is not None and name in before.requests:
                old = before.requests[name].percentiles_ms[percentile]
                rows.append(("baseline", _BASELINE, old))
    largest = max((value for _, _, value in rows), default=1.0) or 1.0
    scale = (_CHART_WIDTH - _LABEL_WIDTH - 80) / largest
    shapes = []
    for index, (label, colour, value) in enumerate(rows):
        y = index * (_BAR + 4)
        shapes.append(
            f'<text x="{_LABEL_WIDTH - 6}" y="{y + _BAR - 3}" text-anchor="end">'
            f"{html.escape(label)}</text>"
            f'<rect x="{_LABEL_WIDTH}" y="{y}" width="{max(value * scale, 1):.1f}" '
            f'height="{_BAR}" fill="{colour}"/>'
            f'<text x="{_LABEL_WIDTH + value * scale + 4:.1f}" y="{y + _BAR - 3}">'
            f"{value:.1f} ms</text>"
        )
    height = len(rows) * (_BAR + 4)
    return (
        f'<svg width="{_CHART_WIDTH}" height="{height}" font-size="11" '
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
    return "<h2>Budgets and baseline</h2><table>" + "".join(rows) + "</table>"


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
    """`<db>.json`, `<db>.md` and `<db>.html` in `directory`; their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / results.backend
    paths = [stem.with_suffix(".json"), stem.with_suffix(".md"), stem.with_suffix(".html")]
    results.save(paths[0])
    paths[1].write_text(markdown(results, assessment))
    paths[2].write_text(html_page(results, assessment))
    return paths


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: left; }}
tr.bad td {{ background: #fbe3e3; }}
tr.notice td {{ background: #fdf5d8; }}
svg text {{ fill: #222; }}
</style></head>
<body>
{body}
</body></html>
"""
