"""Great Expectations' Data Docs made to work offline: their CDN assets are copied into the site.

GX's templates (``great_expectations/render/view/templates/*.j2``) load jQuery, Bootstrap, Font Awesome,
Vega and the rest from public CDNs, so a site opened without network shows a blank index. The same files
come from npm (``expectations/data_docs_assets/package.json``; ``make venv`` runs ``npm ci`` there):
``vendor_assets`` copies them under ``<site>/static/vendor/`` and points every page at its copy.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

logger = logging.getLogger(__name__)

NODE_MODULES = Path(__file__).parent / "data_docs_assets" / "node_modules"
VENDOR = "static/vendor"  # in the site; holds node_modules' files at their package paths

# Every asset URL the GX pages load -> the file that replaces it, relative to the site. A file under
# static/vendor/ is copied there from the same path under node_modules; the others GX already writes.
SITE_FILES: dict[str, str] = {
    "https://code.jquery.com/jquery-3.7.1.min.js": f"{VENDOR}/jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        f"{VENDOR}/popper.js/dist/umd/popper.min.js"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        f"{VENDOR}/bootstrap/dist/js/bootstrap.min.js"
    ),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        f"{VENDOR}/bootstrap/dist/css/bootstrap.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        f"{VENDOR}/bootstrap-table/dist/bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        f"{VENDOR}/bootstrap-table/dist/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": (
        f"{VENDOR}/bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js"
    ),
    # GX takes the filter-control CSS from 1.19.0 (page.j2 the .css, index_page.j2 the .min.css); 1.19.1's
    # files differ from them only in the version comment.
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": (
        f"{VENDOR}/bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": (
        f"{VENDOR}/bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        f"{VENDOR}/bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        f"{VENDOR}/bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css"
    ),
    # jsDelivr serves a package's "jsdelivr" file for a bare name: build/<name>.min.js for these three.
    "https://cdn.jsdelivr.net/npm/vega@5": f"{VENDOR}/vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": f"{VENDOR}/vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": f"{VENDOR}/vega-embed/build/vega-embed.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        f"{VENDOR}/@fortawesome/fontawesome-free/css/all.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (
        f"{VENDOR}/@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.css"
    ),
    # GX writes its logo into the site but has the navbar load it from S3 (top_navbar.j2).
    "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png": (
        "static/images/logo-long.png"
    ),
}
# Left as is: the dark-mode logo, a CSS background in GX's inline styles (full_logo_dark.png, which GX
# does not ship); offline, dark mode shows no logo.
# Font Awesome's CSS loads ../webfonts/*: its webfonts/ is copied beside its css/.
VENDOR_DIRS = ("@fortawesome/fontawesome-free/webfonts",)

# A script, stylesheet or image tag; anchors (links to GX's site and newsletter) keep their URLs.
_TAG = re.compile(r"<(?:script|link|img)\b[^>]*>", re.IGNORECASE)
# One of the URLs above as a src or href value, with any query (the logo gets ?d=<time>&dataContextId=...).
_URL = re.compile(
    r"""\b(src|href)=(["'])(""" + "|".join(map(re.escape, SITE_FILES)) + r""")(?:\?[^"']*)?\2"""
)
# Subresource-integrity attributes: a crossorigin request for a file:// script is refused (opaque origin),
# so a local copy loads only without them. The copies are the same bytes (a test checks GX's hashes).
_SRI = re.compile(r"""\s+(?:integrity|crossorigin)=(["'])[^"']*\1""")


# File times come from the kernel's coarse clock, which may trail time.time() read just before a write.
MTIME_SLACK_S = 1.0


def vendor_assets(site: Path, node_modules: Path | None = None, since: float | None = None) -> str | None:
    """Copy the assets into ``site`` and point its HTML pages at them; a one-line warning if it could not.

    With ``since`` (a time.time()), only the pages written since then are read: the site keeps every earlier
    run's pages, vendored when they were written, so a run costs its own pages, not the history's. Only
    URLs still naming a CDN are rewritten, so vendoring a page again changes nothing. Nothing changes when an
    npm file is missing (no npm at ``make venv``): the pages keep their CDN URLs, which work online. Never
    raises for files: the Data Docs must not fail the gate.
    """
    node_modules = node_modules or NODE_MODULES
    vendored = sorted({path for path in SITE_FILES.values() if path.startswith(f"{VENDOR}/")})
    sources = [path.removeprefix(f"{VENDOR}/") for path in vendored] + list(VENDOR_DIRS)
    missing = [source for source in sources if not (node_modules / source).exists()]
    if missing:
        return _warn(
            f"Data Docs keep their CDN links (they need a network): {node_modules / missing[0]} is missing; "
            f"to vendor their assets, install npm and run `npm ci` in {node_modules.parent}"
        )
    try:
        for path in vendored:
            (site / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(node_modules / path.removeprefix(f"{VENDOR}/"), site / path)
        for folder in VENDOR_DIRS:
            shutil.copytree(node_modules / folder, site / VENDOR / folder, dirs_exist_ok=True)
        for page in site.rglob("*.html"):
            if since is not None and page.stat().st_mtime < since - MTIME_SLACK_S:
                continue
            html = page.read_text(encoding="utf-8")
            offline = _localize(html, site, page.parent)
            if offline != html:
                page.write_text(offline, encoding="utf-8")
    except OSError as error:
        return _warn(f"Data Docs may still need a network: vendoring their assets failed: {error}")
    return None


def _warn(message: str) -> str:
    logger.warning(message)
    return message


def _localize(html: str, site: Path, folder: Path) -> str:
    """``html`` with each CDN URL replaced by the path from ``folder`` (the page's) to the site's copy."""

    def relative(url: re.Match[str]) -> str:
        path = os.path.relpath(site / SITE_FILES[url.group(3)], folder).replace(os.sep, "/")
        return f"{url.group(1)}={url.group(2)}{path}{url.group(2)}"

    def local_tag(tag: re.Match[str]) -> str:
        local = _URL.sub(relative, tag.group(0))
        return _SRI.sub("", local) if local != tag.group(0) else local

    return _TAG.sub(local_tag, html)
