"""The ``inplace-conformance`` command: one subcommand per question the kit answers.

``inplace-conformance ops`` prints the inventory (every discovered in-place and ``out=`` callable of the
installed torch, and whether the catalog checks or excludes it); ``--json`` prints it as a JSON list.
``inplace-conformance report PATH.json`` renders a ``--conformance-report`` as HTML and Markdown.
Bad input prints one line and exits with status 2; no traceback.
"""
from __future__ import annotations

import argparse
import json
import sys

from .discovery import KIND_ORDER

PROG = "inplace-conformance"


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in KIND_ORDER]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"unknown kind {', '.join(unknown) or repr(text)}; "
                                         f"choose from {', '.join(KIND_ORDER)}")
    return kinds


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Property-based conformance kit for PyTorch's in-place mutation "
                                            "semantics.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    ops = commands.add_parser("ops", help="list every discovered in-place and out= callable and its status",
                              description="The inventory: each in-place (and out=) callable that the installed "
                                          "torch offers, joined with the kit's catalog.")
    ops.add_argument("--json", action="store_true", help="print a JSON list, one object per callable")
    ops.add_argument("--kind", type=_kinds, default=None, metavar="KIND[,KIND]",
                     help=f"only these kinds ({', '.join(KIND_ORDER)})")
    ops.add_argument("--status", choices=("checked", "excluded", "unknown"), default=None,
                     help="only callables with this status")
    ops.set_defaults(handler=_ops)
    report = commands.add_parser(
        "report", help="render a --conformance-report JSON file as an HTML page and a Markdown summary",
        description="Check a report written by `pytest --conformance-report PATH` against its schema, write "
                    "a self-contained HTML page (an op x dtype grid per device and target; the reproduction on "
                    "click) and print a Markdown summary (counts, failed and crashed tests) for CI logs.")
    report.add_argument("path", metavar="PATH.json", help="the JSON report")
    report.add_argument("--html", default=None, metavar="OUT.html",
                        help="where to write the page (default: PATH with the suffix .html)")
    report.add_argument("--no-html", action="store_true", help="write no page")
    report.add_argument("--markdown", default="-", metavar="OUT.md",
                        help="where to write the Markdown summary (default: standard output)")
    report.add_argument("--fail-on", type=_outcomes, default=(), metavar="OUTCOME[,OUTCOME]",
                        help="exit with status 1 when a test has one of these outcomes (e.g. failed,crashed), "
                             "or when the report is incomplete")
    report.set_defaults(handler=_report)
    return parser


def _outcomes(text: str) -> tuple[str, ...]:
    from .report_model import OUTCOMES

    outcomes = tuple(o.strip() for o in text.split(",") if o.strip())
    unknown = [o for o in outcomes if o not in OUTCOMES]
    if unknown or not outcomes:
        raise argparse.ArgumentTypeError(f"unknown outcome {', '.join(unknown) or repr(text)}; "
                                         f"choose from {', '.join(OUTCOMES)}")
    return outcomes


def _report(args, out) -> int:
    import pathlib

    from . import html_report, markdown_report
    from .report_model import ReportError, load, write_atomically

    try:
        document = load(args.path)
    except ReportError as error:
        raise UsageError(str(error)) from None
    try:
        if not args.no_html:
            page = pathlib.Path(args.html) if args.html else pathlib.Path(args.path).with_suffix(".html")
            write_atomically(page, html_report.render(document))
        summary = markdown_report.render(document)
        if args.markdown == "-":
            out.write(summary)
        else:
            pathlib.Path(args.markdown).write_text(summary, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {error.filename}: {error.strerror}") from None
    bad = args.fail_on and (not document["complete"] or any(r["outcome"] in args.fail_on
                                                             for r in document["records"]))
    return 1 if bad else 0


def _ops(args, out) -> int:
    from . import inventory  # imports torch: only when the command runs

    entries = inventory.build()
    shown = [e for e in entries if (args.kind is None or e.kind in args.kind)
             and (args.status is None or e.status == args.status)]
    if args.json:
        json.dump([e.as_json() for e in shown], out, indent=1)
        out.write("\n")
        return 0
    out.write(format_table(shown))
    out.write(format_summary(inventory.summary(shown)))
    return 0


def _detail(entry) -> str:
    if entry.status == "checked":
        via = f"via {entry.covered_by}; " if entry.covered_by else ""
        return f"{via}{entry.family}: {len(entry.checks)} checks"
    return entry.reason


def format_table(entries) -> str:
    """Fixed-width columns: name, kind, status, twin, then the family and checks, or the reason."""
    rows = [("NAME", "KIND", "STATUS", "TWIN", "DETAIL")]
    rows += [(e.name + (" (inplace=True)" if e.note.startswith("with inplace=True") else ""), e.kind, e.status,
              e.twin or "-", _detail(e)) for e in entries]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "".join("  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4] + "\n" for r in rows)


def format_summary(counts: dict[str, dict[str, int]]) -> str:
    lines = []
    for kind, c in counts.items():
        total = sum(c.values())
        lines.append(f"{kind}: {total} discovered, {c['checked']} checked ({100 * c['checked'] / total:.1f}%), "
                     f"{c['excluded']} excluded, {c['unknown']} unknown")
    return "\n" + "\n".join(lines) + "\n"


def main(argv=None, out=None) -> int:
    """Entry point of the console script; returns the exit status."""
    out = out or sys.stdout
    try:
        args = build_parser().parse_args(argv)
        return args.handler(args, out)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `inplace-conformance ops | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
