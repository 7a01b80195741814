"""The report as one self-contained HTML page: inline CSS and SVG charts, no scripts, nothing fetched."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, StrictUndefined

from mailroom.report.figures import TARGET
from mailroom.report.text import percent

WIDE, NARROW, HEIGHT = 1160, 560, 260  # viewBox sizes; the page scales them to its columns
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 16, 44
GOOD, BAD, NEUTRAL, LINE = "#2e7d32", "#d84315", "#1565c0", "#c62828"


def _frame(width: int, y_labels: list[tuple[float, str]]) -> dict[str, Any]:
    """The plot area and its horizontal grid lines; fractions 0..1 map bottom to top."""
    plot_h = HEIGHT - TOP - BOTTOM
    return {
        "width": width, "height": HEIGHT, "left": LEFT, "right": width - RIGHT,
        "top": TOP, "bottom": HEIGHT - BOTTOM,
        "grid": [{"y": _y(f, plot_h), "label": label} for f, label in y_labels],
        "bars": [], "xlabels": [], "points": [], "paths": [], "target": None, "empty": False,
    }


def _y(fraction: float, plot_h: float) -> float:
    return round(TOP + plot_h * (1 - fraction), 1)


def _bands(width: int, count: int) -> tuple[float, float]:
    plot_w = width - LEFT - RIGHT
    band = plot_w / max(count, 1)
    return band, min(band * 0.7, 60)


def _label_every(count: int) -> int:
    return max(1, -(-count // 10))  # at most 10 labels under the x axis


def achievement_chart(weeks: list[dict[str, Any]]) -> dict[str, Any]:
    """Weekly first-response achievement as bars, with the target as a dashed line."""
    chart = _frame(WIDE, [(f / 4, f"{f * 25}%") for f in range(5)])
    plot_h = chart["bottom"] - TOP
    band, bar = _bands(WIDE, len(weeks))
    for i, week in enumerate(weeks):
        x = LEFT + band * i + (band - bar) / 2
        fr = week["first_response"]
        value = fr["achievement"]
        if i % _label_every(len(weeks)) == 0:
            chart["xlabels"].append({"x": round(x + bar / 2, 1), "label": week["week"][5:]})
        if value is None:
            continue
        top = _y(value, plot_h)
        chart["bars"].append({
            "x": round(x, 1), "y": top, "w": round(bar, 1), "h": round(chart["bottom"] - top, 1),
            "fill": GOOD if value >= TARGET else BAD,
            "title": f"{week['week']}: {percent(value)} on time ({fr['met']} met, {fr['breached']} breached)",
        })
    chart["target"] = {"y": _y(TARGET, plot_h), "label": f"target {percent(TARGET)}"}
    chart["empty"] = not chart["bars"]
    return chart


def histogram_chart(buckets: list[dict[str, Any]]) -> dict[str, Any]:
    """How many tickets were first answered within each span of working time."""
    peak = max((b["count"] for b in buckets), default=0)
    scale = _nice(peak)
    chart = _frame(NARROW, [(f / 4, str(round(scale * f / 4))) for f in range(5)])
    plot_h = chart["bottom"] - TOP
    band, bar = _bands(NARROW, len(buckets))
    for i, bucket in enumerate(buckets):
        x = LEFT + band * i + (band - bar) / 2
        chart["xlabels"].append({"x": round(x + bar / 2, 1), "label": bucket["label"]})
        if not bucket["count"]:
            continue
        top = _y(bucket["count"] / scale, plot_h)
        chart["bars"].append({
            "x": round(x, 1), "y": top, "w": round(bar, 1), "h": round(chart["bottom"] - top, 1),
            "fill": NEUTRAL, "title": f"{bucket['label']}: {bucket['count']} tickets",
        })
    chart["empty"] = peak == 0
    return chart


def csat_chart(weeks: list[dict[str, Any]]) -> dict[str, Any]:
    """Weekly CSAT score as a line; weeks without answers leave a gap."""
    chart = _frame(NARROW, [(f / 4, f"{f * 25}%") for f in range(5)])
    plot_h = chart["bottom"] - TOP
    band, _ = _bands(NARROW, len(weeks))
    segment: list[str] = []
    for i, week in enumerate(weeks):
        x = round(LEFT + band * i + band / 2, 1)
        if i % _label_every(len(weeks)) == 0:
            chart["xlabels"].append({"x": x, "label": week["week"][5:]})
        csat = week["csat"]
        if csat["score"] is None:
            if len(segment) > 1:
                chart["paths"].append(" ".join(segment))
            segment = []
            continue
        y = _y(csat["score"], plot_h)
        segment.append(f"{'M' if not segment else 'L'}{x},{y}")
        chart["points"].append({
            "x": x, "y": y,
            "title": f"{week['week']}: {percent(csat['score'])} satisfied ({csat['satisfied']} of {csat['responses']})",
        })
    if len(segment) > 1:
        chart["paths"].append(" ".join(segment))
    chart["empty"] = not chart["points"]
    return chart


def _nice(peak: int) -> int:
    """A round axis maximum at or above `peak` (1, 2, 5 × 10^n), divisible into four ticks."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if 4 * m * step >= peak:
                return 4 * m * step
        step *= 10


