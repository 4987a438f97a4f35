"""A report as a short Markdown summary for CI logs and job summaries: counts per outcome, then the failed
and crashed tests with their check and reason, and the command that replays each failure."""
from __future__ import annotations

from .report_model import OUTCOMES

LISTED = 50
"""Tests listed per outcome; the HTML page has them all."""


def _cell(text) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


def _name(nodeid: str) -> str:
    return nodeid.rpartition("::")[2]


def render(document: dict) -> str:
    records, counts = document["records"], document["counts"]
    summary = ", ".join(f"{counts[o]} {o}" for o in OUTCOMES if counts[o]) or "no tests"
    versions = document["versions"]
    lines = [f"### In-place conformance: {summary}",
             "",
             f"torch `{versions['torch']}`, kit `{versions['kit']}`, hypothesis `{versions['hypothesis']}`; "
             f"profile `{document['profile']}`, seed `{document['seed'] or 'random'}`; devices "
             f"`{', '.join(document['devices']) or '-'}`; targets `{', '.join(document['targets'])}`; "
             f"{document['started']} to {document['finished'] or '(not finished)'}",
             ""]
    if not document["complete"]:
        lines += [f"**Incomplete report**: {document.get('interrupted') or 'the run had not finished'}."
                  + "".join(f" Running: `{n}`." for n in document["running"]), ""]
    if document.get("not_run"):
        lines += [f"**{len(document['not_run'])} collected tests did not run** (the session stopped early, or "
                  "pytest-xdist stopped replacing crashed workers: see `--max-worker-restart`).", ""]
    lines += ["| outcome | tests |", "| --- | ---: |", *(f"| {o} | {counts[o]} |" for o in OUTCOMES), ""]
    for outcome in ("crashed", "failed"):
        bad = [r for r in records if r["outcome"] == outcome]
        if not bad:
            continue
        lines += [f"#### {outcome.capitalize()} ({len(bad)})", "", "| test | check | broke | reason |",
                  "| --- | --- | --- | --- |"]
        lines += [f"| `{_cell(_name(r['nodeid']))}` | {_cell(r['check'])} | {_cell(r['failed_check'] or '-')} | "
                  f"{_cell(r['reason'])} |" for r in bad[:LISTED]]
        if len(bad) > LISTED:
            lines.append(f"| ... and {len(bad) - LISTED} more (see the HTML report) | | | |")
        commands = [r["command"] for r in bad[:LISTED] if r["command"]]
        if commands:
            lines += ["", "Replay:", "", "```", *commands, "```"]
        lines.append("")
    return "\n".join(lines)
