"""The HTML relayed to the customer: the engineer's own markup, its history gone as the text reading finds it."""

from mailroom.mail.htmlclean import answer_html

QUOTE = '<blockquote type="cite"><div>Which version fixes the PDF export?</div></blockquote>'


def test_a_bottom_posted_answer_keeps_no_quote_above_it():
    markup = (f'<div class="moz-cite-prefix">On 30/11/2026 10:00, Support wrote:<br></div>{QUOTE}'
              "<p>Version 4.2 fixes it.</p>")
    html = answer_html(markup)
    assert "Version 4.2 fixes it." in html
    assert "Which version" not in html and "wrote:" not in html and "blockquote" not in html


def test_an_interleaved_answer_keeps_the_quotes_it_answers_without_their_attribution():
    markup = ('Hi Jane,<br><blockquote type="cite"><div>On 30 Nov 2026, at 10:00, Support '
              "&lt;support@example.com&gt; wrote:</div><br><div>Which version fixes the PDF export?</div>"
              '</blockquote><div>Version 4.2.</div><blockquote type="cite"><div>And CSV?</div></blockquote>'
              "<div>Yes.</div>")
    html = answer_html(markup)
    assert "Which version fixes the PDF export?" in html and "And CSV?" in html and "Yes." in html
    assert "wrote:" not in html


def test_a_top_posted_answer_loses_the_quote_below_it():
    html = answer_html(f"<div>Version 4.2 fixes it.</div>{QUOTE}")
    assert "Version 4.2 fixes it." in html and "Which version" not in html


def test_commands_above_a_bottom_posted_answer_make_it_no_interleaved_one():
    html = answer_html(f"<div>#status solved</div>{QUOTE}<p>Version 4.2 fixes it.</p>")
    assert "Version 4.2 fixes it." in html and "Which version" not in html and "#status" not in html


def test_the_signatures_clients_mark_are_not_relayed():
    markup = ('<p>Version 4.2 fixes it.</p><pre class="moz-signature" cols="72">-- \nEve Engineer</pre>'
              '<span class="gmail_signature_prefix">-- </span><div class="gmail_signature">Eve, Example Ltd</div>')
    html = answer_html(markup)
    assert "Version 4.2 fixes it." in html and "Eve" not in html