def render(data: dict[str, Any]) -> str:
    """The HTML page of a report (as `build_report` returns it); every text is escaped."""
    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["percent"] = percent
    charts = {
        "achievement": achievement_chart(data["weekly"]),
        "histogram": histogram_chart(data["time_to_first_response"]["histogram"]),
        "csat": csat_chart(data["weekly"]),
    }
    return env.from_string(PAGE).render(r=data, charts=charts, target=TARGET, good=GOOD, bad=BAD, line=LINE)


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Support report{% if r.range.team %} – {{ r.range.team }}{% endif %}{% if r.range.mailbox %} – {{ r.range.mailbox }}{% endif %}</title>
<style>
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
         background: #f6f8fa; margin: 0; padding: 24px 32px 48px; }
  h1 { font-size: 24px; margin: 0 0 4px; }
  h2 { font-size: 18px; margin: 32px 0 8px; }
  .scope { color: #57606a; margin: 0 0 20px; }
  .cards { display: flex; flex-wrap: wrap; gap: 12px; }
  .card { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 12px 16px; min-width: 150px; }
  .card .v { font-size: 26px; font-weight: 600; }
  .card .k { color: #57606a; font-size: 13px; }
  .ok { color: #2e7d32; } .low { color: #d84315; }
  section { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 8px 16px 16px; margin-top: 16px; }
  table { border-collapse: collapse; width: 100%; font-size: 14px; }
  th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
  th { color: #57606a; font-weight: 600; }
  td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
  td.t { white-space: nowrap; }
  svg.chart { display: block; width: 100%; height: auto; }
  svg text { font: 11px system-ui, sans-serif; fill: #57606a; }
  .note { color: #57606a; font-size: 13px; }
  .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
  blockquote { margin: 0; white-space: pre-wrap; }
</style>
</head>
<body>
<h1>Support report</h1>
<p class="scope">Tickets created {{ r.range.since or "any time" }} to {{ r.range.until or "now" }} (UTC dates),
  {% if r.range.team %}team {{ r.range.team }}{% else %}all teams{% endif %}{% if r.range.mailbox %}, mailbox {{ r.range.mailbox }}{% endif %}.
  Generated {{ r.range.generated_at }}.</p>

{% macro ach(v) %}<span class="{{ 'ok' if v is not none and v >= target else 'low' if v is not none else '' }}">{{ v | percent }}</span>{% endmacro %}
<div class="cards">
  <div class="card"><div class="v">{{ r.tickets }}</div><div class="k">tickets opened</div></div>
  <div class="card"><div class="v">{{ r.solved }}</div><div class="k">solved</div></div>
  <div class="card"><div class="v">{{ ach(r.first_response.achievement) }}</div><div class="k">first response on time (target {{ target | percent }})</div></div>
  <div class="card"><div class="v">{{ r.time_to_first_response.median or "-" }}</div><div class="k">median time to first response</div></div>
  <div class="card"><div class="v">{{ r.time_to_first_response.p90 or "-" }}</div><div class="k">p90 time to first response</div></div>
  <div class="card"><div class="v">{{ ach(r.next_response.achievement) }}</div><div class="k">next response on time</div></div>
  <div class="card"><div class="v">{{ r.csat.score | percent }}</div><div class="k">CSAT ({{ r.csat.satisfied }} of {{ r.csat.responses }} satisfied)</div></div>
  <div class="card"><div class="v">{{ r.csat.response_rate | percent }}</div><div class="k">survey response rate ({{ r.csat.surveys_sent }} sent)</div></div>
</div>

{% macro chart(c, id, title) %}
<svg id="{{ id }}" class="chart" role="img" aria-label="{{ title }}" xmlns="http://www.w3.org/2000/svg"
     width="{{ c.width }}" height="{{ c.height }}" viewBox="0 0 {{ c.width }} {{ c.height }}">
  <title>{{ title }}</title>
  {% for g in c.grid %}
  <line x1="{{ c.left }}" x2="{{ c.right }}" y1="{{ g.y }}" y2="{{ g.y }}" stroke="#eaeef2"/>
  <text x="{{ c.left - 6 }}" y="{{ g.y + 4 }}" text-anchor="end">{{ g.label }}</text>
  {% endfor %}
  <line x1="{{ c.left }}" x2="{{ c.right }}" y1="{{ c.bottom }}" y2="{{ c.bottom }}" stroke="#8c959f"/>
  {% for b in c.bars %}
  <rect x="{{ b.x }}" y="{{ b.y }}" width="{{ b.w }}" height="{{ b.h }}" fill="{{ b.fill }}" rx="2"><title>{{ b.title }}</title></rect>
  {% endfor %}
  {% for p in c.paths %}
  <path d="{{ p }}" fill="none" stroke="{{ line }}" stroke-width="2"/>
  {% endfor %}
  {% for p in c.points %}
  <circle cx="{{ p.x }}" cy="{{ p.y }}" r="4" fill="{{ line }}"><title>{{ p.title }}</title></circle>
  {% endfor %}
  {% if c.target %}
  <line x1="{{ c.left }}" x2="{{ c.right }}" y1="{{ c.target.y }}" y2="{{ c.target.y }}" stroke="{{ line }}" stroke-width="1.5" stroke-dasharray="6 4"/>
  <text x="{{ c.right }}" y="{{ c.target.y - 5 }}" text-anchor="end" style="fill: {{ line }}">{{ c.target.label }}</text>
  {% endif %}
  {% for x in c.xlabels %}
  <text x="{{ x.x }}" y="{{ c.bottom + 16 }}" text-anchor="middle">{{ x.label }}</text>
  {% endfor %}
  {% if c.empty %}
  <text x="{{ (c.left + c.right) / 2 }}" y="{{ (c.top + c.bottom) / 2 }}" text-anchor="middle">no data in this range</text>
  {% endif %}
</svg>
{% endmacro %}

<section>
  <h2>First response on time, by week</h2>
  <p class="note">Share of tickets created each ISO week whose first response came before its SLA due time;
    bars below the {{ target | percent }} target are <span class="low">orange</span>.</p>
  {{ chart(charts.achievement, "chart-achievement", "Weekly first-response achievement against the target") }}
</section>

<div class="grid">
<section>
  <h2>Time to first response</h2>
  <p class="note">Working time in each ticket's SLA calendar (a business day is 8h).
    Median {{ r.time_to_first_response.median or "-" }}, p90 {{ r.time_to_first_response.p90 or "-" }},
    {{ r.time_to_first_response.count }} tickets answered.</p>
  {{ chart(charts.histogram, "chart-ttfr", "Distribution of time to first response") }}
</section>
<section>
  <h2>Customer satisfaction, by week</h2>
  <p class="note">Share of satisfied answers (Good, or 4–5) among each week's tickets; the latest answer per ticket counts.</p>
  {{ chart(charts.csat, "chart-csat", "CSAT score by week") }}
</section>
</div>

{% macro groups(title, rows) %}
<table>
  <tr><th>{{ title }}</th><th class="n">tickets</th><th class="n">met</th><th class="n">breached</th><th class="n">pending</th><th class="n">on time</th></tr>
  {% for name, g in rows.items() %}
  <tr><td>{{ name }}</td><td class="n">{{ g.tickets }}</td><td class="n">{{ g.met }}</td><td class="n">{{ g.breached }}</td><td class="n">{{ g.pending }}</td><td class="n">{{ ach(g.achievement) }}</td></tr>
  {% endfor %}
</table>
{% endmacro %}
<div class="grid">
<section><h2>First response by team</h2>{{ groups("team", r.first_response.by_team) }}</section>
<section><h2>First response by priority</h2>{{ groups("priority", r.first_response.by_priority) }}</section>
</div>

<section>
  <h2>Breaching now ({{ r.breaching_now.count }})</h2>
  {% if r.breaching_now.tickets %}
  <table>
    <tr><th>ticket</th><th>priority</th><th>team</th><th>metric</th><th>due</th><th class="n">overdue</th><th>subject</th></tr>
    {% for b in r.breaching_now.tickets %}
    <tr><td>#{{ b.ticket }}</td><td>{{ b.priority }}</td><td>{{ b.team }}</td><td>{{ b.metrics | join(", ") }}</td><td class="t">{{ b.due or "-" }}</td><td class="n">{{ b.overdue or "-" }}</td><td>{{ b.subject }}</td></tr>
    {% endfor %}
  </table>
  {% else %}<p class="note">No unsolved ticket is past an SLA due time.</p>{% endif %}
</section>

<section>
  <h2>Latest comments</h2>
  {% if r.csat.comments %}
  <table>
    <tr><th>ticket</th><th>when</th><th>rating</th><th>comment</th></tr>
    {% for c in r.csat.comments %}
    <tr><td>#{{ c.ticket }}</td><td class="t">{{ c.at }}</td><td>{{ c.rating or "-" }}</td><td><blockquote>{{ c.comment }}</blockquote></td></tr>
    {% endfor %}
  </table>
  {% else %}<p class="note">No comments in this range.</p>{% endif %}
</section>
</body>
</html>
"""
