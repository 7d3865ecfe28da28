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
    """Masks credentials in every log record, whoever logged it (FFmpeg errors quote camera URLs).

    The traceback of `log.exception` is rendered here, once, and stored redacted in `exc_text`: the
    standard formatter then prints that text and never formats the exception (whose message quotes the
    URL) again. `stack_info` is cleaned the same way.
    """

    _traceback = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._traceback.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class RedactingFormatter(logging.Formatter):
    """Wraps a handler's own formatter and masks what it finally writes: a JSON or custom formatter that
    renders `exc_info` itself (not through `exc_text`) cannot leak a password either."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))

    def formatException(self, ei) -> str:  # type: ignore[no-untyped-def]
        return redact(self.inner.formatException(ei))


def _handlers() -> list[logging.Handler]:
    """The root logger's handlers and those of every named logger configured so far (uvicorn's own)."""
    found = list(logging.getLogger().handlers)
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            found += [h for h in logger.handlers if h not in found]
    return found


def install_log_redaction() -> None:
    """Put the filter and the formatter on every handler installed so far (call after logging is configured)."""
    for handler in _handlers():
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
        if not isinstance(handler.formatter, RedactingFormatter):
            handler.setFormatter(RedactingFormatter(handler.formatter))
