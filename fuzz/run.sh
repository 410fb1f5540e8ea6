#!/bin/bash
# fuzz/run.sh - build and run the libFuzzer harnesses of fuzz/.
#
#   bash fuzz/run.sh [SECONDS|short] [--no-merge] [TARGET...]
#
# SECONDS (default 300) is the total fuzzing time, shared equally by the
# targets; "short" is a quick check (about 4 s per target, no merge, starting
# from the committed corpus and the seeds only), used by check/35-fuzz.t.
# Each harness is built with clang -fsanitize=fuzzer,address,undefined into
# build/fuzz/, started on its corpus (fuzz/corpus/<target>, the
# seeds generated from the AWS SigV4 suite by fuzz/seed.lua, and the working
# corpus build/fuzz/corpus/<target> kept between runs), and run for its share
# of the time. Afterwards (not in short mode, not with --no-merge) the corpus
# is merged and minimised back into fuzz/corpus/<target> (edge coverage only,
# which keeps it small: one input per reachable branch, so a few dozen files,
# about a hundred for fuzz_sign with its many error returns). Runs of
# different targets may go on at the same time (each run has its own scratch
# directory); two runs of the same target share its working corpus.
#
# Output: one line per target, then the total, e.g.
#   fuzz_sign: 1234567 executions in 60 s, 0 crashes
#   fuzz: 5678901 executions, 0 crashes
# Crash inputs are written to build/fuzz/artifacts/. Exit status 1 when a
# target crashed or could not be built, 2 on bad usage.
set -u
cd "$(dirname "$0")/.." || exit 2

ALL_TARGETS="uri query headers sign http_header"
CLANG=${CLANG:-clang}
TOTAL=300
SHORT=0
MERGE=1
TARGETS=""
for a in "$@"; do
    case "$a" in
    short) SHORT=1; MERGE=0 ;;
    --no-merge) MERGE=0 ;;
    [0-9]*) TOTAL=$a ;;
    uri|query|headers|sign|http_header) TARGETS="$TARGETS $a" ;;
    *) echo "usage: fuzz/run.sh [SECONDS|short] [--no-merge] [$ALL_TARGETS]" >&2; exit 2 ;;
    esac
done
[ -n "$TARGETS" ] || TARGETS=$ALL_TARGETS
set -- $TARGETS
NT=$#
if [ "$SHORT" = 1 ]; then
    PER=4
else
    PER=$(( TOTAL / NT ))
    [ "$PER" -ge 1 ] || PER=1
fi

OUT=build/fuzz
mkdir -p "$OUT/corpus" "$OUT/artifacts" "$OUT/logs"
CFLAGS="-g -O1 -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Wno-unused-function \
 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -Isrc"

build() { # target -> 0 when build/fuzz/fuzz_<target> is up to date
    local t=$1 bin=$OUT/fuzz_$1 deps obj=$TMPD/obj
    case "$t" in
    http_header) deps="fuzz/fuzz_http_header.c src/curl_engine.c src/curl_engine.h" ;;
    *) deps="fuzz/fuzz_$t.c src/sigv4.c src/sigv4.h fuzz/fuzz_common.h fuzz/fuzz_ref.h" ;;
    esac
    if [ -x "$bin" ]; then
        local stale=0 f
        for f in $deps fuzz/run.sh; do [ "$f" -nt "$bin" ] && stale=1; done
        [ "$stale" = 0 ] && return 0
    fi
    mkdir -p "$obj"
    # built under this run's own directory, then renamed into place: another
    # run.sh at the same time never sees (or runs) a half-written binary
    if [ "$t" = http_header ]; then
        # the curl engine alone (no Lua): coverage feedback from src/curl_engine.c, whose
        # header parser the harness calls through curl_engine.h
        $CLANG $CFLAGS -fsanitize=fuzzer-no-link -c -o "$obj/curl_engine.o" src/curl_engine.c \
            && $CLANG $CFLAGS -c -o "$obj/fuzz_$t.o" "fuzz/fuzz_$t.c" \
            && $CLANG $CFLAGS -fsanitize=fuzzer -o "$obj/fuzz_$t" "$obj/fuzz_$t.o" "$obj/curl_engine.o" -lcurl \
            || return 1
    else
        # coverage feedback from the signer only: the harness and its model are
        # built without it, so the fuzzer (and the merged corpus) follow src/sigv4.c
        $CLANG $CFLAGS -fsanitize=fuzzer-no-link -c -o "$obj/sigv4.o" src/sigv4.c \
            && $CLANG $CFLAGS -c -o "$obj/fuzz_$t.o" "fuzz/fuzz_$t.c" \
            && $CLANG $CFLAGS -fsanitize=fuzzer -o "$obj/fuzz_$t" "$obj/fuzz_$t.o" "$obj/sigv4.o" -lcrypto \
            || return 1
    fi
    mv -f "$obj/fuzz_$t" "$bin"
}

