"""bench/decline_boto3.py - microseconds per boto3 guardduty decline_invitations call on loopback.

    /usr/bin/python3 bench/decline_boto3.py time ENDPOINT [rounds] [calls]
    /usr/bin/python3 bench/decline_boto3.py rss  ENDPOINT [calls]

The peer of bench/decline.lua: one boto3 client (Debian python3-boto3, endpoint_url=ENDPOINT,
static fake credentials) makes every call, so urllib3 keeps the connection alive.
time: after 200 warm-up calls, `rounds` rounds of `calls` calls (time.perf_counter_ns); prints
    result decline-boto3 min=<us> median=<us> max=<us> rounds=<n> iterations=<n>
rss: makes `calls` calls and prints VmRSS before and after them and VmHWM (kB, /proc/self/status):
    rss boto3 before_rss_kb=<n> after_rss_kb=<n> hwm_kb=<n> calls=<n>
Every response is checked (HTTP 200, empty UnprocessedAccounts).
"""
import gc
import re
import sys
import time

import boto3


def status_kb():
    with open("/proc/self/status") as f:
        s = f.read()
    return (int(re.search(r"VmRSS:\s*(\d+)", s).group(1)), int(re.search(r"VmHWM:\s*(\d+)", s).group(1)))


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("time", "rss") \
            or not re.match(r"^http://127\.0\.0\.1:\d+$", sys.argv[2]):
        sys.exit("usage: bench/decline_boto3.py time|rss http://127.0.0.1:PORT [rounds] [calls]")
    mode, endpoint = sys.argv[1], sys.argv[2]
    client = boto3.client("guardduty", region_name="us-east-1", endpoint_url=endpoint,
                          aws_access_key_id="AKIDEXAMPLE",
                          aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

    def call():
        res = client.decline_invitations(AccountIds=["111122223333"])
        if res["ResponseMetadata"]["HTTPStatusCode"] != 200 or res["UnprocessedAccounts"] != []:
            sys.exit("unexpected response from " + endpoint)

    if mode == "rss":
        calls = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
        call()
        before, _ = status_kb()
        for _ in range(calls - 1):
            call()
        gc.collect()
        after, hwm = status_kb()
        print("rss boto3 before_rss_kb=%d after_rss_kb=%d hwm_kb=%d calls=%d" % (before, after, hwm, calls))
        return

    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 9
    calls = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
    for _ in range(200):
        call()
    us = []
    clock = time.perf_counter_ns
    for _ in range(rounds):
        gc.collect()
        t0 = clock()
        for _ in range(calls):
            call()
        us.append((clock() - t0) / 1000.0 / calls)
    us.sort()
    print("result decline-boto3 min=%.1f median=%.1f max=%.1f rounds=%d iterations=%d"
          % (us[0], us[len(us) // 2], us[-1], rounds, calls))


if __name__ == "__main__":
    main()
