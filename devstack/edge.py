"""The local stack's public address: what a custom domain pointed at CloudFront is in AWS.

In AWS the site is ``https://<label>.cloudfront.net`` (or a custom domain naming it), and the
alerts' links are built from that address (the ``PublicBaseUrl`` parameter). MiniStack serves
a distribution's data plane on its own port for the Host ``<label>.cloudfront.net``, a name
that does not resolve here, and the label is only known after the deploy. So ``make up`` and
the e2e tests give the stack a fixed local address (``http://127.0.0.1:8767``) as its public
base URL before deploying, and this small proxy forwards that address to the distribution:
each request goes to MiniStack with the distribution's Host and ``X-Forwarded-Proto: https``
(the viewer policy redirects plain http, as CloudFront does). The pages, the links in local
e-mails and the browser tests all go through CloudFront's data plane, then the web function.

    python -m devstack.edge --port 8767 --ministack http://127.0.0.1:4566 --distribution dxxxx.cloudfront.net
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import threading
from typing import Any
from urllib.parse import urlsplit

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding"}
)
TIMEOUT_SECONDS = 30


class Edge:
    """Forwards ``127.0.0.1:port`` to a CloudFront distribution on MiniStack, in a daemon thread."""

    def __init__(self, ministack: str, distribution: str, port: int = 0) -> None:
        target = urlsplit(ministack)
        handler = type(
            "Handler",
            (_Forward,),
            {"target": (target.hostname or "127.0.0.1", target.port or 80), "distribution": distribution},
        )
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Edge:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Forward(http.server.BaseHTTPRequestHandler):
    target: tuple[str, int]
    distribution: str
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's names
        self._forward()

    def do_HEAD(self) -> None:  # noqa: N802
        self._forward()

    def do_POST(self) -> None:  # noqa: N802
        self._forward()

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "host"}
        headers.update({"Host": self.distribution, "X-Forwarded-Proto": "https"})
        connection = http.client.HTTPConnection(*self.target, timeout=TIMEOUT_SECONDS)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            answer = connection.getresponse()
            content = answer.read()
        except OSError as exc:
            self.send_error(502, f"MiniStack did not answer: {exc}")
            return
        finally:
            connection.close()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ministack", required=True)
    parser.add_argument("--distribution", required=True)
    args = parser.parse_args()
    edge = Edge(args.ministack, args.distribution, args.port)
    edge.server.serve_forever()


if __name__ == "__main__":
    main()
