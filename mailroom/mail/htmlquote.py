"""Pure: a reply's HTML with its quoted history marked by structure, as each mail client writes it.

Clients mark what they quote far more reliably in HTML than any text pattern can: Gmail's
`div.gmail_quote`, Apple Mail's and Thunderbird's `blockquote type="cite"`, Outlook's
`div#divRplyFwdMsg` and bordered header block. Here those marks become plain structure that
htmltext understands — quotes as `<blockquote>` (so they read as `> ` lines), attribution
containers gone, and Outlook-style history (which is not quoted, only appended) cut with
everything after it — and quoting.new_text then reads the answer as it reads a plain reply.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from mailroom.mail.quoting import is_attribution_line

# Containers whose whole content is the quoted mail, written without a <blockquote>.
_QUOTE_CONTAINERS = (
    "div.yahoo_quoted", "div[id^=yahoo_quoted]", 'div[data-marker="__QUOTED_TEXT__"]', "div.zmail_extra",
    "div.OutlookMessageHeader + blockquote",
)
# The "On … wrote:" line's own element: dropped, the quote below it stays a quote.
_ATTRIBUTIONS = ("div.gmail_attr", "div.moz-cite-prefix", "div.yahoo_quoted_attr", 'div[data-marker="__HEADERS__"]')
# Where appended history starts: that element and everything after it go.
_HISTORY_STARTS = (
    "div#divRplyFwdMsg", "div#appendonsend", "hr#zwchr", "div#mail-editor-reference-message-container",
    "div.OutlookMessageHeader", 'div[style*="border-top:solid #E1E1E1"]', 'div[style*="border-top: solid #E1E1E1"]',
    'div[style*="border-top:solid #B5C4DF"]', 'div[style*="border-top: solid #B5C4DF"]', "div#x_divRplyFwdMsg",
    "div#x_appendonsend",
)
_NEVER_SHOWN = ("script", "style", "head", "title", "template")
# Signatures the clients mark: not new text, so not relayed (the plain reading cuts them at "-- ").
_SIGNATURES = ("pre.moz-signature", "div.moz-signature", "span.gmail_signature_prefix", "div.gmail_signature")
# An HTML5 tree builder checks the open elements for each tag, so nesting thousands deep costs
# time with the square of the markup. No client nests that deep; such markup is read as text.
MAX_DEPTH = 500
_TRAILING_QUOTES = 5
_ATTRIBUTION_MAX = 1000  # longer than any "On … wrote:" line a client writes
# A tag's name runs, as an HTML5 tokenizer reads it, to a space, "/" or ">": "<a<" opens an element
# named "a<", which nothing closes, and a run of them nests as deep as any <div>.
_TAG = re.compile(r"<(/?)([a-zA-Z][^\t\n\f\r />]{0,20})[^<>]{0,2000}?(/?)>")
_NOT_NESTING = frozenset({
    "br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source", "track", "embed", "param",
    "p", "li", "td", "th", "tr", "option", "dt", "dd",
})


def mark_history(markup: str) -> str:
    """The HTML with quotes as <blockquote>, attribution lines dropped and appended history cut."""
    if too_deep(markup):
        return markup
    try:
        tree = LexborHTMLParser(markup)
    except Exception:  # noqa: BLE001 - markup the parser refuses is read as it is
        return markup
    root = tree.body or tree.root
    if root is None:
        return markup
    for selector in _HISTORY_STARTS:
        for node in root.css(selector):
            _cut_from(_history_block(node), root)
    for selector in _ATTRIBUTIONS:
        for node in root.css(selector):
            node.decompose()
    for selector in _QUOTE_CONTAINERS:
        for node in root.css(selector):
            _as_blockquote(node)
    for quote in root.css("blockquote"):
        _drop_attribution(quote)
    return root.html or ""


def without_history(markup: str, marked: str | None = None) -> str:
    """The HTML of what the engineer wrote: quotes after the last text and appended history removed.

    `marked` is mark_history(markup) when the caller has it already.
    """
    if too_deep(markup):
        return ""
    tree = LexborHTMLParser(mark_history(markup) if marked is None else marked)
    root = tree.body or tree.root
    if root is None:
        return ""
    for tag in (*_NEVER_SHOWN, *_SIGNATURES):
        for node in root.css(tag):
            node.decompose()
    # A quote after the last text is history; one between answers is what they answer. A few
    # rounds at most: a reply ends in one or two quotes, and each round walks the whole tree.
    for _ in range(_TRAILING_QUOTES):
        quote = _outermost_quote(_last_shown(root), root)
        if quote is None:
            break
        quote.decompose()
    # Quotes with the answer on one side only (bottom-posted) are history too; quotes between
    # answers are what they answer, kept — as quoting.new_text reads the plain text.
    quotes = _outermost_quotes(root)
    if quotes and _answer_runs(root, quotes) <= 1:
        for quote in quotes:
            quote.decompose()
    return root.inner_html or ""


def _drop_attribution(quote: LexborNode) -> None:
    """Remove the "On … wrote:" line Apple Mail and iOS write as a quote's first line."""
    item = quote.child
    while item is not None and item.tag != "blockquote" and not _shown_text(item).strip():
        item = item.next
    if item is None or item.tag == "blockquote":
        return
    first = _shown_text(item)
    if len(first) <= _ATTRIBUTION_MAX and is_attribution_line(first):
        item.decompose()


