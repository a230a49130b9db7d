"""Self-contained HTML summaries of the validation results (inline CSS, no external assets).

``<quality_dir>/<as-of date>/index.html``: every suite of the night, each expectation with its
severity, outcome and statistics. ``<quality_dir>/index.html``: the nights, newest first.
Sample values of personal columns are masked; pages are 0640 in folders 0750.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from crm.file_modes import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, restrict
from crm.personal_data import mask_statistics

STYLE = """
body{font-family:system-ui,-apple-system,"Hiragino Sans","Noto Sans JP",sans-serif;margin:2rem;
color:#1f2328;max-width:72rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}.pass{color:#1a7f37}.fail{color:#cf222e;font-weight:600}
.warn{color:#9a6700;font-weight:600}.muted{color:#656d76}
.badge{display:inline-block;padding:0 .4rem;border-radius:.6rem;font-size:.75rem;
border:1px solid currentColor}
code{font-size:.8rem;background:#f6f8fa;padding:0 .2rem}
"""


def _write_private(page: Path, html: str) -> None:
    """Write a page 0640 in folders 0750 (an older, looser page or folder is tightened)."""
    restrict(page.parent, PRIVATE_DIR_MODE)
    page.write_text(html, encoding="utf-8")
    restrict(page, PRIVATE_FILE_MODE)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>\n"
    )


def _outcome(result: dict[str, Any]) -> str:
    if result["success"]:
        return '<span class="pass">passed</span>'
    if result["severity"] == "critical":
        return '<span class="fail">FAILED</span>'
    return '<span class="warn">warning</span>'


def _stats(stats: dict[str, Any]) -> str:
    parts = []
    for key, value in stats.items():
        if key == "unexpected_percent" and isinstance(value, float):
            value = f"{value:.2f}%"
        text = json.dumps(value, ensure_ascii=False, default=str)
        if len(text) > 160:
            text = text[:157] + "…"
        parts.append(f"{escape(key)}: <code>{escape(text)}</code>")
    return "<br>".join(parts)


def _suite_section(data: dict[str, Any]) -> str:
    status = (
        '<span class="pass">passed</span>'
        if data["success"] and not data["warning_failures"]
        else '<span class="fail">critical failure</span>'
        if not data["success"]
        else '<span class="warn">warnings</span>'
    )
    rows = "".join(
        "<tr>"
        f"<td><code>{escape(r['check_name'])}</code><br>"
        f'<span class="muted">{escape(r["description"])}</span></td>'
        f'<td><span class="badge">{escape(r["severity"])}</span></td>'
        f"<td>{_outcome(r)}</td>"
        f"<td>{escape(r['frame'])}</td>"
        f"<td>{_stats(mask_statistics(r['statistics'], r.get('kwargs') or {}))}"
        + (f'<br><span class="fail">{escape(r["exception"])}</span>' if r["exception"] else "")
        + "</td></tr>"
        for r in data["results"]
    )
    frames = ", ".join(f"{escape(k)} {v:,} rows" for k, v in data["frame_rows"].items())
    if data.get("scope"):
        frames += f" ({escape(data['scope']['reason'])})"
    return (
        f'<h2 id="{escape(data["suite"])}">{escape(data["suite"])} — {status}</h2>'
        f'<p class="muted">asset {escape("/".join(data["target"]))}; {frames}; validated '
        f"{escape(data['validated_at'])}; run {escape(str(data.get('run_id') or '-'))}</p>"
        "<table><tr><th>expectation</th><th>severity</th><th>outcome</th><th>frame</th>"
        f"<th>statistics</th></tr>{rows}</table>"
    )


def _night_results(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def write_night_report(quality_dir: Path, as_of_date: str) -> Path:
    """Render the night's results and refresh the index of nights; returns the night's page."""
    folder = quality_dir / as_of_date
    results = _night_results(folder)
    # Critical failures first, then warnings, then the suites that passed.
    results.sort(key=lambda d: (d["success"], not d["warning_failures"], d["suite"]))
    failed = [d["suite"] for d in results if not d["success"]]
    warned = [d["suite"] for d in results if d["success"] and d["warning_failures"]]
    summary = (
        f"<p>{len(results)} suites: "
        + (
            f'<span class="fail">critical failures in {escape(", ".join(failed))}</span>'
            if failed
            else '<span class="pass">no critical failure</span>'
        )
        + (f'; <span class="warn">warnings in {escape(", ".join(warned))}</span>' if warned else "")
        + ". Critical expectations block the exports and the publication of the night; "
        'warnings never block. <a href="../index.html">All nights</a></p>'
    )
    page = folder / "index.html"
    _write_private(
        page,
        _page(
            f"CRM warehouse quality — {as_of_date}", summary + "".join(map(_suite_section, results))
        ),
    )
    write_index(quality_dir)
    return page


def write_index(quality_dir: Path) -> Path:
    rows = []
    for folder in sorted((p for p in quality_dir.iterdir() if p.is_dir()), reverse=True):
        results = _night_results(folder)
        if not results:
            continue
        critical = sum(len(d["critical_failures"]) for d in results)
        warnings = sum(len(d["warning_failures"]) for d in results)
        checks = sum(len(d["results"]) for d in results)
        outcome = (
            f'<span class="fail">{critical} critical failed</span>'
            if critical
            else '<span class="pass">passed</span>'
        )
        rows.append(
            f'<tr><td><a href="{escape(folder.name)}/index.html">{escape(folder.name)}</a></td>'
            f"<td>{outcome}</td><td>{warnings}</td><td>{len(results)}</td><td>{checks}</td></tr>"
        )
    index = quality_dir / "index.html"
    _write_private(
        index,
        _page(
            "CRM warehouse quality — nights",
            "<table><tr><th>as of</th><th>critical</th><th>warnings</th><th>suites</th>"
            f"<th>expectations</th></tr>{''.join(rows)}</table>",
        ),
    )
    return index
