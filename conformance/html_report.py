"""A report as one self-contained HTML page: per device and target, an op x dtype grid coloured by outcome.

Everything is inline (CSS, script, data): the page can be archived as a CI artifact and opened offline.
The grid is plain HTML (readable without script); the script opens a cell's records, with the failure, the
reproduction snippet and the one-line pytest command, on click or from the URL fragment: ``#test=NODEID``
(URL-encoded) or ``#cell=ID``. Imports no torch.
"""
from __future__ import annotations

import html
import json

from .report_model import OUTCOMES, worst

DTYPE_ORDER = ("bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64", "float8_e4m3fn",
               "float8_e5m2", "float16", "bfloat16", "float32", "float64", "complex32", "complex64", "complex128")
ANY_DTYPE = "any"
"""Column of tests that are not parametrized by a dtype (each example draws one)."""
GLYPHS = {"passed": "\u2713", "failed": "\u2717", "xfailed": "x", "skipped": "\u2013", "crashed": "\u26a1"}
LABELS = {"passed": "passed", "failed": "failed", "xfailed": "expected failure (known torch issue)",
          "skipped": "skipped", "crashed": "crashed or timed out"}


def render(document: dict) -> str:
    """The HTML page of a report ``document`` (already checked against the schema)."""
    records = document["records"]
    cells, grids, others = _layout(records)
    data = {"records": records, "cells": cells}
    title = f"In-place conformance: torch {document['versions']['torch']}"
    return _PAGE.format(
        title=_e(title), style=_STYLE, script=_SCRIPT,
        data=json.dumps(data, ensure_ascii=True).replace("<", "\\u003c"),
        header=_header(document), grids="".join(grids) or "<p class=none>No op-parametrized tests.</p>",
        others=others)


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _layout(records):
    """Cells (id -> record indices), one grid per (device, target), and the table of other tests."""
    groups: dict[tuple, dict[tuple, list[int]]] = {}
    other: list[int] = []
    for index, record in enumerate(records):
        if record["op"] is None:
            other.append(index)
            continue
        key = (record["device"] or "-", record["target"])
        groups.setdefault(key, {}).setdefault((record["op"], record["dtype"] or ANY_DTYPE), []).append(index)
    cells: dict[str, list[int]] = {}
    grids = []
    for (device, target), by_cell in sorted(groups.items()):
        dtypes = {dtype for _, dtype in by_cell}
        columns = [d for d in DTYPE_ORDER if d in dtypes] + sorted(dtypes - set(DTYPE_ORDER) - {ANY_DTYPE})
        columns += [ANY_DTYPE] if ANY_DTYPE in dtypes else []
        ops = sorted({op for op, _ in by_cell}, key=lambda op: (op.lower().lstrip("_"), op))
        counts = {o: 0 for o in OUTCOMES}
        rows = []
        for op in ops:
            row_outcomes = []
            tds = []
            for dtype in columns:
                indices = by_cell.get((op, dtype))
                if not indices:
                    tds.append("<td class=empty></td>")
                    continue
                cell_id = f"c{len(cells)}"
                cells[cell_id] = indices
                outcomes = [records[i]["outcome"] for i in indices]
                for o in outcomes:
                    counts[o] += 1
                shown = worst(outcomes)
                row_outcomes.append(shown)
                tip = "; ".join(f"{records[i]['check']}: {records[i]['outcome']}" for i in indices)
                more = f"<sub>{len(indices)}</sub>" if len(indices) > 1 else ""
                tds.append(f"<td><a class='cell {shown}' id={cell_id} href='#cell={cell_id}' "
                           f"title='{_e(op)} {_e(dtype)}: {_e(tip)}'>{GLYPHS[shown]}{more}</a></td>")
            problem = " problem" if worst(row_outcomes) in ("failed", "crashed") else ""
            rows.append(f"<tr class='row{problem}'><th scope=row>{_e(op)}</th>{''.join(tds)}</tr>")
        head = "".join(f"<th scope=col><span>{_e(c)}</span></th>" for c in columns)
        grids.append(
            f"<section class=grid><h2>{_e(device)} <span class=sep>/</span> {_e(target)}</h2>"
            f"<p class=counts>{_chips(counts)}</p>"
            f"<div class=scroll><table><thead><tr><th class=corner>op \\ dtype</th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div></section>")
    others = ""
    if other:
        rows = []
        for index in other:
            record = records[index]
            cell_id = f"c{len(cells)}"
            cells[cell_id] = [index]
            problem = " problem" if record["outcome"] in ("failed", "crashed") else ""
            rows.append(
                f"<tr class='row{problem}'><td><a class='cell {record['outcome']}' id={cell_id} "
                f"href='#cell={cell_id}'>{GLYPHS[record['outcome']]}</a></td><td>{_e(record['check'])}</td>"
                f"<td>{_e(record['device'] or '')}</td><td>{_e(record['target'])}</td>"
                f"<td class=reason>{_e(record['reason'] or '')}</td><td class=nodeid>{_e(record['nodeid'])}</td></tr>")
        others = ("<section class=grid><h2>Tests not parametrized by an op</h2><div class=scroll><table class=list>"
                  "<thead><tr><th></th><th>check</th><th>device</th><th>target</th><th>reason</th><th>test</th>"
                  f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div></section>")
    return cells, grids, others


def _chips(counts: dict) -> str:
    return "".join(f"<span class='chip {o}' title='{_e(LABELS[o])}'><b>{GLYPHS[o]}</b> {counts[o]} {o}</span>"
                   for o in OUTCOMES)


def _header(document: dict) -> str:
    versions = document["versions"]
    facts = [("torch", versions["torch"]), ("kit", versions["kit"]), ("hypothesis", versions["hypothesis"]),
             ("python", versions["python"]), ("profile", document["profile"]),
             ("seed", document["seed"] or "random"), ("devices", ", ".join(document["devices"]) or "-"),
             ("targets", ", ".join(document["targets"])),
             ("reference device", document.get("reference_device") or "same as tested"),
             ("workers", document.get("workers", 0)), ("started", document["started"]),
             ("finished", document["finished"] or "-")]
    dl = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in facts)
    capabilities = ""
    if document["capabilities"]:
        items = "".join(
            f"<li><b>{_e(device)}</b>: " + ", ".join(
                f"{_e(k)}={_e(', '.join(v) if isinstance(v, list) else v)}" for k, v in caps.items()) + "</li>"
            for device, caps in document["capabilities"].items())
        capabilities = f"<details class=caps><summary>Device capabilities</summary><ul>{items}</ul></details>"
    banner = ""
    if not document["complete"]:
        why = document.get("interrupted") or "the run was still going, or its pytest process was killed"
        running = "".join(f"<li><code>{_e(n)}</code></li>" for n in document["running"])
        running = f"<p>Running when the report was written:</p><ul>{running}</ul>" if running else ""
        banner = f"<div class=banner><b>Incomplete report</b> ({_e(why)}).{running}</div>"
    not_run = document.get("not_run") or []
    if not_run:
        items = "".join(f"<li><code>{_e(n)}</code></li>" for n in not_run[:200])
        more = f"<li>... and {len(not_run) - 200} more</li>" if len(not_run) > 200 else ""
        banner += (f"<details class=banner><summary><b>{len(not_run)} collected tests did not run</b> (the session "
                   f"stopped early, or pytest-xdist stopped replacing crashed workers: see --max-worker-restart)"
                   f"</summary><ul>{items}{more}</ul></details>")
    total = len(document["records"])
    collected = document.get("collected")
    of = f" of {collected} collected" if collected is not None and collected != total else ""
    return (f"<h1>In-place conformance report</h1>{banner}<dl class=facts>{dl}</dl>{capabilities}"
            f"<div class=legend><span class=total>{total} tests{of}</span>{_chips(document['counts'])}"
            "<label><input type=checkbox id=problems> only rows with failures or crashes</label></div>")


