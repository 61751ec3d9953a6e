"""The gate's Data Docs work offline: their CSS, JS, fonts and logo are files of the site (data_docs_offline).

No headless browser runs here (none is installed); the tests check what a browser would fetch: every
script, stylesheet and image a page names is a file of the site, and so is every font its CSS names.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path

import great_expectations
import pytest

from clm.config import load_settings
from clm.gate import run_gate
from expectations import data_docs_offline
from expectations.data_docs_offline import NODE_MODULES, SITE_FILES, VENDOR, vendor_assets

from .builders import build_db

TEMPLATES = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
FONT_AWESOME = SITE_FILES["https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css"]


@pytest.fixture(scope="module")
def assets() -> Path:
    # Where npm is, make venv has run npm ci: missing files are a failure there, not a skip.
    if not NODE_MODULES.exists() and shutil.which("npm") is None:
        pytest.skip("npm is not installed: make venv could not fetch the Data Docs' assets")
    return NODE_MODULES


@pytest.fixture(scope="module")
def site(assets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Data Docs of one gate run: an index and a validation page five folders down."""
    tmp = tmp_path_factory.mktemp("gate")
    result = run_gate(build_db(tmp / "build.duckdb"), tmp / "docs", "run-1", settings=load_settings({}))
    assert result.passed, result.message
    assert result.data_docs_warning is None
    return tmp / "docs"


class _Loads(HTMLParser):
    """What a page makes the browser fetch: every src, and the href of a <link> (not of an anchor)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name == "src" or (tag == "link" and name == "href")):
                self.urls.append(value)


def loads(page: Path) -> list[str]:
    parser = _Loads()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.urls


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_pages_load_nothing_from_the_network(site: Path):
    assert {page.relative_to(site).parts[0] for page in pages(site)} == {"index.html", "validations"}
    for page in pages(site):
        assert [url for url in loads(page) if "://" in url or url.startswith("//")] == [], page
        # A crossorigin request for a file:// script is refused: the local copies go without SRI.
        assert "crossorigin=" not in page.read_text(encoding="utf-8"), page


def test_every_local_asset_exists_at_each_depth(site: Path):
    used: set[str] = set()
    for page in pages(site):
        for url in loads(page):
            target = (page.parent / url.split("?")[0]).resolve()
            if "static/vendor/" in url or url.endswith("logo-long.png"):
                assert target.is_file(), (page, url)
                used.add(target.relative_to(site.resolve()).as_posix())
    # Each entry of the mapping serves a page (both filter-control CSS files: the index takes the .min one).
    assert used == set(SITE_FILES.values())


def test_stylesheets_find_their_fonts(site: Path):
    fonts: dict[str, list[str]] = {}
    for css in (site / VENDOR).rglob("*.css"):
        urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", css.read_text(encoding="utf-8"))
        fonts[css.relative_to(site).as_posix()] = [url for url in urls if not url.startswith("data:")]
        for url in fonts[css.relative_to(site).as_posix()]:
            assert (css.parent / url.split("?")[0].split("#")[0]).is_file(), (css, url)
    # Font Awesome's solid, regular, brands and v4 faces, each as woff2 and ttf, in ../webfonts/.
    assert len(set(fonts[FONT_AWESOME])) == 8
    assert all(url.startswith("../webfonts/") for url in fonts[FONT_AWESOME])


def test_vendoring_again_changes_nothing(site: Path):
    before = {page: page.read_text(encoding="utf-8") for page in pages(site)}
    assert vendor_assets(site) is None
    assert {page: page.read_text(encoding="utf-8") for page in pages(site)} == before


def test_mapping_covers_exactly_what_gx_templates_load():
    """A GX upgrade that loads another file or version from a CDN fails here."""
    loaded: set[str] = set()
    for template in TEMPLATES.glob("*.j2"):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<(?:script|link|img)\b[^>]*>", text):
            loaded.update(re.findall(r"""(?:src|href)=["'](https://[^"']+)""", tag))
    # The navbar's logo URL is put together from a variable (top_navbar.j2).
    images = re.search(r'static_images_dir = "(https://[^"]+)"', (TEMPLATES / "top_navbar.j2").read_text())
    assert images is not None
    assert set(SITE_FILES) == loaded | {images.group(1) + "logo-long.png"}


def test_vendored_scripts_are_the_bytes_gx_pins(assets: Path):
    # GX gives popper.js and bootstrap.js integrity hashes; their npm files have the same bytes.
    template = (TEMPLATES / "js_script_imports.j2").read_text(encoding="utf-8")
    pinned = re.findall(r'src="([^"]+)" integrity="sha384-([^"]+)"', template)
    assert len(pinned) == 2
    for url, digest in pinned:
        data = (assets / SITE_FILES[url].removeprefix(f"{VENDOR}/")).read_bytes()
        assert base64.b64encode(hashlib.sha384(data).digest()).decode() == digest, url


def test_without_npm_assets_the_gate_passes_and_keeps_cdn_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(data_docs_offline, "NODE_MODULES", tmp_path / "node_modules")
    db = build_db(tmp_path / "build.duckdb")
    result = run_gate(db, tmp_path / "docs", "run-1", settings=load_settings({}))

    assert result.passed, result.message
    assert result.data_docs_warning is not None
    assert result.data_docs_warning.startswith("Data Docs keep their CDN links (they need a network): ")
    assert "\n" not in result.data_docs_warning
    assert "https://code.jquery.com/jquery-3.7.1.min.js" in loads(tmp_path / "docs" / "index.html")
    assert not (tmp_path / "docs" / VENDOR).exists()


def test_only_the_pages_written_since_are_read(site: Path, tmp_path: Path):
    """A run vendors its own pages, not the whole history: a page older than ``since`` keeps its CDN link
    (it is not even read), one written since is pointed at the local copy."""
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    cdn = next(url for url in SITE_FILES if url.endswith(".js"))
    old, new = copy / "old.html", copy / "validations" / "new.html"
    for page in (old, new):
        page.write_text(f'<html><head><script src="{cdn}"></script></head></html>', encoding="utf-8")
    os.utime(old, (1_000_000_000, 1_000_000_000))  # 2001
    assert vendor_assets(copy, since=time.time() - 60) is None
    assert cdn in old.read_text(encoding="utf-8")
    assert cdn not in new.read_text(encoding="utf-8")
    assert f'src="../{SITE_FILES[cdn]}"' in new.read_text(encoding="utf-8")
