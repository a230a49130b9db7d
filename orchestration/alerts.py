"""Alerts: a clear message about a failed run or quality gate, to a log file and a webhook.

Every alert is appended as one block of text to the alert log (``CRM_ALERT_LOG``, default
``alerts.log`` beside the warehouse file) and, when ``CRM_ALERT_WEBHOOK_URL`` is set, posted
there as JSON (``{"text": ..., "alert": {...}}``, the shape Slack and Teams incoming webhooks
accept). Sending never raises: a webhook that cannot be reached is noted in the log. The log is
kept 0640 (an older, looser one is tightened); an alert names checks, files and counts, never a
data row.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from crm.file_modes import PRIVATE_FILE_MODE, restrict
from crm.settings import TOKYO, Settings

WEBHOOK_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Alert:
    """What failed, where, and how to run it again."""

    title: str
    what_failed: str
    how_to_rerun: str
    asset: str | None = None
    check: str | None = None
    run_id: str | None = None

    def render(self) -> str:
        lines = [f"[CRM warehouse] {self.title}", f"  what failed: {self.what_failed}"]
        if self.asset:
            lines.append(f"  asset: {self.asset}")
        if self.check:
            lines.append(f"  check: {self.check}")
        if self.run_id:
            lines.append(f"  run: {self.run_id}")
        lines.append(f"  how to rerun: {self.how_to_rerun}")
        return "\n".join(lines)


def alert_log_path(settings: Settings, env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ if env is None else env)
    configured = env.get("CRM_ALERT_LOG", "").strip()
    if configured:
        return Path(configured).expanduser().resolve()
    return settings.build_path.parent / "alerts.log"


def send_alert(alert: Alert, settings: Settings, env: dict[str, str] | None = None) -> Path:
    """Append the alert to the alert log and post it to the webhook if one is configured."""
    env = dict(os.environ if env is None else env)
    path = alert_log_path(settings, env)
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(TOKYO).isoformat(timespec="seconds")
    block = f"{stamp} {alert.render()}\n"
    url = env.get("CRM_ALERT_WEBHOOK_URL", "").strip()
    if url:
        problem = _post(url, {"text": alert.render(), "alert": asdict(alert)})
        if problem:
            block += f"  (webhook not reached: {problem})\n"
    with path.open("a", encoding="utf-8") as log:
        restrict(path, PRIVATE_FILE_MODE)  # an older log may be 0644: 0640 before anything is added
        log.write(block)
    return path


def _post(url: str, payload: dict[str, object]) -> str | None:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            if response.status >= 300:
                return f"HTTP {response.status}"
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        return str(exc)
    return None
