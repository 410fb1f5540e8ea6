# Short libFuzzer run of every harness in fuzz/ (about 4 s each, plus the
# build the first time): the committed corpus and the SigV4 suite seeds are
# replayed, then fuzzed briefly. TAP: one test per target, ok when it ran
# and found nothing. Skipped when clang's libFuzzer runtime is missing.
cd "$(dirname "$0")/.." || exit 1
targets="uri query headers sign http_header"
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
    | clang -x c -fsanitize=fuzzer -o /dev/null - >/dev/null 2>&1; then
    echo "1..0 # SKIP clang with libFuzzer (packages clang, libclang-rt-14-dev) not available"
    exit 0
fi
set -- $targets
echo "1..$#"
out=$(bash fuzz/run.sh short 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
i=0
for t in $targets; do
    i=$((i + 1))
    line=$(echo "$out" | grep "^fuzz_$t: [0-9]* executions")
    n=$(echo "$line" | sed -n 's/^fuzz_[a-z_]*: \([0-9]*\) executions.*/\1/p')
    if [ -n "$line" ] && echo "$line" | grep -q ", 0 crashes$" && [ "${n:-0}" -gt 0 ]; then
        echo "ok $i - fuzz_$t: $n executions, no crash or invariant failure"
    else
        echo "not ok $i - fuzz_$t: ${line:-no result (build failed?)}"
    fi
done
[ "$rc" = 0 ] || echo "# fuzz/run.sh exited with $rc"
