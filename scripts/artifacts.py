"""The deploy artifacts: every function's `bootstrap` at the CodeUri `template.yaml` gives it
(target/lambda/<function>/, written by `make lambda-build`), which `sam deploy` zips and
uploads as it is. Prints each one's size and SHA-256 and fails when one is missing (with
--budget: or larger than the budget); with --readme, also rewrites the README's size table.

Usage: artifacts.py [--budget] [--readme]
"""

import hashlib
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Lambda maps the whole binary at every cold start; the budget per function.
BUDGET_BYTES = 6 * 1024 * 1024
MARKERS = ("<!-- sizes:start -->", "<!-- sizes:end -->")


def functions():
    """(function, artifact path) of every function in template.yaml, in template order."""
    template = (ROOT / "template.yaml").read_text()
    return [(name, ROOT / "target/lambda" / name / "bootstrap")
            for name in re.findall(r"^\s+CodeUri: target/lambda/([\w-]+)/$", template, re.M)]


def table(rows):
    lines = ["| function | arm64 `bootstrap` MiB (1,048,576 bytes) | bytes | SHA-256 (first 12) |",
             "|---|---:|---:|---|"]
    lines += [f"| {name} | {size / 1048576:.2f} | {size} | `{digest[:12]}` |"
              for name, size, digest in rows]
    return "\n".join(lines)


def rewrite_readme(rows):
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = (text.index(marker) for marker in MARKERS)
    readme.write_text(text[:start + len(MARKERS[0])] + "\n" + table(rows) + "\n" + text[end:])


def main():
    rows, problems = [], []
    for name, path in functions():
        if not path.is_file():
            problems.append(f"{name}: {path.relative_to(ROOT)} is missing (run make lambda-build)")
            continue
        data = path.read_bytes()
        rows.append((name, len(data), hashlib.sha256(data).hexdigest()))
        if "--budget" in sys.argv[1:] and len(data) > BUDGET_BYTES:
            problems.append(f"{name}: {len(data)} bytes, above the budget of {BUDGET_BYTES}")
    for name, size, digest in rows:
        print(f"{name:<24} {size / 1048576:6.2f} MiB  {size:>9}  sha256 {digest}")
    if not rows and not problems:
        problems.append("template.yaml names no function artifact")
    if "--readme" in sys.argv[1:] and not problems:
        rewrite_readme(rows)
    for problem in problems:
        print(problem, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
