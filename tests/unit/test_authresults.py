"""Agent identity from the trusted server's Authentication-Results (RFC 8601)."""

from datetime import UTC, datetime

import pytest

from mailroom.mail.authresults import Result, agent_mail_verdict, aligned, parse_header
from mailroom.mail.message import Inbound

MX = "mx.example.com"
ARRIVED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def mail(*results: str, from_addr: str = "alice@example.com", extra: tuple[tuple[str, str], ...] = ()) -> Inbound:
    """A mail whose Authentication-Results headers are `results`, topmost first."""
    headers = [("Return-Path", f"<{from_addr}>")]
    headers += [("Authentication-Results", value) for value in results]
    headers += [("Received", "from laptop.example.com by smtp.example.com"), *extra, ("From", from_addr)]
    return Inbound(
        message_id="<x1@example.com>", in_reply_to=None, references=(), from_addr=from_addr,
        from_name="Alice", reply_to=None, to=("support@example.com",), cc=(), subject="Re: [Support #1] Hi",
        date=ARRIVED, arrived_at=ARRIVED, text="Hello", new_text="Hello", headers=tuple(headers),
    )


def verdict(message: Inbound, trusted: str = MX) -> tuple[bool, str]:
    return agent_mail_verdict(message, trusted)


def test_trusted_dmarc_pass():
    header = (
        "mx.example.com; spf=pass (domain of alice@example.com designates 192.0.2.1 as permitted sender)"
        " smtp.mailfrom=alice@example.com; dkim=pass (2048-bit key; unprotected) header.d=example.com"
        ' header.i=@example.com header.b="AbC/12+x"; dmarc=pass (p=reject sp=reject dis=none) header.from=example.com'
    )
    assert verdict(mail(header)) == (True, "dmarc=pass from mx.example.com")


@pytest.mark.parametrize(
    "header",
    [
        "MX.Example.COM; dmarc=pass header.from=example.com",
        "mx.example.com 1; dmarc=pass header.from=example.com",
        '"mx.example.com"; dmarc=pass',
        "  mx.example.com  (our edge) ;dmarc = pass",
        "mx.example.com;\r\n\tdkim=none;\r\n\tdmarc=PASS (p=none)\r\n\theader.from=example.com",
    ],
)
def test_authserv_id_and_syntax_variants(header):
    assert verdict(mail(header)) == (True, "dmarc=pass from mx.example.com")


def test_the_trusted_id_is_given_case_insensitively():
    assert verdict(mail("mx.example.com; dmarc=pass"), "MX.EXAMPLE.COM")[0]


def test_trusted_dmarc_fail():
    header = "mx.example.com; dkim=pass header.d=example.com; dmarc=fail (p=reject) header.from=example.com"
    assert verdict(mail(header)) == (False, "dmarc=fail from mx.example.com")


@pytest.mark.parametrize("result", ["temperror", "permerror", "bestguesspass"])
def test_other_dmarc_results_refuse(result):
    header = f"mx.example.com; dkim=pass header.d=example.com; dmarc={result}"
    assert verdict(mail(header)) == (False, f"dmarc={result} from mx.example.com")


def test_no_header():
    assert verdict(mail()) == (False, "no Authentication-Results from mx.example.com")


def test_a_pass_from_another_server_does_not_count():
    message = mail("mx.google.com; dkim=pass header.d=example.com; dmarc=pass header.from=example.com")
    assert verdict(message) == (False, "no Authentication-Results from mx.example.com")


def test_a_server_whose_name_only_starts_like_ours_does_not_count():
    message = mail("mx.example.com.attacker.test; dmarc=pass header.from=example.com")
    assert verdict(message) == (False, "no Authentication-Results from mx.example.com")


def test_microsoft_style_header_without_authserv_id_does_not_count():
    header = (
        "spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.com; dkim=pass (signature was verified)"
        " header.d=example.com;dmarc=pass action=none header.from=example.com;compauth=pass reason=100"
    )
    assert verdict(mail(header)) == (False, "no Authentication-Results from mx.example.com")


def test_arc_authentication_results_do_not_count():
    message = mail(extra=(("ARC-Authentication-Results", "i=1; mx.example.com; dmarc=pass"),))
    assert verdict(message) == (False, "no Authentication-Results from mx.example.com")


def test_dkim_only_aligned():
    header = 'mx.example.com; dkim=pass (2048-bit key; secure) header.d=example.com header.s=s1 header.b="x;y"'
    assert verdict(mail(header)) == (True, "dkim=pass for example.com from mx.example.com (no DMARC result)")


def test_dkim_aligned_by_header_i_when_header_d_is_missing():
    header = "mx.example.com; dkim=pass header.i=alice@mail.example.com"
    assert verdict(mail(header)) == (True, "dkim=pass for mail.example.com from mx.example.com (no DMARC result)")


