"""Where user text meets HTML or markdown: the one place it is escaped.

Anything a user typed or imported (grid, community, worker and service-point names and codes,
need ids, descriptions, account names, error messages quoting a value) is hostile until
escaped here:

- :func:`html_text` for what a map shows. folium's tooltips and popups, Leaflet's layer
  control and the legend set ``innerHTML``, and a plain string tooltip lands inside a
  JavaScript template literal; the escaped text is inert in all of them. The map builders
  (:mod:`dashboard.maps` and its modules) pass every shown string through it
  and hand data to the page as GeoJSON properties, never as code.
- :func:`md_text` / :func:`md_tr` for what Streamlit renders as markdown (``st.markdown``,
  ``st.caption``, headers, alerts, widget labels): links, images, HTML, ``:colour[…]``
  directives and ``$`` math become literal text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from dashboard.i18n import tr

#: Beyond ``html.escape(quote=True)``: a backtick ends a template literal, ``$`` starts
#: ``${…}`` in one, a backslash escapes the next character in one.
_TEMPLATE_LITERAL = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})
#: The characters that start or close a markdown construct: CommonMark's inline and block
#: syntax (code, emphasis, links and images, raw HTML and autolinks, entities, headings,
#: lists, quotes, breaks), GFM's tables, strikethrough and autolinks (``http:``, ``www.``,
#: ``a@b``) and Streamlit's ``:directive[…]``, emoji and ``$`` math. A backslash before an
#: ASCII punctuation character shows it as itself (CommonMark §2.4); other characters,
#: such as ``,`` or ``"``, are left alone.
MARKDOWN_SPECIAL = "\\`*_[]()!<>&#+-=.|~:$@"
_MARKDOWN = str.maketrans({ch: "\\" + ch for ch in MARKDOWN_SPECIAL})
#: GFM's autolink literals (``http://…``, ``www.…``, ``a@b.c``) are found in the text after
#: parsing (mdast-util-gfm-autolink-literal), where escapes are gone: a WORD JOINER (U+2060,
#: invisible) before the scheme's ``:``, after ``www`` and before ``@`` keeps them text.
_AUTOLINK = re.compile(r"(?i)(?<=https)(?=:)|(?<=http)(?=:)|(?<=www)(?=\.)|(?=@)")
WORD_JOINER = "\u2060"


def html_text(value: object) -> str:
    """``value`` as text that stays text in HTML content, a quoted attribute and a JavaScript
    template literal (``&<>"'`` plus `` ` $ \\`` as character references).

    Examples
    --------
    >>> html_text("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    >>> html_text("`${alert(1)}`")
    '&#96;&#36;{alert(1)}&#96;'
    """
    return html.escape(str(value), quote=True).translate(_TEMPLATE_LITERAL)


def html_value(text: str) -> str:
    """The value :func:`html_text` escaped (what a clicked feature's property stood for)."""
    return html.unescape(text)


def html_properties(record: Mapping[str, object]) -> dict[str, object]:
    """``record`` with every string value escaped by :func:`html_text` (numbers, booleans
    and nulls kept as they are)."""
    return {k: html_text(v) if isinstance(v, str) else v for k, v in record.items()}


def md_text(value: object) -> str:
    """``value`` as markdown that Streamlit shows literally.

    Examples
    --------
    >>> md_text("[click](javascript:alert(1))")
    '\\\\[click\\\\]\\\\(javascript\\\\:alert\\\\(1\\\\)\\\\)'
    >>> md_text("![](http://beacon.invalid/x.png)").replace(WORD_JOINER, "|WJ|")
    '\\\\!\\\\[\\\\]\\\\(http|WJ|\\\\://beacon\\\\.invalid/x\\\\.png\\\\)'
    """
    return _AUTOLINK.sub(WORD_JOINER, str(value)).translate(_MARKDOWN)


def md_tr(key: str, **values: object) -> str:
    """The text ``key`` in the user's language with ``values`` put in as literal markdown:
    for ``st.caption``, ``st.subheader``, ``st.success`` and the like, where the text itself
    may use markdown but the values must not."""
    return tr(key, **{k: md_text(v) for k, v in values.items()})
