"""Fake WeCom and DingTalk robots on 127.0.0.1 that check what they receive the way the real
ones do (payload shape, byte limit, DingTalk's signature) and answer as scripted."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.api.conftest import anonymous_api, api_as  # noqa: F401  (the API's JSON clients)
from tuoke.celery import app

OK = {"errcode": 0, "errmsg": "ok"}


class FakeRobot:
    """A robot webhook. ``received`` holds each request's query and JSON; ``problems`` what
    a real robot would have refused; ``answers`` (status, body) pairs to give, in order,
    before answering success."""

    def __init__(self, kind: str, secret: str = ""):
        self.kind = kind
        self.secret = secret
        self.received: list[dict] = []
        self.problems: list[str] = []
        self.answers: list[tuple[int, object]] = []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, answer = robot.handle(self.path, self.headers, raw)
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        port = self.server.server_address[1]
        if self.kind == "wecom":
            return f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key=3f2b9c1e-wecom-key-7781"
        return f"http://127.0.0.1:{port}/robot/send?access_token=dd0c4e5a9b8f7e6d5c4b3a29"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what a real robot checks -------------------------------------------------------------

    def handle(self, path: str, headers, raw: bytes) -> tuple[int, object]:
        query = parse_qs(urlsplit(path).query)
        problems = []
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            body = None
            problems.append("body is not JSON in UTF-8")
        if "application/json" not in (headers.get("Content-Type") or ""):
            problems.append("Content-Type is not JSON")
        if body is not None:
            problems += self.check_wecom(query, body) if self.kind == "wecom" else []
            problems += self.check_dingtalk(query, body) if self.kind == "dingtalk" else []
        self.received.append({"query": query, "json": body})
        self.problems += problems
        if problems:
            return 200, {"errcode": 40035, "errmsg": "; ".join(problems)}
        if self.answers:
            return self.answers.pop(0)
        return 200, OK

    @staticmethod
    def check_wecom(query, body) -> list[str]:
        problems = []
        if "key" not in query:
            problems.append("no key in the address")
        if set(body) != {"msgtype", "text"} or body.get("msgtype") != "text":
            return [*problems, f"not a text message: {sorted(body)}"]
        text = body["text"]
        if not set(text) <= {"content", "mentioned_list", "mentioned_mobile_list"}:
            problems.append(f"unknown text keys {sorted(text)}")
        content = text.get("content")
        if not isinstance(content, str) or not content:
            problems.append("no content")
        elif len(content.encode("utf-8")) > 2048:
            problems.append("content longer than 2048 bytes")
        mobiles = text.get("mentioned_mobile_list", [])
        if not isinstance(mobiles, list) or not all(isinstance(m, str) for m in mobiles):
            problems.append("mentioned_mobile_list is not a list of strings")
        return problems

    def check_dingtalk(self, query, body) -> list[str]:
        problems = []
        if "access_token" not in query:
            problems.append("no access_token in the address")
        if self.secret:
            timestamp = (query.get("timestamp") or [""])[0]
            sign = (query.get("sign") or [""])[0]
            if not timestamp or not sign:
                problems.append("not signed")
            else:
                digest = hmac.new(
                    self.secret.encode(),
                    f"{timestamp}\n{self.secret}".encode(),
                    hashlib.sha256,
                ).digest()
                if sign != base64.b64encode(digest).decode():
                    problems.append("sign not match")
                if abs(int(timestamp) - time.time() * 1000) > 3600_000:
                    problems.append("timestamp too far from now")
        if body.get("msgtype") != "text" or not isinstance(body.get("text"), dict):
            return [*problems, "not a text message"]
        if not isinstance(body["text"].get("content"), str) or not body["text"]["content"]:
            problems.append("no content")
        at = body.get("at", {})
        if not isinstance(at, dict) or not isinstance(at.get("atMobiles", []), list):
            problems.append("at.atMobiles is not a list")
        return problems

    # --- reading what came in ----------------------------------------------------------------

    def mentioned(self, index: int = -1) -> list[str]:
        body = self.received[index]["json"]
        if self.kind == "wecom":
            return body["text"].get("mentioned_mobile_list", [])
        return body.get("at", {}).get("atMobiles", [])

    def content(self, index: int = -1) -> str:
        return self.received[index]["json"]["text"]["content"]


@pytest.fixture
def robot():
    """robot("wecom") or robot("dingtalk", secret="SEC…") → a running FakeRobot."""
    started: list[FakeRobot] = []

    def start(kind: str, secret: str = "") -> FakeRobot:
        fake = FakeRobot(kind, secret)
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def tasks_eager():
    """Run jobs in this process; the Celery app read its config once, so set it there."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