_PAGE = """<!DOCTYPE html>
<html lang=en><head><meta charset=utf-8><meta name=viewport content="width=device-width, initial-scale=1">
<title>{title}</title><style>{style}</style></head>
<body><main>{header}{grids}{others}</main>
<aside id=detail hidden><button id=close aria-label=close>\u00d7</button><div id=detail-body></div></aside>
<script id=report-data type="application/json">{data}</script>
<script>{script}</script></body></html>
"""

_STYLE = """
:root{--passed:#2da44e;--failed:#cf222e;--xfailed:#bf8700;--skipped:#8c959f;--crashed:#8250df;
--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--soft:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--fg);background:var(--bg)}
main{padding:20px 28px;max-width:100%}
h1{font-size:22px;margin:0 0 12px}
h2{font-size:17px;margin:26px 0 6px}
h2 .sep{color:var(--muted);font-weight:400}
code,pre,.nodeid{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.facts{display:flex;flex-wrap:wrap;gap:6px 22px;margin:0 0 10px}
.facts div{display:flex;gap:6px}.facts dt{color:var(--muted)}.facts dd{margin:0;font-weight:600}
.caps{margin:4px 0 10px;color:var(--muted)}.caps ul{margin:4px 0}
.banner{border:1px solid #d4a72c;background:#fff8c5;border-radius:6px;padding:8px 12px;margin:0 0 12px}
.banner ul,.banner p{margin:4px 0}
.legend{display:flex;flex-wrap:wrap;align-items:center;gap:8px;margin:8px 0 4px}
.legend label{margin-left:10px;color:var(--muted)}
.total{font-weight:600;margin-right:6px}
.chip{display:inline-flex;align-items:center;gap:5px;border-radius:999px;padding:2px 10px;color:#fff;
font-size:12.5px;font-weight:600}
.chip b{font-weight:700}
.counts{margin:0 0 8px;display:flex;flex-wrap:wrap;gap:6px}
.passed{background:var(--passed)}.failed{background:var(--failed)}.xfailed{background:var(--xfailed)}
.skipped{background:var(--skipped)}.crashed{background:var(--crashed)}
.scroll{overflow:auto;max-height:80vh;border:1px solid var(--line);border-radius:6px;display:inline-block;
max-width:100%}
table{border-collapse:separate;border-spacing:0}
th,td{padding:0}
thead th{position:sticky;top:0;background:var(--soft);z-index:2;border-bottom:1px solid var(--line);
font-weight:600;font-size:12px;color:var(--muted)}
thead th span{display:block;writing-mode:vertical-rl;transform:rotate(180deg);padding:6px 3px;white-space:nowrap}
th.corner{text-align:left;padding:6px 10px;vertical-align:bottom;left:0;z-index:3}
tbody th{position:sticky;left:0;background:var(--bg);text-align:left;font-weight:500;padding:1px 10px;
white-space:nowrap;border-right:1px solid var(--line);font-family:ui-monospace,Menlo,Consolas,monospace;
font-size:12.5px}
tbody tr:hover th{background:var(--soft)}
td{text-align:center}
a.cell{display:inline-flex;align-items:center;justify-content:center;width:26px;height:22px;margin:1px;
border-radius:4px;color:#fff;text-decoration:none;font-size:13px;font-weight:700}
a.cell sub{font-size:9px;font-weight:600;margin-left:1px;opacity:.9}
a.cell:hover,a.cell.open{outline:2px solid var(--fg);outline-offset:1px}
td.empty{background:repeating-linear-gradient(45deg,transparent 0 4px,#eef1f4 4px 5px)}
table.list td{text-align:left;padding:3px 10px;border-bottom:1px solid var(--soft);vertical-align:top}
table.list thead th{text-align:left;padding:6px 10px}
td.reason{max-width:520px}
body.only-problems tr.row:not(.problem){display:none}
.none{color:var(--muted)}
aside{position:fixed;top:0;right:0;bottom:0;width:min(760px,62vw);background:var(--bg);
border-left:1px solid var(--line);box-shadow:-6px 0 24px rgba(31,35,40,.14);overflow:auto;padding:18px 22px;
z-index:10}
#close{position:absolute;top:10px;right:14px;border:0;background:none;font-size:24px;cursor:pointer;
color:var(--muted)}
aside h3{margin:0 30px 10px 0;font-size:16px}
.record{border:1px solid var(--line);border-radius:6px;margin:0 0 14px;overflow:hidden}
.record.target{border-color:var(--fg)}
.record header{display:flex;align-items:center;gap:8px;padding:8px 12px;background:var(--soft)}
.record header .chip{flex:none}
.record .body{padding:8px 12px}
.record .meta{color:var(--muted);font-size:12.5px;margin:0 0 6px}
.record h4{margin:10px 0 4px;font-size:13px;display:flex;justify-content:space-between;align-items:center}
pre{margin:0;padding:8px 10px;background:#f6f8fa;border:1px solid var(--line);border-radius:6px;overflow:auto;
white-space:pre;max-height:340px}
pre.repro{background:#f0f7ff;border-color:#b6d7ff}
pre.command{white-space:pre-wrap;word-break:break-all}
button.copy{font-size:11.5px;border:1px solid var(--line);background:var(--bg);border-radius:5px;padding:1px 8px;
cursor:pointer}
"""

