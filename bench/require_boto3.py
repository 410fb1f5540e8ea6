"""bench/require_boto3.py - what `import boto3` (and the first client) costs inside a fresh process.

    /usr/bin/python3 bench/require_boto3.py [runs]

The peer of bench/require.lua: starts `runs` fresh /usr/bin/python3 processes; each measures with
time.process_time (CPU time of the process, as Lua's os.clock) `import boto3` and then the first
boto3.client("guardduty", ...), and this parent prints, over the runs,
    result require-boto3-require min=<ms> median=<ms> max=<ms> rounds=<runs> iterations=1
    result require-boto3-client  ...
"""
import subprocess
import sys

CHILD = """
import time
t0 = time.process_time()
import boto3
t1 = time.process_time()
boto3.client("guardduty", region_name="us-east-1")
t2 = time.process_time()
print("%.4f %.4f" % ((t1 - t0) * 1e3, (t2 - t1) * 1e3))
"""


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    req, cli = [], []
    for i in range(runs):
        out = subprocess.run(["/usr/bin/python3", "-c", CHILD], capture_output=True, text=True, check=False)
        parts = out.stdout.split()
        if out.returncode != 0 or len(parts) != 2:
            sys.exit("bench/require_boto3.py: child %d failed: %s" % (i + 1, out.stderr.strip()[-300:]))
        req.append(float(parts[0]))
        cli.append(float(parts[1]))
    for name, t in (("require", req), ("client", cli)):
        t.sort()
        print("result require-boto3-%s min=%.2f median=%.2f max=%.2f rounds=%d iterations=1"
              % (name, t[0], t[len(t) // 2], t[-1], runs))


if __name__ == "__main__":
    main()
