"""Sphinx configuration of the tahoe-registration-api documentation (``make docs``)."""

import re
from datetime import date
from pathlib import Path

from docutils import nodes

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent


def _version():
    """Read ``__version__`` from the package without importing it (no Django needed to build)."""
    init = (REPO / "tahoe_registration_api" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = ["\']([^"\']+)["\']', init, re.MULTILINE).group(1)


# -- Project information ------------------------------------------------------

project = "tahoe-registration-api"
author = "Open edX Community"
copyright = f"{date.today().year}, {author}"  # pylint: disable=redefined-builtin
release = _version()
version = release

# -- General configuration ----------------------------------------------------

extensions = [
    "sphinx.ext.intersphinx",  # only used when a mapping is set: the build makes no network request
    "sphinxcontrib.openapi",  # docs/openapi.yaml rendered into HTML at build time
    "code_annotations.contrib.sphinx.extensions.settings",
    "code_annotations.contrib.sphinx.extensions.featuretoggles",
]
intersphinx_mapping = {}

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"
language = "en"
pygments_style = "sphinx"

# The settings and the toggles, read from their annotations in the plugin's code. Their "Source" is
# named as a path and line of this checkout (see _sources_as_paths below), not linked to a host.
PACKAGE = "tahoe_registration_api"
settings_source_path = str(REPO / PACKAGE)
featuretoggles_source_path = str(REPO / PACKAGE)
settings_repo_url = featuretoggles_repo_url = ""
settings_repo_version = featuretoggles_repo_version = "checkout"

# -- HTML output --------------------------------------------------------------

# The Open edX documentation theme; every asset is served from _static (no CDN: the pages work offline).
html_theme = "sphinx_book_theme"
html_title = "tahoe-registration-api"
html_logo = "_static/openedx-logo-tag.png"  # "Powered by Open edX", from the platform's lms/static/images
html_favicon = "_static/favicon.ico"
html_static_path = ["_static"]
html_last_updated_fmt = None
html_show_sourcelink = False
html_theme_options = {
    "home_page_in_toc": True,
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
}

# -- The OpenAPI renderer -----------------------------------------------------

# sphinxcontrib-openapi names a parameter by its schema's ``type``; a schema that is a ``oneOf``
# (``page``: a number, or ``last``) has none, and the renderer stops with a KeyError. The schema is
# valid OpenAPI 3.0: it is rendered with the types of its alternatives, such as ``integer|string``.
# And a word that ends in an underscore in a description (the secrets' prefix ``whsec_``) stays a
# word: reStructuredText would take it for a link to a target of that name.

_TRAILING_UNDERSCORE = re.compile(r"(?<=\w)_(?=[\s).,;:]|$)", re.MULTILINE)
_LITERAL = re.compile(r"(``.+?``)")


def _no_link_targets(convert):
    def converted(text):
        parts = _LITERAL.split(convert(text))
        return "".join(part if part.startswith("``") else _TRAILING_UNDERSCORE.sub(r"\\_", part) for part in parts)
    return converted


def _typed_parameter(parameter):
    schema = parameter.get("schema", {})
    if "type" in schema:
        return parameter
    alternatives = schema.get("oneOf") or schema.get("anyOf") or []
    types = sorted({alternative.get("type", "object") for alternative in alternatives}) or ["string"]
    return {**parameter, "schema": {**schema, "type": "|".join(types)}}


def _render_every_parameter():
    from sphinxcontrib.openapi import openapi30  # pylint: disable=import-outside-toplevel

    render = openapi30._httpresource

    def httpresource(endpoint, method, properties, convert, **kwargs):
        parameters = [_typed_parameter(parameter) for parameter in properties.get("parameters", [])]
        return render(endpoint, method, {**properties, "parameters": parameters}, _no_link_targets(convert), **kwargs)

    openapi30._httpresource = httpresource  # pylint: disable=protected-access


_render_every_parameter()


# -- The annotations, as the Open edX annotations write them -------------------

# An annotation's default is a Python literal ("60/m", as in edx-platform), which the extensions quote
# again; its description may hold ``literals``, which they show as typed. Both are shown as meant.
_QUOTED_TWICE = re.compile(r'^"(["\'].*["\'])"$')
_INLINE_LITERAL = re.compile(r"``(.+?)``")


def _annotations_as_written(app, doctree, docname):  # pylint: disable=unused-argument
    """Name each source as ``tahoe_registration_api/<file>, line N`` (no link); unquote defaults; literals."""
    prefix = f"/blob/{settings_repo_version}/"
    for reference in list(doctree.findall(nodes.reference)):
        refuri = reference.get("refuri", "")
        if refuri.startswith(prefix):
            path, _, line = refuri[len(prefix):].partition("#L")
            reference.replace_self(nodes.literal(text=f"{PACKAGE}/{path}, line {line}"))
    for paragraph in list(doctree.findall(nodes.paragraph)):
        ids = " ".join(paragraph.get("ids", []))
        if ids.startswith("default-"):
            for literal in list(paragraph.findall(nodes.literal)):
                quoted = _QUOTED_TWICE.match(literal.astext())
                if quoted:
                    literal.replace_self(nodes.literal(text=quoted.group(1)))
        elif ids.startswith("description-") and "``" in paragraph.astext():
            parts = _INLINE_LITERAL.split(paragraph.astext())
            paragraph.children = []
            for index, part in enumerate(parts):
                paragraph += nodes.literal(text=part) if index % 2 else nodes.Text(part)


def setup(app):
    """Hook the build: the annotations as written."""
    app.connect("doctree-resolved", _annotations_as_written)
