#!/usr/bin/python3
"""Small loopback HTTP servers for the credential specs (container and EC2 metadata endpoints).

Usage: tiny_server.py CONFIG.json

CONFIG keys:
  kind        "imds" | "container" | "hang"
  port_file   where to write the chosen port once listening (the spec polls it)
  log_file    every request is appended as one JSON line: {method, path, headers: {lower: value}}
  lifetime    seconds before the server exits by itself (default 120)

kind "imds" (EC2 instance metadata):
  put             "ok" (default: PUT /latest/api/token gives a token), a status number (the PUT
                  answers it: 400/403/404/405...), or "hang" (the PUT never answers)
  require_token   GETs without a token get 401 (the instance has HttpTokens=required)
  token           token value (default "tok-123"); tokens require the TTL header on the PUT
  role            role name (default "invite-role"); "" = no role attached (404)
  credentials     JSON object served for the role
kind "container":
  credentials     JSON object served at any path
  auth            when set, requests whose Authorization header differs get 401
  status          status to answer with instead (e.g. 500)
  fail_first      answer 500 to this many requests first
kind "hang": accepts connections and never answers.
"""
import http.server
import json
import os
import sys
import threading
import time


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    kind = cfg.get("kind", "imds")
    log_lock = threading.Lock()
    state = {"served": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def log(self):
            entry = {"method": self.command, "path": self.path,
                     "headers": {k.lower(): v for k, v in self.headers.items()}}
            with log_lock:
                with open(cfg["log_file"], "a") as lf:
                    lf.write(json.dumps(entry) + "\n")

        def reply(self, status, body=b"", ctype="text/plain"):
            if isinstance(body, str):
                body = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def hang(self):
            time.sleep(cfg.get("lifetime", 120))

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.log()
            state["served"] += 1
            if kind == "hang":
                return self.hang()
            if kind == "container":
                return self.container()
            return self.imds()

        def container(self):
            if state["served"] <= cfg.get("fail_first", 0):
                return self.reply(500, "try again")
            if cfg.get("status"):
                return self.reply(cfg["status"], "nope")
            if cfg.get("auth") is not None and self.headers.get("Authorization") != cfg["auth"]:
                return self.reply(401, "bad token")
            return self.reply(200, json.dumps(cfg.get("credentials", {})), "application/json")

        def imds(self):
            put = cfg.get("put", "ok")
            token = cfg.get("token", "tok-123")
            role = cfg.get("role", "invite-role")
            if self.path == "/latest/api/token":
                if self.command != "PUT":
                    return self.reply(405, "")
                if put == "hang":
                    return self.hang()
                if put != "ok":
                    return self.reply(int(put), "")
                if not self.headers.get("x-aws-ec2-metadata-token-ttl-seconds"):
                    return self.reply(400, "missing ttl")
                return self.reply(200, token)
            sent = self.headers.get("x-aws-ec2-metadata-token")
            if sent is not None and sent != token:
                return self.reply(401, "")
            if sent is None and cfg.get("require_token"):
                return self.reply(401, "")
            base = "/latest/meta-data/iam/security-credentials/"
            if self.path == base:
                if not role:
                    return self.reply(404, "")
                return self.reply(200, role)
            if role and self.path == base + role:
                return self.reply(200, json.dumps(cfg.get("credentials", {})), "text/plain")
            return self.reply(404, "")

        do_GET = do_PUT = do_POST = handle_any

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = cfg["port_file"] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, cfg["port_file"])
    threading.Timer(cfg.get("lifetime", 120), lambda: os._exit(0)).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