def test_dkim_aligned_when_dmarc_is_none():
    # dmarc=none: the domain publishes no DMARC policy, so it lacks DMARC and DKIM decides.
    header = "mx.example.com; dkim=pass header.d=example.com; dmarc=none header.from=example.com"
    assert verdict(mail(header))[0]
    unaligned = "mx.example.com; dkim=pass header.d=mailer.test; dmarc=none header.from=example.com"
    assert verdict(mail(unaligned)) == (False, "dkim=pass for mailer.test does not align with example.com")


def test_dkim_only_not_aligned():
    header = "mx.example.com; dkim=pass header.d=other.org"
    assert verdict(mail(header)) == (False, "dkim=pass for other.org does not align with example.com")


def test_one_aligned_signature_among_several_is_enough():
    header = "mx.example.com; dkim=pass header.d=esp.example.net; dkim=pass header.d=example.com"
    assert verdict(mail(header))[0]


def test_dkim_fail_and_no_result():
    assert verdict(mail("mx.example.com; dkim=fail header.d=example.com")) == (False, "dkim=fail from mx.example.com")
    assert verdict(mail("mx.example.com; none")) == (False, "no dmarc or dkim result from mx.example.com")
    assert verdict(mail("mx.example.com; spf=pass smtp.mailfrom=example.com")) == (
        False,
        "no dmarc or dkim result from mx.example.com",
    )


def test_dmarc_pass_for_another_from_domain_does_not_count():
    header = "mx.example.com; dmarc=pass header.from=attacker.test"
    assert verdict(mail(header)) == (False, "dmarc=pass from mx.example.com is for attacker.test, not example.com")


def test_one_server_may_add_several_headers():
    # OpenDKIM and OpenDMARC behind one server each add a header with the same id.
    dkim = "mx.example.com; dkim=pass header.d=example.com"
    dmarc = "mx.example.com; dmarc=pass header.from=example.com"
    assert verdict(mail(dkim, dmarc))[0]
    assert verdict(mail(dmarc, dkim))[0]


def test_a_forged_pass_below_our_servers_fail_loses():
    # Our server prepends its header; one the sender wrote sits lower down.
    genuine = "mx.example.com; dmarc=fail header.from=example.com"
    forged = "mx.example.com; dmarc=pass header.from=example.com"
    assert verdict(mail(genuine, forged)) == (False, "dmarc=fail from mx.example.com")


def test_a_forged_header_below_another_hop_is_not_read():
    # Below another server's header lies what came from outside: only the topmost
    # run of our server's headers is read.
    inner = "spam.example.com; spf=pass smtp.mailfrom=example.com"
    genuine = "mx.example.com; dkim=none"
    other_hop = "mx.attacker.test; dkim=pass header.d=attacker.test"
    forged = "mx.example.com; dmarc=pass header.from=example.com"
    assert verdict(mail(inner, genuine, other_hop, forged)) == (False, "dkim=none from mx.example.com")
    assert verdict(mail(other_hop, forged)) == (True, "dmarc=pass from mx.example.com")  # the run starts at ours


def test_no_from_address_or_no_trusted_id():
    assert verdict(mail("mx.example.com; dmarc=pass", from_addr="")) == (False, "no From address")
    assert verdict(mail("mx.example.com; dmarc=pass"), "") == (False, "no trusted authserv-id configured")


def test_parse_header_reads_rfc8601_syntax():
    parsed = parse_header(
        'mx.example.com 1 (a (nested) comment); dkim/1=pass reason="good; signature"'
        " header.d=example.com header . i=@example.com (c\\) still a comment);"
        ' auth=pass smtp.auth="alice@example.com"; iprev=pass policy.iprev=192.0.2.1;'
    )
    assert parsed.authserv_id == "mx.example.com"
    assert parsed.results == (
        Result("dkim", "pass", {"reason": "good; signature", "header.d": "example.com", "header.i": "@example.com"}),
        Result("auth", "pass", {"smtp.auth": "alice@example.com"}),
        Result("iprev", "pass", {"policy.iprev": "192.0.2.1"}),
    )


def test_parse_header_tolerates_garbage():
    assert parse_header("").results == ()
    assert parse_header(";;;").authserv_id == ""
    assert parse_header("mx.example.com; (unterminated comment dmarc=pass").results == ()
    assert parse_header('mx.example.com; dmarc="pass').results == ()
    assert parse_header("mx.example.com; none").results == ()


@pytest.mark.parametrize(
    ("signer", "from_domain", "expected"),
    [
        ("example.com", "example.com", True),
        ("Example.COM", "example.com", True),
        ("mail.example.com", "example.com", True),
        ("example.com", "eu.example.com", True),
        ("a.example.com", "b.example.com", False),  # siblings: no public-suffix list to prove the parent
        ("other.org", "example.com", False),
        ("com", "example.com", False),
        ("notexample.com", "example.com", False),
    ],
)
def test_alignment(signer, from_domain, expected):
    assert aligned(signer, from_domain) is expected
