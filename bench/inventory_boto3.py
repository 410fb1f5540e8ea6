"""bench/inventory_boto3.py - what a boto3 user writes today to list every invitation of the six kinds.

    python3 bench/inventory_boto3.py ENDPOINT seq|threads[N]|sessions[N] [rounds] [regions,...]

The peer of bench/inventory.lua (which starts the simulator, runs this script and counts its
requests from the simulator's request log). Credentials come from the environment
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), every client gets endpoint_url=ENDPOINT. The sweep:
Macie, Security Hub, GuardDuty, Detective and RAM in each region where boto3 says the service exists
(Session.get_available_regions, as a user skips a region the SDK has no endpoint for), and AWS
Organizations once (global: us-east-1). Each list is read to the end: with the service's boto3
paginator where botocore has one, else (Detective's ListInvitations) a loop on NextToken.

seq        the usual script: one loop, one client per service x region from boto3's default session
threadsN   a careful user: the same clients made first (boto3's guide: clients are thread-safe,
           sessions are not), then a ThreadPoolExecutor of N workers (default 32) lists one
           service x region per task
sessionsN  the other thread-safe way: each of N worker threads makes its own boto3 Session and
           its clients in the task (every Session loads its own service models: slow)

Runs one untimed sweep first (threads32: imports, model files, connections), then `rounds` timed
sweeps (time.perf_counter_ns, each one end to end: clients, pages, counting). Every sweep must find
the same invitations as the first. Prints
    result inventory-boto3-<mode> min=<ms> median=<ms> max=<ms> rounds=<n> iterations=1 invitations=<n> scopes=<n>
    kinds inventory-boto3-<mode> macie2=<n> securityhub=<n> ...
"""
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import botocore

REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1", "eu-north-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
]
REGIONAL = ["macie2", "securityhub", "guardduty", "detective", "ram"]
GLOBAL = {"organizations": "us-east-1"}

# service -> (client method, list key in the answer)
LIST = {
    "macie2": ("list_invitations", "invitations"),
    "securityhub": ("list_invitations", "Invitations"),
    "guardduty": ("list_invitations", "Invitations"),
    "detective": ("list_invitations", "Invitations"),
    "organizations": ("list_handshakes_for_account", "Handshakes"),
    "ram": ("get_resource_share_invitations", "resourceShareInvitations"),
}


def scopes(regions):
    session = boto3.session.Session()
    out = []
    for svc in REGIONAL:
        available = set(session.get_available_regions(svc))
        out += [(svc, r) for r in regions if r in available]
    out += [(svc, r) for svc, r in GLOBAL.items()]
    return out


def list_all(client, svc):
    op, key = LIST[svc]
    n = 0
    if client.can_paginate(op):
        for page in client.get_paginator(op).paginate():
            n += len(page[key])
        return n
    # no paginator (Detective's ListInvitations): follow NextToken by hand
    kwargs = {}
    while True:
        page = getattr(client, op)(**kwargs)
        n += len(page[key])
        token = page.get("NextToken")
        if not token:
            return n
        kwargs["NextToken"] = token


def sweep_seq(endpoint, todo):
    counts = {}
    for svc, region in todo:
        client = boto3.client(svc, region_name=region, endpoint_url=endpoint)
        counts[svc] = counts.get(svc, 0) + list_all(client, svc)
    return counts


def sweep_threads(endpoint, todo, workers):
    # boto3's advice: clients are thread-safe, sessions are not; make the clients, then share them
    clients = [(svc, boto3.client(svc, region_name=region, endpoint_url=endpoint)) for svc, region in todo]
    counts = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for svc, n in pool.map(lambda c: (c[0], list_all(c[1], c[0])), clients):
            counts[svc] = counts.get(svc, 0) + n
    return counts


def sweep_sessions(endpoint, todo, workers):
    local = threading.local()

    def task(scope):
        svc, region = scope
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = boto3.session.Session()
        client = session.client(svc, region_name=region, endpoint_url=endpoint)
        return svc, list_all(client, svc)

    counts = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for svc, n in pool.map(task, todo):
            counts[svc] = counts.get(svc, 0) + n
    return counts


def main():
    if len(sys.argv) < 3 or not re.match(r"^http://127\.0\.0\.1:\d+$", sys.argv[1]) \
            or not re.match(r"^(seq|threads\d*|sessions\d*)$", sys.argv[2]):
        sys.exit("usage: bench/inventory_boto3.py http://127.0.0.1:PORT seq|threads[N]|sessions[N] [rounds]"
                 " [regions,...]")
    endpoint, mode = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    regions = sys.argv[4].split(",") if len(sys.argv) > 4 else REGIONS
    for svc, (op, _) in LIST.items():
        c = boto3.client(svc, region_name="us-east-1", endpoint_url=endpoint)
        if not hasattr(c, op):
            sys.exit("bench/inventory_boto3.py: boto3 %s (botocore %s) has no %s.%s"
                     % (boto3.__version__, botocore.__version__, svc, op))
    kind = re.match(r"^[a-z]+", mode).group(0)
    workers = int(mode[len(kind):] or 32)
    if kind != "seq":
        mode = "%s%d" % (kind, workers)

    def sweep():
        if kind == "threads":
            return sweep_threads(endpoint, todo, workers)
        if kind == "sessions":
            return sweep_sessions(endpoint, todo, workers)
        return sweep_seq(endpoint, todo)

    todo = scopes(regions)
    expected = sweep_threads(endpoint, todo, 32)  # warm-up
    ms = []
    for _ in range(rounds):
        t0 = time.perf_counter_ns()
        counts = sweep()
        ms.append((time.perf_counter_ns() - t0) / 1e6)
        if counts != expected:
            sys.exit("bench/inventory_boto3.py: a %s sweep found %r, the first found %r" % (mode, counts, expected))
    ms.sort()
    name = "inventory-boto3-" + mode
    print("result %s min=%.1f median=%.1f max=%.1f rounds=%d iterations=1 invitations=%d scopes=%d"
          % (name, ms[0], ms[len(ms) // 2], ms[-1], rounds, sum(expected.values()), len(todo)))
    print("kinds %s %s" % (name, " ".join("%s=%d" % (k, expected.get(k, 0)) for k in LIST)))
    print("info boto3 boto3 %s / botocore %s (%s)" % (boto3.__version__, botocore.__version__, sys.executable))


if __name__ == "__main__":
    main()
