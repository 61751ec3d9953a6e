"""The project explains itself: docs/ holds its public interface and definitions (docs/README.md is the
index), and every reference to them resolves.

(a) No file of the repository refers to the old outside document by its section numbers (the word CONTRACT
    followed by a digit): every such reference points at a heading of docs/ instead.
(b) Every relative link of a markdown file (README.md, docs/, notebooks' markdown cells, fixtures' READMEs)
    and every short reference ``docs/<page>.md#<heading>`` anywhere (code, SQL, YAML, tests) points to a file
    that exists and, when it names an anchor of a markdown file, to an anchor that one of that file's headings
    produces by GitHub's rule (lower case, punctuation other than '-' and '_' dropped, spaces to '-', '-1',
    '-2', ... for repeated headings).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Built from parts so that this file does not match itself.
OLD_REFERENCE = re.compile("CONTRACT" + r"[ \t]+[0-9]")
# docs/<page>.md with an optional #anchor, not as the tail of a longer path (tests/docs/x.md, ../docs/x.md)
SHORT_REFERENCE = re.compile(r"(?<![\w./-])docs/([\w.-]+\.md)(?:#([\w-]*))?")
# [text](target "title"): the target (link text may hold one level of brackets)
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)"
)
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HTML_ANCHOR = re.compile(r"<a\s[^>]*(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: its rendered text lower-cased, every character other than a letter,
    a digit, '-', '_' or a space dropped, spaces turned into '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link renders as its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML tags
    text = text.replace("`", "").replace("*", "")
    text = "".join(ch for ch in text.lower() if ch.isalnum() or ch in "-_ ")
    return text.replace(" ", "-")


def _without_code(lines: list[str]) -> Iterator[tuple[int, str]]:
    """(line number, text) of markdown lines outside fenced code blocks, inline code spans blanked."""
    fence = None
    for number, line in enumerate(lines, 1):
        opening = FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)[0] * len(opening.group(1))
            continue
        if fence is not None:
            if line.strip().startswith(fence) and set(line.strip()) <= {fence[0]}:
                fence = None
            continue
        yield number, re.sub(r"(`+)(?:(?!\1).)+?\1", lambda m: " " * len(m.group(0)), line)


def anchors_of(markdown: str) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in _without_code(markdown.splitlines()):
        anchors.update(HTML_ANCHOR.findall(line))
        heading = ATX_HEADING.match(line)
        if not heading:
            continue
        anchor = github_anchor(heading.group(2))
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        anchors.add(anchor if count == 0 else f"{anchor}-{count}")
    return anchors


@cache
def _anchors_of_file(path: Path) -> frozenset[str]:
    return frozenset(anchors_of(path.read_text(encoding="utf-8")))


def _check_target(path: Path, anchor: str | None, root: Path) -> str | None:
    """Why a link to ``path`` (and ``anchor``) is broken, or None."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return f"{path} is outside the repository"
    if not path.exists():
        return f"{path.relative_to(root) if path.is_relative_to(root) else path} does not exist"
    if anchor and path.is_file() and path.suffix == ".md" and anchor not in _anchors_of_file(path):
        return f"{path.relative_to(root)} has no heading with the anchor #{anchor}"
    return None


def markdown_link_problems(markdown: str, base: Path, root: Path, own: Path | None = None) -> list[str]:
    """Broken relative links of one markdown text whose links are relative to ``base`` (a directory);
    ``own`` is the file a bare #anchor refers to."""
    problems = []
    for number, line in _without_code(markdown.splitlines()):
        targets = INLINE_LINK.findall(line) + REFERENCE_DEFINITION.findall(line)
        for target in targets:
            if not target or SCHEME.match(target):
                continue
            path_part, _, anchor = target.partition("#")
            if not path_part:
                if own is None or own.suffix != ".md":
                    continue
                path = own
            else:
                path = base / unquote(path_part)
            problem = _check_target(path, unquote(anchor) or None, root)
            if problem:
                problems.append(f"line {number}: [..]({target}): {problem}")
    return problems


def short_reference_problems(text: str, root: Path) -> list[str]:
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        for match in SHORT_REFERENCE.finditer(line):
            page, anchor = match.group(1), match.group(2)
            problem = _check_target(root / "docs" / page, anchor or None, root)
            if problem:
                problems.append(f"line {number}: {match.group(0)}: {problem}")
    return problems


