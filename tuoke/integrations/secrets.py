"""Robot secrets at rest and on screen: DingTalk signing secrets are stored encrypted with a
key derived from SECRET_KEY and never shown back; webhook addresses are shown masked."""

from __future__ import annotations

from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken

from tuoke.core.crypto import cipher

SECRET_CONTEXT = b"tuoke.integrations.robot_secret"


def _cipher() -> Fernet:
    return cipher(SECRET_CONTEXT)


def encrypt(plain: str) -> str:
    return _cipher().encrypt(plain.encode()).decode() if plain else ""


def decrypt(stored: str) -> str:
    """The plain secret; "" when none is stored or it cannot be read any more (SECRET_KEY
    changed): the robot then answers with a signature error, recorded in the log."""
    if not stored:
        return ""
    try:
        return _cipher().decrypt(stored.encode()).decode()
    except (InvalidToken, ValueError):
        return ""


def mask_url(url: str) -> str:
    """``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…a1b2``: enough to recognise
    a robot, not enough to post to it (the key or token is the secret)."""
    if not url:
        return ""
    parts = urlsplit(url)
    secret = parts.query or parts.path
    tail = secret[-4:] if len(secret) >= 12 else ""
    if parts.query:
        name = parts.query.split("=", 1)[0] if "=" in parts.query else ""
        return f"{parts.scheme}://{parts.netloc}{parts.path}?{name}{'=' if name else ''}…{tail}"
    return f"{parts.scheme}://{parts.netloc}/…{tail}"
