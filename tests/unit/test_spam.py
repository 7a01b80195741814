"""Backscatter: which mail's sender must get no automatic mail, from what the receiving server wrote."""

import pytest

from mailroom.mail.spam import SpamPolicy, score_of, spam_reason

from .test_loops import mail

TRUSTED = SpamPolicy(trusted_authserv_id="mx.example.com")
SCORED = SpamPolicy(score_header="X-Spam-Score", score_above=5.0)


def test_spf_and_dmarc_fail_from_the_trusted_server_is_a_forged_sender() -> None:
    forged = mail(("Authentication-Results", "mx.example.com; spf=fail smtp.mailfrom=bank.example; dmarc=fail header.from=bank.example"))
    assert spam_reason(forged, TRUSTED) == "spf=fail and dmarc=fail from mx.example.com"
    # The verdicts may come in separate headers (an SPF filter and OpenDMARC each write one).
    split = mail(("Authentication-Results", "mx.example.com; spf=fail"), ("Authentication-Results", "MX.example.com; dmarc=fail"))
    assert spam_reason(split, TRUSTED) is not None


@pytest.mark.parametrize(
    "value",
    [
        "mx.example.com; spf=fail; dmarc=pass",  # DMARC passed by DKIM: a forwarded mail, a person's
        "mx.example.com; spf=softfail; dmarc=fail",
        "mx.example.com; spf=pass; dmarc=fail",
        "mx.evil.example; spf=fail; dmarc=fail",  # not our server: anyone can write that
    ],
)
def test_anything_less_than_both_failing_at_our_server_is_answered(value: str) -> None:
    assert spam_reason(mail(("Authentication-Results", value)), TRUSTED) is None


def test_without_a_trusted_server_no_verdict_is_read() -> None:
    forged = mail(("Authentication-Results", "mx.example.com; spf=fail; dmarc=fail"))
    assert spam_reason(forged, SpamPolicy()) is None


def test_the_spam_flag_holds_back_automatic_mail() -> None:
    assert spam_reason(mail(("X-Spam-Flag", "YES")), SpamPolicy()) == "X-Spam-Flag: YES"


def test_a_score_above_the_threshold_holds_back_automatic_mail_and_the_highest_score_decides() -> None:
    assert spam_reason(mail(("X-Spam-Score", "7.3")), SCORED) == "X-Spam-Score 7.3 is above 5"
    assert spam_reason(mail(("X-Spam-Score", "4.9")), SCORED) is None
    # A sender's own low score above the MX's cannot hide the MX's high one.
    assert spam_reason(mail(("X-Spam-Score", "-10"), ("X-Spam-Score", "9.1")), SCORED) is not None
    assert spam_reason(mail(("X-Spam-Score", "9.1")), SpamPolicy()) is None


@pytest.mark.parametrize(
    ("value", "score"),
    [
        ("7.3", 7.3),
        ("Yes, score=12.5 required=5.0 tests=BAYES_99", 12.5),
        ("No, score=-0.1 required=5.0", -0.1),
        ("default: False [3.40 / 15.00]", 3.4),
        ("CIP:203.0.113.9;CTRY:;LANG:en;SCL:5;SRV:;IPV:NLI", 5.0),
        ("none", None),
    ],
)
def test_scores_are_read_as_spam_filters_write_them(value: str, score: float | None) -> None:
    assert score_of(value) == score