def _repo_files() -> list[Path]:
    """Files tracked by git, and new files not ignored (so that a file not yet added is checked too)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the files of the repository are not known")
    paths = {ROOT / name for name in listed.decode().split("\0") if name}
    return sorted(p for p in paths if p.is_file() and ".git" not in p.relative_to(ROOT).parts)


@cache
def _texts() -> dict[Path, str]:
    texts = {}
    for path in _repo_files():
        data = path.read_bytes()
        if b"\0" not in data:
            texts[path] = data.decode("utf-8", errors="replace")
    return texts


def _notebook_markdown(text: str) -> str:
    cells = json.loads(text).get("cells", [])
    parts = [
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        for c in cells
        if c.get("cell_type") == "markdown"
    ]
    return "\n\n".join(parts)


def test_the_docs_exist():
    for page in ("README", "commands", "configuration", "landing-zone", "identity", "bad-input", "marts"):
        assert (ROOT / "docs" / f"{page}.md").is_file(), f"docs/{page}.md is missing"


def test_no_reference_to_the_outside_contract_by_section_number():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}"
        for path, text in _texts().items()
        for number, line in enumerate(text.splitlines(), 1)
        if OLD_REFERENCE.search(line)
    ]
    assert not found, "refer to a heading of docs/ instead (e.g. docs/marts.md#mrr):\n" + "\n".join(found)


def test_relative_markdown_links_resolve():
    problems = []
    for path, text in _texts().items():
        if path.is_relative_to(DASHBOARD_PAGES):
            continue  # Evidence pages link app routes: test_dashboard_links_name_its_pages
        if path.suffix == ".md":
            found = markdown_link_problems(text, path.parent, ROOT, own=path)
        elif path.suffix == ".ipynb":
            found = markdown_link_problems(_notebook_markdown(text), path.parent, ROOT)
        else:
            continue
        problems += [f"{path.relative_to(ROOT)}: {p}" for p in found]
    assert not problems, "\n".join(problems)


DASHBOARD_PAGES = ROOT / "dashboards" / "pages"


def test_dashboard_links_name_its_pages():
    """An Evidence page links another by its route, /<page> for dashboards/pages/<page>.md."""
    pages = {f"/{page.stem}" for page in DASHBOARD_PAGES.glob("*.md") if page.stem != "index"}
    linked = set()
    for page in DASHBOARD_PAGES.glob("*.md"):
        linked |= set(re.findall(r"\]\((/[^)#\s]*)", page.read_text(encoding="utf-8")))
    assert linked, "the index links its pages"
    assert linked <= pages, sorted(linked - pages)


def test_short_docs_references_resolve():
    problems = [
        f"{path.relative_to(ROOT)}: {p}"
        for path, text in _texts().items()
        for p in short_reference_problems(text, ROOT)
    ]
    assert not problems, "\n".join(problems)


def test_docs_pages_are_linked_from_the_index_and_the_readme():
    index = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    for page in sorted((ROOT / "docs").glob("*.md")):
        if page.name != "README.md":
            assert f"]({page.name})" in index, f"docs/README.md does not link {page.name}"
    assert "](docs/README.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("MRR", "mrr"),
        ("`clm run`", "clm-run"),
        ("Drops and incremental loads", "drops-and-incremental-loads"),
        ("Where `clm` comes from", "where-clm-comes-from"),
        ("CAC, and what it costs (USD)!", "cac-and-what-it-costs-usd"),
        ("fx_impact / fx-impact", "fx_impact--fx-impact"),
        ("[Link](x.md) text", "link-text"),
    ],
)
def test_github_anchor(heading, anchor):
    assert github_anchor(heading) == anchor


def test_the_checks_find_broken_links(tmp_path):
    """The checks can fail: a missing page, a missing anchor, a link out of the repository. The folder name is
    spelled through a variable so that the references below do not count as references of this file."""
    d = "docs"
    (tmp_path / d).mkdir()
    (tmp_path / d / "page.md").write_text("# Page\n\n## Same\n\n## Same\n\n```\n# not a heading\n```\n")
    assert _check_target(tmp_path / d / "page.md", "same-1", tmp_path) is None
    markdown = (
        f"[ok]({d}/page.md#same) [ok]({d}/page.md) [ok](https://example.com/x.md#nowhere) `[code](no.md)`\n"
        f"[missing page]({d}/nope.md)\n"
        f"[missing anchor]({d}/page.md#not-a-heading)\n"
        f"[code block heading]({d}/page.md#not-a-heading-either)\n"
        "[outside](../elsewhere.md)\n"
        "[own anchor](#nowhere)\n"
    )
    own = tmp_path / "README.md"
    own.write_text(markdown)
    problems = markdown_link_problems(markdown, tmp_path, tmp_path, own=own)
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 3", "line 4", "line 5", "line 6"]
    code = f"x = 1  # ({d}/page.md#same), {d}/page.md#nope, tests/{d}/other.md, {d}/gone.md\n"
    assert [p.split(": ")[1] for p in short_reference_problems(code, tmp_path)] == [
        f"{d}/page.md#nope",
        f"{d}/gone.md",
    ]