def _shown_text(node: LexborNode) -> str:
    """The text a node shows, read no further than an attribution line can be long."""
    if node.is_text_node:
        return node.text_content or ""
    parts: list[str] = []
    size = 0
    for item in node.traverse(include_text=True):  # lazily: a long quote is not read to its end
        if item.is_text_node:
            parts.append(item.text_content or "")
            size += len(parts[-1])
            if size > _ATTRIBUTION_MAX:
                break
    return "".join(parts)


def _outermost_quotes(root: LexborNode) -> list[LexborNode]:
    """The <blockquote> elements under root that no other <blockquote> holds."""
    outermost = []
    for quote in root.css("blockquote"):
        current = quote.parent
        while current is not None and current.mem_id != root.mem_id and current.tag != "blockquote":
            current = current.parent
        if current is None or current.tag != "blockquote":
            outermost.append(quote)
    return outermost


def _answer_runs(root: LexborNode, quotes: list[LexborNode]) -> int:
    """How many runs of shown text outside the quotes there are, quotes separating them."""
    quoted = {node.mem_id for quote in quotes for node in quote.traverse(include_text=True)}
    runs, in_answer = 0, False
    for node in root.traverse(include_text=True):
        if not ((node.is_text_node and (node.text_content or "").strip()) or node.tag == "img"):
            continue
        if node.mem_id in quoted:
            in_answer = False
        elif not in_answer:
            runs, in_answer = runs + 1, True
    return runs


def too_deep(markup: str) -> bool:
    """True when elements nest deeper than MAX_DEPTH (counted in one pass over the tags)."""
    # A closing tag counts only against an open element of its name: a stray </div> closes
    # nothing in an HTML5 tree, so it must not hide the <blockquote> opened after it.
    open_by_name: dict[str, int] = {}
    depth = 0
    for tag in _TAG.finditer(markup):
        closing, name, selfclosing = tag.groups()
        name = name.lower()
        if name in _NOT_NESTING or selfclosing:
            continue
        if not closing:
            open_by_name[name] = open_by_name.get(name, 0) + 1
            depth += 1
        elif open_by_name.get(name):
            open_by_name[name] -= 1
            depth -= 1
        if depth > MAX_DEPTH:
            return True
    return False


def _history_block(node: LexborNode) -> LexborNode:
    """The element that starts the history: Outlook's header block with its wrapper and rule above."""
    block = node
    # Outlook desktop wraps the bordered header block in a bare <div>; its <hr> stands before it.
    parent = block.parent
    if parent is not None and parent.tag == "div" and _only_child(parent, block):
        block = parent
    previous = _previous_element(block)
    if previous is not None and previous.tag == "hr":
        block = previous
    return block


def _cut_from(node: LexborNode, root: LexborNode) -> None:
    """Remove node and everything after it in document order (up to root)."""
    current: LexborNode | None = node
    while current is not None and current.mem_id != root.mem_id:
        following = []
        sibling = current.next
        while sibling is not None:
            following.append(sibling)
            sibling = sibling.next
        for item in following:
            item.decompose()
        parent = current.parent
        if current is node:
            current.decompose()
        current = parent


def _as_blockquote(node: LexborNode) -> None:
    """Replace a quote container by a <blockquote> with the same content."""
    replacement = LexborHTMLParser(f"<blockquote>{node.inner_html or ''}</blockquote>").css_first("blockquote")
    if replacement is not None:
        node.replace_with(replacement)


def _only_child(parent: LexborNode, child: LexborNode) -> bool:
    """True when child is parent's only element child (text between them blank)."""
    item = parent.child
    while item is not None:
        if item.mem_id != child.mem_id and (item.is_element_node or (item.text_content or "").strip()):
            return False
        item = item.next
    return True


def _previous_element(node: LexborNode) -> LexborNode | None:
    item = node.prev
    while item is not None and not item.is_element_node:
        if (item.text_content or "").strip():
            return None
        item = item.prev
    return item


def _last_shown(root: LexborNode) -> LexborNode | None:
    """The last node under root that shows anything: non-blank text, or an image."""
    last = None
    for node in root.traverse(include_text=True):
        if (node.is_text_node and (node.text_content or "").strip()) or node.tag == "img":
            last = node
    return last


def _outermost_quote(node: LexborNode | None, root: LexborNode) -> LexborNode | None:
    """The outermost <blockquote> holding node, or None."""
    found = None
    current = node.parent if node is not None else None
    while current is not None and current.mem_id != root.mem_id:
        if current.tag == "blockquote":
            found = current
        current = current.parent
    return found
