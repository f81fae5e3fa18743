"""Sending one delivery: an e-mail through Django's mail, or a text message to a WeCom or
DingTalk group robot that @mentions the recipient by mobile (formats in DOMAIN.md).

Everything that goes wrong raises ``DeliveryError`` with a short reason for the delivery log;
the caller decides whether to try again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from . import secrets
from .models import DeliveryChannel

if TYPE_CHECKING:
    from tuoke.core.models import Notification

    from .models import Delivery

TIMEOUT_SECONDS = 10
# WeCom refuses text longer than 2,048 bytes (UTF-8).
WECOM_TEXT_LIMIT = 2048
DINGTALK_TEXT_LIMIT = 4096
# Enough of an answer to read its errcode; a robot never answers more.
MAX_ANSWER_BYTES = 64 * 1024
ERROR_LENGTH = 300


class DeliveryError(Exception):
    """Why a delivery did not go through (shown in the delivery log)."""


def truncate_utf8(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8, never inside a character, with an
    ellipsis when something was cut."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    ellipsis = "…" if limit >= 3 else ""
    room = limit - len(ellipsis.encode())
    return encoded[:room].decode("utf-8", "ignore") + ellipsis


def absolute_url(url: str) -> str:
    """The notification's link as robots and e-mail need it: absolute with SITE_URL when
    that setting is given; a relative link means nothing in a chat, so it is left out."""
    if not url or url.startswith(("http://", "https://")):
        return url
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    return f"{base}{url}" if base else ""


def message_text(notification: Notification) -> str:
    """Title, text and link of a notification as one plain-text message."""
    lines = [f"【{_('Tuoke CRM')}】{notification.title}"]
    if notification.body:
        lines.append(notification.body)
    link = absolute_url(notification.url)
    if link:
        lines.append(link)
    return "\n".join(lines)


def wecom_payload(content: str, mobile: str) -> dict[str, Any]:
    text: dict[str, Any] = {"content": truncate_utf8(content, WECOM_TEXT_LIMIT)}
    if mobile:
        text["mentioned_mobile_list"] = [mobile]
    return {"msgtype": "text", "text": text}


def dingtalk_payload(content: str, mobile: str) -> dict[str, Any]:
    # DingTalk highlights a mention only when the text carries "@<mobile>" too.
    if mobile:
        content = f"{content}\n@{mobile}"
    return {
        "msgtype": "text",
        "text": {"content": truncate_utf8(content, DINGTALK_TEXT_LIMIT)},
        "at": {"atMobiles": [mobile] if mobile else [], "isAtAll": False},
    }


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """urlencode(base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")))."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return quote_plus(base64.b64encode(digest).decode())


def signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    if not secret:
        return url
    timestamp_ms = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    joiner = "&" if urlsplit(url).query else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def check_webhook_url(url: str) -> None:
    """Only plain web addresses (no file:, ftp: or anything else urllib would open) on the
    robots' hosts (setting ROBOT_HOSTS): an address inside the company's network would let
    anyone who may add a robot make Tuoke post to internal services."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError(_("The webhook address must start with https:// or http://."))
    host = parts.hostname.lower()
    allowed = [h.lower() for h in settings.ROBOT_HOSTS]
    if not any(host == h or host.endswith(f".{h}") for h in allowed):
        raise DeliveryError(
            _("Robots are reached only at %(hosts)s.") % {"hosts": ", ".join(allowed)}
        )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A robot answers; it never redirects. Following one could post elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post_json(url: str, payload: dict[str, Any]) -> None:
    """POST the payload; success is HTTP 200 with ``{"errcode": 0}``."""
    check_webhook_url(url)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
            raw = response.read(MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DeliveryError(_("Cannot reach the robot: %(reason)s") % {"reason": reason}) from exc
    if status != 200:
        raise DeliveryError(f"HTTP {status}")
    try:
        answer = json.loads(raw)
    except ValueError as exc:
        raise DeliveryError(_("The robot did not answer with JSON.")) from exc
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        errcode = answer.get("errcode") if isinstance(answer, dict) else None
        errmsg = answer.get("errmsg", "") if isinstance(answer, dict) else ""
        raise DeliveryError(f"errcode {errcode}: {errmsg}"[:ERROR_LENGTH])


def send(delivery: Delivery) -> None:
    """Send one delivery once (no retry here); raises DeliveryError on failure."""
    notification = delivery.notification
    recipient = notification.recipient
    channel = delivery.channel
    if channel is None:
        raise DeliveryError(_("The channel was removed."))
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        content = message_text(notification)
        if delivery.kind == DeliveryChannel.Kind.EMAIL:
            _send_email(notification, recipient.email, content)
        elif delivery.kind == DeliveryChannel.Kind.WECOM:
            post_json(channel.webhook_url, wecom_payload(content, recipient.mobile))
        elif delivery.kind == DeliveryChannel.Kind.DINGTALK:
            url = signed_url(channel.webhook_url, secrets.decrypt(channel.secret_encrypted))
            post_json(url, dingtalk_payload(content, recipient.mobile))
        else:
            raise DeliveryError(_("Unknown kind of channel: %(kind)s") % {"kind": delivery.kind})


def _send_email(notification: Notification, address: str, content: str) -> None:
    if not address:
        raise DeliveryError(_("The recipient has no e-mail address."))
    try:
        send_mail(
            subject=notification.title,
            message=content,
            from_email=None,
            recipient_list=[address],
        )
    except Exception as exc:  # any backend error (SMTP, connection…) is a failed attempt
        raise DeliveryError(f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH]) from exc
