"""bench/sign_botocore.py - ns per SigV4 signature with botocore (Debian python3-botocore).

    /usr/bin/python3 bench/sign_botocore.py [rounds] [iterations]

Times botocore.auth.SigV4Auth.add_auth on one AWSRequest (POST /invitation/decline to guardduty
us-east-1, Content-Type application/json, the JSON body): what botocore does per request once the
request is built. add_auth replaces X-Amz-Date and Authorization each time, so one request object is
reused, as bench/sign.lua reuses its options table. Timed in-process with time.perf_counter_ns.
Before timing, the request is signed at 2015-08-30T12:36:00Z and the signature must be the one
invite.sigv4 gives (dd6d5c74...). Prints one line per variant:
    result <name> min=<ns> median=<ns> max=<ns> rounds=<n> iterations=<n>
"""
import sys
import time

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 9
ITERS = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
EXPECTED = "dd6d5c74f53db1465edeb9b834d886e7e73d7e61bbb8b760b35b6e446f9b3388"
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = ("FwoGZXIvYXdzEBYaDExampleSessionTokenValue0123456789abcdefghijklmnopqrstuvwxyz+/"
         "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz+/ABCDEFGHIJKLMNOP==")


def request():
    return AWSRequest(method="POST", url="https://guardduty.us-east-1.amazonaws.com/invitation/decline",
                      data=b'{"accountIds":["111122223333"]}',
                      headers={"Content-Type": "application/json"})


def check():
    real = botocore.auth.datetime.datetime

    class Fixed(real):
        @classmethod
        def utcnow(cls):
            return real(2015, 8, 30, 12, 36, 0)

    botocore.auth.datetime.datetime = Fixed
    try:
        req = request()
        botocore.auth.SigV4Auth(Credentials(AKID, SECRET), "guardduty", "us-east-1").add_auth(req)
    finally:
        botocore.auth.datetime.datetime = real
    sig = req.headers["Authorization"].rsplit("Signature=", 1)[-1]
    if sig != EXPECTED:
        sys.exit("bench/sign_botocore.py: signature %s != %s" % (sig, EXPECTED))


def measure(token):
    auth = botocore.auth.SigV4Auth(Credentials(AKID, SECRET, token), "guardduty", "us-east-1")
    req = request()
    add = auth.add_auth
    for _ in range(1000):
        add(req)
    ns = []
    clock = time.perf_counter_ns
    for _ in range(ROUNDS):
        t0 = clock()
        for _ in range(ITERS):
            add(req)
        ns.append((clock() - t0) / ITERS)
    ns.sort()
    return ns[0], ns[len(ns) // 2], ns[-1]


def main():
    check()
    for name, token in (("botocore-no-token", None), ("botocore-token", TOKEN)):
        mn, md, mx = measure(token)
        print("result %s min=%.0f median=%.0f max=%.0f rounds=%d iterations=%d"
              % (name, mn, md, mx, ROUNDS, ITERS))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
