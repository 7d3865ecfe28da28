"""Camera URLs carry passwords (in the userinfo or the query string); nothing we show or log may.

`redact` works on any text, so an error message that quotes a URL is cleaned as well.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode

_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
_SECRET_KEYS = re.compile(r"^(pass(word|wd)?|pwd|token|access_token|auth|authorization|key|api_?key|secret|"
                          r"sig(nature)?|credential|session|sessionid)$", re.IGNORECASE)
MASK = "***"


def redact_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    query_at = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    head, tail = rest[:query_at], rest[query_at:]
    if "@" in head:  # userinfo runs to the last @ before the query: passwords may contain @
        head = f"{MASK}@{head.rsplit('@', 1)[1]}"
    if tail.startswith("?"):
        query, hash_sep, fragment = tail[1:].partition("#")
        pairs = parse_qsl(query, keep_blank_values=True)
        cleaned = [(k, MASK if _SECRET_KEYS.match(k) else v) for k, v in pairs]
        tail = "?" + urlencode(cleaned, safe="*") + (hash_sep + fragment if hash_sep else "")
    return f"{scheme}://{head}{tail}"


def redact(text: str) -> str:
    """Every URL in `text` with its credentials masked."""
    return _URL.sub(lambda match: redact_url(match.group(0)), text)


class RedactingFilter(logging.Filter):
    """Masks credentials in every log record, whoever logged it (FFmpeg errors quote camera URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install_log_redaction() -> None:
    """Put the filter on every handler of the root logger (call after logging is configured)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
