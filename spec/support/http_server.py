#!/usr/bin/python3
"""Loopback HTTP(S) test server for spec/core/http_spec.lua.

Usage: http_server.py [--tls CERT KEY]   serve on 127.0.0.1, port chosen by the kernel
       http_server.py --free-port         print a port nobody listens on, then exit

The first stdout line is the port, the second the server's pid (stop it with SIGTERM).
It exits by itself when its parent goes away or after --lifetime seconds (default 600).

Every method answers with JSON describing the request:
  {"method", "path", "query", "headers": [[name, value], ...] (as received, in order),
   "body_hex", "body_len", "client_port"}
Query parameters:
  delay_ms=N  sleep N ms before answering
  status=N    answer with status N
  close=1     reset the connection (RST) instead of answering
  bytes=N     answer with N bytes of 'x' instead of JSON
  echo=1      answer with the request body, byte for byte
  endless=1   stream 'x' forever without Content-Length (the body ends when the connection
              closes: it never does); endless=chunked streams chunks forever instead. A path
              that starts with /endless/ does the same (for clients whose query is not ours).
  oversized=N declare Content-Length N, send no body at all and hold the connection for 30 s
The response always carries two "X-Echo" headers (repeated header check).
GET /_count answers {"requests": N}: every request served before it (not counting /_count).
"""
import http.server
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse


COUNT_LOCK = threading.Lock()
COUNT = [0]
STREAM_CHUNK = b"x" * 65536


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def log_message(self, *args):
        pass

    def _handle(self):
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if parsed.path == "/_count":
            with COUNT_LOCK:
                payload = json.dumps({"requests": COUNT[0]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        with COUNT_LOCK:
            COUNT[0] += 1
        if parsed.path.startswith("/endless/"):
            query.setdefault("endless", "1")
        if "endless" in query:
            return self._endless(query["endless"] == "chunked")
        if "oversized" in query:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", query["oversized"])
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True
            time.sleep(30)
            return

        if "delay_ms" in query:
            time.sleep(float(query["delay_ms"]) / 1000.0)
        if query.get("close") == "1":
            # SO_LINGER with a zero timeout: close() sends RST.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            try:
                self.connection.close()
            except OSError:
                pass
            return

        status = int(query.get("status", "200"))
        if "bytes" in query:
            payload = b"x" * int(query["bytes"])
            ctype = "application/octet-stream"
        elif query.get("echo") == "1":
            payload = body
            ctype = "application/octet-stream"
        else:
            payload = json.dumps({
                "method": self.command,
                "path": parsed.path,
                "query": parsed.query,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body_hex": body.hex(),
                "body_len": len(body),
                "client_port": self.client_address[1],
            }).encode()
            ctype = "application/json"

        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("X-Echo", "a")
        self.send_header("X-Echo", "b")
        no_body = self.command == "HEAD" or status in (204, 304) or 100 <= status < 200
        if status not in (204, 304) and not 100 <= status < 200:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if not no_body:
            self.wfile.write(payload)

    def _endless(self, chunked):
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            piece = b"%x\r\n" % len(STREAM_CHUNK) + STREAM_CHUNK + b"\r\n"
        else:
            self.send_header("Connection", "close")
            piece = STREAM_CHUNK
        self.end_headers()
        try:
            while True:  # until the client goes away
                self.wfile.write(piece)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    tls_context = None

    def get_request(self):
        sock, addr = super().get_request()
        if self.tls_context is not None:
            sock = self.tls_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        pass  # client resets, failed handshakes and broken pipes are part of the tests


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def watchdog(parent, lifetime):
    deadline = time.monotonic() + lifetime
    while time.monotonic() < deadline and os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main(argv):
    if "--free-port" in argv:
        print(free_port(), flush=True)
        return
    lifetime = 600.0
    if "--lifetime" in argv:
        lifetime = float(argv[argv.index("--lifetime") + 1])
    server = Server(("127.0.0.1", 0), Handler)
    if "--tls" in argv:
        i = argv.index("--tls")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(argv[i + 1], argv[i + 2])
        server.tls_context = ctx
    threading.Thread(target=watchdog, args=(os.getppid(), lifetime), daemon=True).start()
    print(server.server_address[1], flush=True)
    print(os.getpid(), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv[1:])
