"""The kit's record of real torch bugs (``known_issues.toml``) and the xfail marks it implies."""
from __future__ import annotations

import dataclasses
import functools
import pathlib
import re
import tomllib

PATH = pathlib.Path(__file__).with_name("known_issues.toml")


@dataclasses.dataclass(frozen=True)
class KnownIssue:
    id: str
    summary: str
    tests: tuple[str, ...]
    reproduction: str
    crashes: bool = False  # running the test would kill the process: it is reported without running
    targets: tuple[str, ...] = ("eager",)  # the --target runs it affects ("*": every target)

    def matches(self, test_name: str, target: str = "eager") -> bool:
        if target not in self.targets and "*" not in self.targets:
            return False
        return any(pattern_regex(pattern).fullmatch(test_name) for pattern in self.tests)


@functools.lru_cache(maxsize=None)
def pattern_regex(pattern: str) -> re.Pattern:
    """A test-name pattern where ``*`` matches anything and every other character, ``[`` included, itself."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


@functools.lru_cache(maxsize=None)
def known_issues(path: pathlib.Path = PATH) -> tuple[KnownIssue, ...]:
    data = tomllib.loads(path.read_text())
    return tuple(KnownIssue(i["id"], " ".join(i["summary"].split()), tuple(i["tests"]), i["reproduction"].strip(),
                            bool(i.get("crashes", False)), tuple(i.get("targets", ("eager",))))
                 for i in data.get("issue", ()))


def issue_for(test_name: str, target: str = "eager") -> KnownIssue | None:
    """The first known issue of ``target`` whose patterns match ``test_name`` (``test_x[add_-float32-cpu]``).
    An issue affects the ``eager`` target unless its ``targets`` list says otherwise."""
    return next((issue for issue in known_issues() if issue.matches(test_name, target)), None)
