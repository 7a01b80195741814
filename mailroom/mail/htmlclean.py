"""Pure: the HTML an engineer wrote, fit to relay — no quoted history, commands, scripts or remote content."""

# nh3 (the Rust crate ammonia) rather than a hand-written filter: an allowlist sanitizer built on
# html5ever, parsing as a browser would, so markup that hides a script from a regex cannot hide it
# from the browser either. Remote images go (they tell the sender when and where a mail is read);
# inline images (cid: parts of the engineer's mail) stay.

from __future__ import annotations

import re

import nh3
from selectolax.lexbor import LexborHTMLParser, LexborNode

from mailroom.mail.htmlquote import too_deep, without_history

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div", "dl", "dt",
    "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q",
    "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
_ATTRIBUTES = {
    "*": {"style", "dir", "lang", "title", "align"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "font": {"color", "face", "size"},
    "td": {"colspan", "rowspan", "valign", "width"},
    "th": {"colspan", "rowspan", "valign", "width"},
    "table": {"width", "cellpadding", "cellspacing", "border"},
    "ol": {"start", "type"},
}
_COMMAND = re.compile(r"\s*#\w")
_NO_SOURCE = re.compile(r"<img(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
_CID = re.compile(r"""\bsrc\s*=\s*["']?cid:([^"'\s>]+)""", re.IGNORECASE)


def answer_html(markup: str, marked: str | None = None) -> str:
    """The engineer's own HTML, safe to send on: "" when nothing of it shows (`marked`: its mark_history)."""
    if too_deep(markup):  # read as text only: an HTML5 tree of it would cost time with its square
        return ""
    # Commands first: a command line above a bottom-posted answer must not make it look interleaved.
    source = _without_commands(markup)
    html = without_history(source, marked if source == markup else None)
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid"},
        attribute_filter=_keep_attribute,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    clean = _NO_SOURCE.sub("", clean)  # an image whose remote source went shows nothing
    text = LexborHTMLParser(clean).text(separator=" ")
    return clean.strip() if text.strip() or "<img" in clean else ""


def content_ids(html: str) -> set[str]:
    """The Content-IDs of the inline images the HTML shows."""
    return {match.lower() for match in _CID.findall(html)}


def _keep_attribute(element: str, attribute: str, value: str) -> str | None:
    """An attribute's value, or None to drop it: remote images and CSS that loads anything."""
    if element == "img" and attribute == "src" and not value.lower().startswith("cid:"):
        return None
    if attribute == "style" and ("url(" in value.lower() or "expression(" in value.lower()):
        return None
    return value


def _without_commands(markup: str) -> str:
    """The HTML without the `#` command lines at its top (they are applied, never relayed)."""
    if "#" not in markup:
        return markup
    tree = LexborHTMLParser(markup)
    root = tree.body or tree.root
    if root is None:
        return markup
    removed = False
    for node in _text_nodes(root):
        text = node.text_content or ""
        if not text.strip():
            continue
        if not _COMMAND.match(text):
            break
        following = node.next
        node.decompose()
        removed = True
        if following is not None and following.tag == "br":
            following.decompose()
    # Unchanged, the markup itself: the history marked on it already still holds.
    return (root.inner_html or "") if removed else markup


def _text_nodes(root: LexborNode) -> list[LexborNode]:
    """The text nodes under root, in document order."""
    return [node for node in root.traverse(include_text=True) if node.is_text_node]
