"""Encryption with keys derived from SECRET_KEY, one per purpose."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def cipher(context: bytes) -> Fernet:
    """A Fernet cipher whose key is derived (HKDF-SHA256) from SECRET_KEY for ``context``, so
    that a token of one purpose never decrypts as another's."""
    key = HKDF(algorithm=SHA256(), length=32, salt=None, info=context).derive(
        settings.SECRET_KEY.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))
