"""The one masking function: credentials replaced by ``***`` in anything printed, logged or stored.

A database URL carries its password in three places, and all three are masked:

- the user-info of a URL, also with an empty user: ``postgresql://omiga:PW@host/db``, ``postgresql://:PW@host/db``;
- key=value parameters, in a URL's query or a libpq DSN: ``?password=PW``, ``&sslpassword=PW``, ``password='PW'``,
  and dict reprs such as ``{'password': 'PW'}`` (driver messages);
- environment variables that hold secrets (names ending in ``PASSWORD`` such as ``PGPASSWORD``, ``PASSWD``,
  ``SECRET``, ``_TOKEN``, ``API_KEY``, ``CREDENTIALS``): their values are masked wherever they appear in the text.

Stdlib only, so every layer (the three command lines included) can use it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

__all__ = ["MASK", "mask_secrets"]

MASK = "***"

_USERINFO = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")  # SQLAlchemy's password is [^@]*: ':' and '/' allowed
_SECRET_KEYS = r"(?:password|passwd|pwd|sslpassword|secret|token|access_token|api_key|apikey)"
_PARAMETER = re.compile(rf"((?:^|(?<=[\s?&;,(]))(?i:{_SECRET_KEYS})\s*=\s*)('[^']*'|\"[^\"]*\"|[^&#\s;,)]+)")
_DICT_ITEM = re.compile(rf"((['\"])(?i:{_SECRET_KEYS})\2\s*:\s*)(['\"])(?:(?!\3).)*\3")
_SECRET_ENV = re.compile(r"(PASSWORD|PASSWD|SECRET|(^|_)TOKEN|API_KEY|CREDENTIALS?)$", re.IGNORECASE)
_PLACEHOLDER = ":PASSWORD@"
"""The placeholder of example URLs in messages (``postgresql://USER:PASSWORD@HOST/DB``) is left as it is."""
_PLAIN = {"true", "false", "none", "null"}
_MIN_ENV_SECRET = 4
"""Shorter environment values are not masked (masking every "1" would garble messages and hide nothing)."""


def _env_secrets(environ: Mapping[str, str]) -> list[str]:
    values = {value for name, value in environ.items()
              if _SECRET_ENV.search(name) and len(value) >= _MIN_ENV_SECRET and value.lower() not in _PLAIN}
    return sorted(values, key=len, reverse=True)  # longest first, so a secret containing another goes whole


def mask_secrets(text: object, *, environ: Mapping[str, str] | None = None) -> str:
    """``str(text)`` with every credential replaced by ``***`` (URL user-info, key=value parameters, dict items
    and the values of secret-holding environment variables, ``os.environ`` unless ``environ`` is given)."""
    masked = _USERINFO.sub(lambda m: m[0] if m[0].endswith(_PLACEHOLDER) else f"{m[1]}{MASK}@", str(text))
    masked = _PARAMETER.sub(rf"\1{MASK}", masked)
    masked = _DICT_ITEM.sub(rf"\1'{MASK}'", masked)
    for value in _env_secrets(os.environ if environ is None else environ):
        masked = masked.replace(value, MASK)
    return masked