# this run's scratch: seeds, objects, the short mode's corpus
TMPD=$OUT/run.$$
trap 'rm -rf "$TMPD"' EXIT
mkdir -p "$TMPD"

# seeds from the AWS SigV4 suite (and hand-written HTTP responses)
if ! lua5.4 fuzz/seed.lua "$TMPD/seeds" >/dev/null; then
    echo "fuzz: could not write the seeds (lua5.4, lua-cjson)" >&2
    exit 1
fi

total=0
crashes=0
failed=0
for t in "$@"; do
    if ! build "$t" >"$OUT/logs/build_$t.log" 2>&1; then
        cat "$OUT/logs/build_$t.log" >&2
        echo "fuzz_$t: build failed"
        failed=1
        continue
    fi
    mkdir -p "$OUT/corpus/$t" "fuzz/corpus/$t"
    work=$OUT/corpus/$t
    if [ "$SHORT" = 1 ]; then
        # a quick check does not depend on (or add to) the long runs' corpus
        work=$TMPD/short/$t
        mkdir -p "$work"
    fi
    log=$OUT/logs/fuzz_$t.log
    start=$(date +%s)
    # the sanitizer runtime is linked in: no preloaded one from the ASan test run
    env -u LD_PRELOAD ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1" \
        "$OUT/fuzz_$t" -max_total_time="$PER" -max_len=4096 -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$OUT/artifacts/${t}-" \
        "$work" "fuzz/corpus/$t" "$TMPD/seeds/$t" >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    n=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    [ -n "$n" ] || n=0
    c=0
    if [ "$rc" != 0 ] || grep -aq 'ERROR: libFuzzer\|ERROR: AddressSanitizer\|runtime error:\|fuzz invariant failed' "$log"; then
        c=1
        grep -a -m 5 'fuzz invariant failed\|ERROR:\|runtime error:\|SUMMARY\|Test unit written' "$log" | sed 's/^/    /' >&2
    fi
    total=$(( total + n ))
    crashes=$(( crashes + c ))
    echo "fuzz_$t: $n executions in $secs s, $c crashes"
    if [ "$MERGE" = 1 ] && [ "$c" = 0 ]; then
        # minimise into a fresh directory, then replace the repository's corpus
        mkdir -p "$TMPD/merge_$t"
        if env -u LD_PRELOAD "$OUT/fuzz_$t" -merge=1 -use_counters=0 -use_value_profile=0 -max_len=4096 \
            "$TMPD/merge_$t" "$TMPD/seeds/$t" "fuzz/corpus/$t" "$OUT/corpus/$t" >"$OUT/logs/merge_$t.log" 2>&1; then
            rm -f "fuzz/corpus/$t"/*
            cp "$TMPD/merge_$t"/* "fuzz/corpus/$t"/ 2>/dev/null
            echo "fuzz_$t: corpus $(ls "fuzz/corpus/$t" | wc -l) files, $(du -sk "fuzz/corpus/$t" | cut -f1) KiB"
        else
            echo "fuzz_$t: merge failed (see $OUT/logs/merge_$t.log)" >&2
        fi
        rm -rf "$TMPD/merge_$t"
    fi
done
echo "fuzz: $total executions, $crashes crashes"
[ "$crashes" = 0 ] && [ "$failed" = 0 ]
