"""``coverage.html``, its PNG charts and ``coverage.json``: the numbers of `storage.coverage` drawn.

`write_coverage(numbers, folder)` writes, into ``folder``:

* ``months-<site>.png`` per site: articles per month, in total (bars) and per section (a
  heat map, one row per section); a gap (a month without an article between months with many)
  is red in both;
* ``fill-rates.png``: per field, the share of each site's articles that have it;
* ``failures.png``: failures by reason (URLs still waiting for another try, plus the failures and
  dropped articles the crawl reports counted), when there are any;
* ``coverage.html``, a page with the charts and their numbers as tables, and ``coverage.json``
  with every number.

Charts are drawn with matplotlib's Agg canvas (no display needed); files are written whole
(through a temporary name), so a reader never sees half a chart.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

GAP_COLOUR = "#d62728"
BAR_COLOUR = "#1f77b4"


def write_coverage(numbers: dict, folder: Path) -> list[Path]:
    """Write the charts, ``coverage.html`` and ``coverage.json`` into ``folder``; return them."""
    folder.mkdir(parents=True, exist_ok=True)
    charts: dict[str, str] = {}
    for site, site_numbers in numbers["sites"].items():
        if site_numbers["months"]:
            name = f"months-{_file_part(site)}.png"
            _save(_months_figure(site, site_numbers), folder / name)
            charts[f"months/{site}"] = name
    if any(numbers["sites"][site]["fill_rates"] for site in numbers["sites"]):
        _save(_fill_rates_figure(numbers["sites"]), folder / "fill-rates.png")
        charts["fill_rates"] = "fill-rates.png"
    failures = _failure_rows(numbers["failures"])
    if failures:
        _save(_failures_figure(failures), folder / "failures.png")
        charts["failures"] = "failures.png"
    numbers = {**numbers, "charts": charts}
    _write_text(folder / "coverage.json", json.dumps(numbers, ensure_ascii=False, indent=2))
    _write_text(folder / "coverage.html", _page(numbers, failures))
    return [folder / "coverage.html", folder / "coverage.json"] + [
        folder / name for name in charts.values()
    ]


def _months_figure(site: str, numbers: dict) -> Figure:
    months = list(numbers["months"])
    sections = list(numbers["sections"])
    totals = [numbers["months"][month] for month in months]
    site_gaps = {gap["month"] for gap in numbers["gaps"] if gap["section"] is None}
    section_gaps = {(gap["section"], gap["month"]) for gap in numbers["gaps"] if gap["section"]}
    # Ten years of months still fit a screen: cells narrow, the gap outlines stay visible.
    width = min(20.0, max(6.0, 0.35 * len(months) + 3))
    figure = Figure(figsize=(width, 2.5 + 0.35 * len(sections)), layout="constrained")
    top, bottom = figure.subplots(
        2, 1, sharex=True, height_ratios=[1, max(1, len(sections) * 0.25)]
    )
    colours = [GAP_COLOUR if month in site_gaps else BAR_COLOUR for month in months]
    top.bar(range(len(months)), totals, color=colours)
    for index in (i for i, month in enumerate(months) if month in site_gaps):
        top.axvspan(index - 0.5, index + 0.5, color=GAP_COLOUR, alpha=0.25)
    top.set_ylabel("articles")
    top.set_title(f"{site}: articles per month (red: gap)")
    grid = [[numbers["sections"][section][month] for month in months] for section in sections]
    # Empty months white, so a hole stands out against the shades of the months with articles.
    cmap = ListedColormap(["#ffffff"] + [_blue(i / 255) for i in range(1, 256)])
    bottom.imshow(grid, aspect="auto", cmap=cmap, interpolation="nearest",
                  vmin=0, vmax=max(max(row) for row in grid) or 1)
    for row, section in enumerate(sections):
        for column, month in enumerate(months):
            if (section, month) in section_gaps:
                bottom.add_patch(Rectangle((column - 0.5, row - 0.5), 1, 1, fill=False,
                                           edgecolor=GAP_COLOUR, linewidth=2.5))
    bottom.set_yticks(range(len(sections)), sections, fontsize=8)
    step = max(1, len(months) // 24)
    bottom.set_xticks(range(0, len(months), step), months[::step], rotation=90, fontsize=8)
    return figure


def _blue(share: float) -> tuple[float, float, float]:
    """A shade from pale to dark blue."""
    return (0.85 - 0.75 * share, 0.9 - 0.55 * share, 1.0 - 0.3 * share)


def _fill_rates_figure(sites: dict) -> Figure:
    fields = list(next(numbers["fill_rates"] for numbers in sites.values()
                       if numbers["fill_rates"]))
    names = [site for site in sites if sites[site]["fill_rates"]]
    figure = Figure(figsize=(7, 1.5 + 0.3 * len(fields) * max(1, len(names) / 2)),
                    layout="constrained")
    axes = figure.subplots()
    height = 0.8 / len(names)
    for number, site in enumerate(names):
        rates = [sites[site]["fill_rates"].get(field, 0) * 100 for field in fields]
        bars = axes.barh([i + number * height for i in range(len(fields))], rates,
                         height=height, label=site)
        axes.bar_label(bars, fmt="%.0f%%", fontsize=7, padding=2)
    axes.set_yticks([i + 0.4 - height / 2 for i in range(len(fields))], fields)
    axes.invert_yaxis()
    axes.set_xlim(0, 108)  # room for the labels of full bars
    axes.set_xlabel("% of articles with the field")
    axes.set_title("Fill rate per field")
    if len(names) > 1:
        axes.legend(fontsize=8)
    return figure


def _failure_rows(failures: dict) -> list[tuple[str, str, int]]:
    """(kind, reason, count) for every failure counted, largest first."""
    rows = [("waiting for retry", reason, count)
            for reasons in failures["failed_articles"].values()
            for reason, count in reasons.items()]
    rows += [("failed in crawls", reason, count)
             for reason, count in failures["crawl_reports"]["failed_by_reason"].items()]
    rows += [("dropped in crawls", reason, count)
             for reason, count in failures["crawl_reports"]["dropped_by_reason"].items()]
    return sorted((row for row in rows if row[2]), key=lambda row: -row[2])


def _failures_figure(rows: list[tuple[str, str, int]]) -> Figure:
    figure = Figure(figsize=(7, 1.5 + 0.3 * len(rows)), layout="constrained")
    axes = figure.subplots()
    colours = {"waiting for retry": GAP_COLOUR, "failed in crawls": "#ff7f0e",
               "dropped in crawls": "#7f7f7f"}
    axes.barh(range(len(rows)), [count for _, _, count in rows],
              color=[colours[kind] for kind, _, _ in rows])
    axes.set_yticks(range(len(rows)), [f"{reason} ({kind})" for kind, reason, _ in rows],
                    fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("URLs")
    axes.set_title("Failures by reason")
    return figure


def _page(numbers: dict, failures: list[tuple[str, str, int]]) -> str:
    charts = numbers["charts"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Archive coverage</title>',
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
        "margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
        "th:first-child,td:first-child{text-align:left}td.gap{background:#f8c8c8}"
        "img{max-width:100%}</style></head><body>",
        "<h1>Archive coverage</h1>",
        f"<p>Generated {_e(numbers['generated'])} from <code>{_e(numbers['store'])}</code>: "
        f"{numbers['articles']} articles.</p>",
        "<h2>Gaps</h2>",
    ]
    if numbers["gaps"]:
        parts.append("<table><tr><th>site</th><th>section</th><th>month</th>"
                     "<th>month before</th><th>month after</th></tr>")
        parts += [
            f"<tr><td>{_e(gap['site'])}</td><td>{_e(gap['section'] or '(all sections)')}</td>"
            f"<td>{_e(gap['month'])}</td><td>{gap['before']}</td><td>{gap['after']}</td></tr>"
            for gap in numbers["gaps"]
        ]
        parts.append("</table>")
    else:
        parts.append("<p>No gap: no month without articles between months with many.</p>")
    for site, site_numbers in numbers["sites"].items():
        parts.append(f"<h2>{_e(site)}: articles per month</h2>")
        parts.append(f"<p>{site_numbers['articles']} articles, "
                     f"{_e(site_numbers['first_month'])} to {_e(site_numbers['last_month'])}; "
                     f"{site_numbers['undated']} without a publication date.</p>")
        if f"months/{site}" in charts:
            parts.append(f'<img src="{_e(charts["months/" + site])}" '
                         f'alt="articles per month of {_e(site)}">')
        parts.append(_months_table(site_numbers))
    parts.append("<h2>Fill rates</h2>")
    if "fill_rates" in charts:
        parts.append(f'<img src="{charts["fill_rates"]}" alt="fill rate per field">')
        sites = [site for site in numbers["sites"] if numbers["sites"][site]["fill_rates"]]
        fields = list(numbers["sites"][sites[0]]["fill_rates"])
        parts.append("<table><tr><th>field</th>" + "".join(f"<th>{_e(s)}</th>" for s in sites)
                     + "</tr>")
        parts += [
            f"<tr><td>{_e(field)}</td>" + "".join(
                f"<td>{numbers['sites'][site]['fill_rates'][field]:.1%}</td>" for site in sites
            ) + "</tr>"
            for field in fields
        ]
        parts.append("</table>")
    parts.append("<h2>Failures by reason</h2>")
    if failures:
        parts.append(f'<img src="{charts["failures"]}" alt="failures by reason">')
        parts.append("<table><tr><th>reason</th><th>kind</th><th>URLs</th></tr>")
        parts += [f"<tr><td>{_e(reason)}</td><td>{_e(kind)}</td><td>{count}</td></tr>"
                  for kind, reason, count in failures]
        parts.append("</table>")
    else:
        parts.append("<p>No failure recorded.</p>")
    reports = numbers["failures"]["crawl_reports"]["crawls"]
    parts.append(f"<p>Failures in crawls are summed over the {reports} crawl reports; URLs "
                 "waiting for retry are those the store will try again.</p></body></html>")
    return "\n".join(parts) + "\n"


def _months_table(numbers: dict) -> str:
    months = list(numbers["months"])
    gaps = {(gap["section"], gap["month"]) for gap in numbers["gaps"]}
    rows = [("(all sections)", None, numbers["months"])]
    rows += [(section, section, counts) for section, counts in numbers["sections"].items()]
    out = ["<table><tr><th>section</th>" + "".join(f"<th>{m}</th>" for m in months) + "</tr>"]
    for label, section, counts in rows:
        cells = "".join(
            f'<td class="gap">{counts[m]}</td>' if (section, m) in gaps else f"<td>{counts[m]}</td>"
            for m in months
        )
        out.append(f"<tr><td>{_e(label)}</td>{cells}</tr>")
    return "\n".join(out) + "</table>"


def _save(figure: Figure, path: Path) -> None:
    partial = path.with_name(f".{path.name}.partial")
    FigureCanvasAgg(figure)
    figure.savefig(partial, format="png", dpi=100)
    os.replace(partial, path)


def _write_text(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _file_part(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "site"


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))
