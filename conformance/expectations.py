"""Expected-failure files (``--xfails-file``, ``--skips-file``): parsing, matching and rewriting.

One test id or id prefix per line; ``#`` starts a comment. An entry's reason is its own comment, else the
comment block above its group of entries (a blank line ends a group)::

    # https://github.com/vendor/backend/issues/12: float16 rounding in add
    conformance/suite/test_pointwise.py::test_inplace_agrees_with_twin[add_-float16-
    test_inplace_agrees_with_twin[sub_-float16-mydevice]   # bare names match wherever the suite is installed

An entry with ``::`` or ending in ``.py`` names a file and a prefix of the rest of the node id; the file
matches when one path ends with the other at a ``/`` (so ``conformance/suite/test_x.py`` matches however the
kit was installed and whatever the rootdir); one starting with ``test`` is a prefix of the test's name
(``test_x[add_-float16-cpu]``). No other form is accepted.
"""
from __future__ import annotations

import dataclasses
import pathlib
import re

_PATH_ENTRY = re.compile(r"[^\s:*#]+\.py(::\S*)?")
_NAME_ENTRY = re.compile(r"test\w*(\[\S*)?")


class ExpectationsError(ValueError):
    """A missing, unreadable or malformed expectations file: the message is the one line the user sees."""


@dataclasses.dataclass(frozen=True)
class Entry:
    text: str  # the id or prefix
    line: int  # 1-based line number in the file
    comment: str  # the reason: the entry's own comment or its group's

    def matches(self, nodeid: str, name: str) -> bool:
        if not ("::" in self.text or self.text.endswith(".py")):
            return name.startswith(self.text)
        path, _, rest = self.text.partition("::")
        node_path, _, node_rest = nodeid.partition("::")
        return _same_file(path, node_path) and node_rest.startswith(rest)


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name the same file seen from different roots: equal, or one ends with ``/`` + the
    other (``conformance/suite/test_x.py``, ``suite/test_x.py``, ``../site-packages/conformance/suite/test_x.py``)."""
    return bool(a and b) and (a == b or a.endswith("/" + b) or b.endswith("/" + a))


@dataclasses.dataclass
class ExpectationsFile:
    path: pathlib.Path
    option: str  # the option that named it, for messages
    lines: list[str]
    entries: list[Entry]
    shown: str = ""  # the path as the user wrote it

    def reason(self, entry: Entry) -> str:
        where = f"{self.path.name}:{entry.line}"
        return f"{entry.comment} ({where})" if entry.comment else f"listed in {where}"

    def matching(self, nodeid: str, name: str) -> list[Entry]:
        return [entry for entry in self.entries if entry.matches(nodeid, name)]


def load(path: str | pathlib.Path, option: str, *, missing_ok: bool = False,
         base: pathlib.Path | None = None) -> ExpectationsFile:
    """Parse ``path`` (relative to ``base``, if given); raises :class:`ExpectationsError` naming ``option``,
    the file as given and the line."""
    shown = str(path)
    path = (base or pathlib.Path()) / path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return ExpectationsFile(path, option, [], [], shown)
        raise ExpectationsError(f"{option} {shown!r}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ExpectationsError(f"{option} {shown!r}: cannot read it ({reason})") from None
    lines = text.splitlines()
    return ExpectationsFile(path, option, lines, list(_entries(lines, shown, option)), shown)


def _entries(lines: list[str], shown: str, option: str):
    group_comment = ""
    after_comment = False  # the previous line was a comment line: the next comment line extends the block
    for number, raw in enumerate(lines, 1):
        entry, _, comment = _split(raw)
        comment = comment.strip()
        if not entry:
            if comment:
                group_comment = f"{group_comment} {comment}".strip() if after_comment else comment
                after_comment = True
            else:  # a blank line ends the group
                group_comment, after_comment = "", False
            continue
        after_comment = False
        if not (_PATH_ENTRY.fullmatch(entry) or _NAME_ENTRY.fullmatch(entry)):
            hint = "prefixes replace wildcards" if "*" in entry else \
                "expected a node id (path.py::test_x[...]), a test name (test_x[...]) or a prefix of one"
            raise ExpectationsError(f"{option} {shown!r} line {number}: {entry!r} is not a test id ({hint})")
        yield Entry(entry, number, comment or group_comment)


def _split(line: str) -> tuple[str, str, str]:
    """``entry  # comment`` -> (entry, '#', comment); a ``#`` starts a comment at the line's start or after
    whitespace (test ids may not contain whitespace, so an id never does)."""
    match = re.search(r"(^|\s)#", line)
    if match is None:
        return line.strip(), "", ""
    return line[:match.start()].strip(), "#", line[match.end():]


def rewrite(file: ExpectationsFile, remove: set[int], add: list[tuple[str, str]], heading: str) -> str:
    """The file's text without the entry lines numbered in ``remove``, then ``add`` (id, comment) under a
    ``heading`` comment. Every comment line stays where it was."""
    kept = [line for number, line in enumerate(file.lines, 1) if number not in remove]
    if add:
        if kept and kept[-1].strip():
            kept.append("")
        kept.append(f"# {heading}")
        kept.extend(f"{nodeid}  # {comment}" if comment else nodeid for nodeid, comment in add)
    return "\n".join(kept) + "\n" if kept else ""
