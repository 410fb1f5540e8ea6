#!/usr/bin/python3
"""Drives `invite sim` with Debian's boto3/botocore for spec/sim/sim_compat_spec.lua.

stdin: JSON {"endpoint", "region", "access_key", "secret_key", "session_token"?, "calls": [...]}
Each call is one of
  {"service", "op", "params"?, "paginate"?: bool, "page_size"?: int, "tamper"?: "signature"}
      a boto3 client call (tamper: botocore signs, then one hex digit of the signature in the
      Authorization header is changed just before the request goes out)
  {"raw": true, "service", "method", "path", "query"?, "body"?, "flip"?: bool}
      a request signed with botocore's SigV4Auth and sent with urllib; flip changes one hex
      digit of the signature first
stdout: JSON list, one entry per call: {"status", "code", "message", "result", "headers", "body"}.
Retries are off (max_attempts = 1) so injected or real errors surface as they are.
"""
import datetime
import json
import sys
import urllib.error
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError


def plain(v):
    if isinstance(v, datetime.datetime):
        return v.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items() if k != "ResponseMetadata"}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def flip_signature(value):
    head, sep, sig = value.rpartition("Signature=")
    if not sep or not sig:
        return value
    c = sig[-1]
    return head + sep + sig[:-1] + ("1" if c == "0" else "0")


def tamper_handler(request, **kwargs):
    auth = request.headers.get("Authorization")
    if auth is not None:
        if isinstance(auth, bytes):
            auth = auth.decode()
        del request.headers["Authorization"]
        request.headers["Authorization"] = flip_signature(auth)


def main():
    cfg = json.load(sys.stdin)
    session = boto3.session.Session(
        aws_access_key_id=cfg["access_key"], aws_secret_access_key=cfg["secret_key"],
        aws_session_token=cfg.get("session_token"), region_name=cfg["region"])
    config = Config(retries={"max_attempts": 1, "mode": "standard"})
    out = []
    for call in cfg["calls"]:
        entry = {}
        if call.get("raw"):
            creds = Credentials(cfg["access_key"], cfg["secret_key"], cfg.get("session_token"))
            url = cfg["endpoint"] + call["path"] + ("?" + call["query"] if call.get("query") else "")
            body = call.get("body") or None
            req = AWSRequest(method=call["method"], url=url, data=body,
                             headers={"Content-Type": "application/json"} if body else {})
            SigV4Auth(creds, call["service"], cfg["region"]).add_auth(req)
            headers = dict(req.headers.items())
            if call.get("flip"):
                headers["Authorization"] = flip_signature(headers["Authorization"])
            r = urllib.request.Request(url, data=body.encode() if body else None, method=call["method"],
                                       headers=headers)
            try:
                with urllib.request.urlopen(r, timeout=10) as resp:
                    entry.update(status=resp.status, headers=dict(resp.headers.items()),
                                 body=resp.read().decode())
            except urllib.error.HTTPError as e:
                entry.update(status=e.code, headers=dict(e.headers.items()), body=e.read().decode())
            out.append(entry)
            continue
        client = session.client(call["service"], endpoint_url=cfg["endpoint"], config=config)
        if call.get("tamper") == "signature":
            client.meta.events.register("before-send", tamper_handler)
        params = call.get("params") or {}
        try:
            if call.get("paginate"):
                pc = {"PageSize": call["page_size"]} if call.get("page_size") else {}
                pages = client.get_paginator(call["op"]).paginate(PaginationConfig=pc, **params)
                entry["result"] = [plain(p) for p in pages]
                entry["status"] = 200
            else:
                res = getattr(client, call["op"])(**params)
                entry["status"] = res["ResponseMetadata"]["HTTPStatusCode"]
                entry["result"] = plain(res)
        except ClientError as e:
            entry["status"] = e.response["ResponseMetadata"]["HTTPStatusCode"]
            entry["code"] = e.response["Error"]["Code"]
            entry["message"] = e.response["Error"].get("Message")
        out.append(entry)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