_SCRIPT = r"""
(function () {
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var panel = document.getElementById("detail"), body = document.getElementById("detail-body");
  var labels = {passed: "passed", failed: "failed", xfailed: "xfailed", skipped: "skipped", crashed: "crashed"};
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function block(parent, title, text, cls) {
    if (!text) return;
    var h = el("h4", null, title), copy = el("button", "copy", "copy");
    copy.addEventListener("click", function () {
      if (navigator.clipboard) navigator.clipboard.writeText(text);
      copy.textContent = "copied";
    });
    h.appendChild(copy);
    parent.appendChild(h);
    parent.appendChild(el("pre", cls || null, text));
  }
  function show(cellId, nodeid) {
    var indices = data.cells[cellId];
    if (!indices) return false;
    var first = data.records[indices[0]];
    body.textContent = "";
    body.appendChild(el("h3", null, (first.op || first.check) + (first.op ? "  " + (first.dtype || "any dtype") : "")
      + "  on " + (first.device || "any device") + " / " + first.target));
    indices.forEach(function (i) {
      var r = data.records[i], box = el("section", "record" + (r.nodeid === nodeid ? " target" : ""));
      box.dataset.nodeid = r.nodeid;
      var head = el("header");
      head.appendChild(el("span", "chip " + r.outcome, labels[r.outcome]));
      head.appendChild(el("b", null, r.check));
      if (r.failed_check) head.appendChild(el("span", null, "broke " + r.failed_check));
      box.appendChild(head);
      var inner = el("div", "body");
      inner.appendChild(el("div", "meta", r.nodeid));
      var facts = [r.duration.toFixed(2) + " s"];
      if (r.examples !== null) facts.push(r.examples + " examples");
      if (r.phase) facts.push("in " + r.phase);
      inner.appendChild(el("div", "meta", facts.join(" \u00b7 ")));
      if (r.reason) inner.appendChild(el("div", "reason", r.reason));
      block(inner, "Reproduction", r.reproduction, "repro");
      block(inner, "Replay with pytest", r.command, "repro command");
      var message = r.message || "";
      if (r.reproduction && message.indexOf("\n  reproduce with:") >= 0) {
        message = message.slice(0, message.indexOf("\n  reproduce with:"));  // shown above
      }
      block(inner, "Failure", message);
      box.appendChild(inner);
      body.appendChild(box);
    });
    document.querySelectorAll("a.cell.open").forEach(function (a) { a.classList.remove("open"); });
    var cell = document.getElementById(cellId);
    if (cell) cell.classList.add("open");
    panel.hidden = false;
    var target = body.querySelector(".record.target");
    if (target) target.scrollIntoView();
    return true;
  }
  function fromHash() {
    var hash = decodeURIComponent(location.hash.slice(1));
    if (hash.indexOf("cell=") === 0) return show(hash.slice(5));
    if (hash.indexOf("test=") === 0) {
      var nodeid = hash.slice(5);
      for (var id in data.cells) {
        if (data.cells[id].some(function (i) { return data.records[i].nodeid === nodeid; })) return show(id, nodeid);
      }
    }
    panel.hidden = true;
    return false;
  }
  document.getElementById("close").addEventListener("click", function () {
    history.replaceState(null, "", location.pathname + location.search);
    panel.hidden = true;
  });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") panel.hidden = true; });
  document.getElementById("problems").addEventListener("change", function (e) {
    document.body.classList.toggle("only-problems", e.target.checked);
  });
  window.addEventListener("hashchange", fromHash);
  fromHash();
})();
"""
