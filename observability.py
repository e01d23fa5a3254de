"""Logging for the API and the worker: JSON lines, a request id, and personal data masked."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

# The request being served: set by the API's middleware, carried by Temporal headers into the
# workflows and activities it reaches ("-" elsewhere). Defined beside the interceptor that
# carries it, since workflows/ and activities/ may not import this module.
from workflows.propagation import request_id as request_id

MASK = "***"

# The six ID formats of domain/identity.py, bounded so that contribution ids (lowercase hex),
# order numbers and ISO dates survive. Over-masking a stray 8-digit number is the accepted cost.
_ID_PATTERNS = [
    re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])"),  # resident, HMT, new foreign PR
    re.compile(r"(?<![0-9A-Za-z])[A-Z]{3}[0-9]{12}(?![0-9A-Za-z])"),  # old foreign PR
    re.compile(r"(?<![0-9A-Za-z])[HM][0-9]{8}(?:[0-9]{2})?(?![0-9A-Za-z])"),  # HK/Macao permit
    re.compile(r"(?<![0-9A-Za-z.:\-])[0-9]{8}(?![0-9A-Za-z.:\-])"),  # Taiwan permit
    # Passports: 6-17 capitals and digits with at least one of each (not plain words or numbers).
    re.compile(
        r"(?<![0-9A-Za-z])(?=[A-Z0-9]*[0-9])(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6,17}(?![0-9A-Za-z])"
    ),
]
# Names cannot be recognised in free text; code never logs them. These catch the known shapes
# of a name that slipped through anyway: key=value, JSON/dict fields and the Chinese label.
_NAME_PATTERNS = [
    re.compile(r"""((?:["']?)\b(?:name|payer_name|full_name)\b["']?\s*[:=]\s*["']?)([^"',}\s]+)"""),
    re.compile(r"(姓名\s*[:：=]?\s*)(\S+)"),
]


def mask(text: str) -> str:
    """The text with ID numbers and labelled names replaced by ***."""
    for pattern in _NAME_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    for pattern in _ID_PATTERNS:
        text = pattern.sub(MASK, text)
    return text


class MaskingFilter(logging.Filter):
    """Masks the rendered message (and exception text) of every record before it is emitted."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, component, request id, message."""

    def __init__(self, component: str) -> None:
        super().__init__()
        self._component = component

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "component": self._component,
            "request_id": getattr(record, "request_id", request_id.get()),
            "msg": record.getMessage(),
        }
        if record.exc_text:
            line["exc"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    def __init__(self, component: str) -> None:
        super().__init__(
            f"%(asctime)s %(levelname)s {component} %(name)s [%(request_id)s] %(message)s"
        )


def masked_handler(component: str, *, json_lines: bool = True) -> logging.Handler:
    """A stdout handler with the masking filter and the chosen format."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(MaskingFilter())
    handler.setFormatter(JsonFormatter(component) if json_lines else _TextFormatter(component))
    handler.set_name(f"shebao-{component}")
    return handler


def setup_logging(component: str, *, json_lines: bool = True, level: int = logging.INFO) -> None:
    """Route every logger (ours, uvicorn's, temporalio's) through one masked handler.

    Idempotent: a second call replaces the handler instead of doubling every line.
    """
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(masked_handler(component, json_lines=json_lines))
    root.setLevel(level)
    # uvicorn installs its own handlers; let its records reach ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def log_startup(component: str, settings: object) -> None:
    """One line with the settings in force; secrets are repr=False fields, so never printed."""
    logging.getLogger(f"shebao.{component}").info("starting with %r", settings)
