"""Pure: signs that a mail is spam or forged, whose sender must get no automatic mail (backscatter)."""

# An acknowledgement to a forged sender is backscatter: mail to a stranger who never wrote,
# which gets the support domain listed as a spam source. The ticket still opens (a person
# may be behind it, and nothing is lost); only the automatic mail is held back. Only
# verdicts the receiving server wrote count: SPF and DMARC from the trusted authserv-id's
# Authentication-Results, and the spam flag and score headers the MX adds. A sender can
# write a low score of their own, so the highest score in the mail decides.

from __future__ import annotations

import re
from dataclasses import dataclass

from mailroom.mail.authresults import trusted_headers
from mailroom.mail.message import Inbound

# SpamAssassin's X-Spam-Status "score=7.3", Exchange's "SCL:5", else the value's first number.
_SCORE = re.compile(r"(?:score=|SCL:)\s*([-+]?\d{1,6}(?:\.\d{1,6})?)", re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?\d{1,6}(?:\.\d{1,6})?")
SUSPECTED_SPAM = "suspected-spam"  # the tag of a ticket whose sender gets no automatic mail


@dataclass(frozen=True, slots=True)
class SpamPolicy:
    """Where the MX's verdicts are: the trusted authserv-id, and a score header with its threshold."""

    trusted_authserv_id: str = ""
    score_header: str = ""
    score_above: float = 5.0


def spam_flag(message: Inbound) -> str | None:
    """X-Spam-Flag: YES, as SpamAssassin and most MXs write it, else None."""
    for value in message.header_all("X-Spam-Flag"):
        if value.strip().lower() == "yes":
            return "X-Spam-Flag: YES"
    return None


def spam_reason(message: Inbound, policy: SpamPolicy) -> str | None:
    """Why the mail is suspected spam or forged (no automatic mail to its sender), else None."""
    return spam_flag(message) or _forged(message, policy.trusted_authserv_id) or _score(message, policy)


def score_of(value: str) -> float | None:
    """The spam score a header value carries, or None."""
    labelled = _SCORE.search(value)
    if labelled:
        return float(labelled.group(1))
    bare = _NUMBER.search(value)
    return float(bare.group(0)) if bare else None


def _forged(message: Inbound, trusted_authserv_id: str) -> str | None:
    """SPF fail and DMARC fail, both from the trusted server: a forged From, else None."""
    trusted = trusted_authserv_id.strip().lower()
    if not trusted:
        return None
    results = [r for header in trusted_headers(message, trusted) for r in header.results]
    if any(r.method == "spf" and r.result == "fail" for r in results) and any(
        r.method == "dmarc" and r.result == "fail" for r in results
    ):
        return f"spf=fail and dmarc=fail from {trusted_authserv_id.strip()}"
    return None


def _score(message: Inbound, policy: SpamPolicy) -> str | None:
    """The highest score in the configured header, when above the threshold, else None."""
    if not policy.score_header:
        return None
    scores = [s for s in (score_of(v) for v in message.header_all(policy.score_header)) if s is not None]
    if scores and max(scores) > policy.score_above:
        return f"{policy.score_header} {max(scores):g} is above {policy.score_above:g}"
    return None
