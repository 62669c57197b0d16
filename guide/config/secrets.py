"""Database passwords kept out of messages and logs."""

from __future__ import annotations

import logging
import re

_URL_PASSWORD = re.compile(r"(://[^:/@\s]{0,256}):[^@\s]{0,1024}@")
_KEY_PASSWORD = re.compile(r"(?i)\b((?:ssl)?password|passwd|pwd)(\s*=\s*)(?:'(?:[^'\\]|\\.)*'?|[^\s&;]*)")


def mask_secrets(text: str) -> str:
    """`text` with every database password in it (URL, query string or key=value DSN) shown as ***."""
    return _KEY_PASSWORD.sub(r"\1\2***", _URL_PASSWORD.sub(r"\1:***@", text))


class SecretMask(logging.Filter):
    """Masks database passwords in every log record that passes through a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True

    @classmethod
    def install(cls) -> None:
        """Mask the records of every handler of the root logger (call after configuring logging)."""
        root = logging.getLogger()
        if not root.handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        for handler in root.handlers:
            if not any(isinstance(f, cls) for f in handler.filters):
                handler.addFilter(cls())
