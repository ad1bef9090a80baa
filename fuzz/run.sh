#!/usr/bin/env bash
# Runs each fuzz harness for a bounded time (default 60 s each) from its
# seed corpus; exits non-zero on any finding (crash, sanitizer report, leak,
# timeout, out-of-memory). Build first: bash fuzz/build.sh.
#   bash fuzz/run.sh [SECONDS_PER_HARNESS] [HARNESS...]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${WICK_FUZZ_BUILD:-build/fuzz}
SECONDS_EACH=${1:-60}
shift || true
HARNESSES=("$@")
[ ${#HARNESSES[@]} -gt 0 ] || HARNESSES=(program_loader npy_reader)

status=0
for h in "${HARNESSES[@]}"; do
  work="$OUT/work/$h"       # inputs libFuzzer found interesting (grows across runs)
  findings="$OUT/findings/$h"
  mkdir -p "$work" "$findings"
  # Inputs as large as the largest seed (libFuzzer's default stops at 1 MB).
  max_len=$(find "$OUT/corpus/$h" -type f -printf '%s\n' | sort -n | tail -1)
  echo "fuzzing $h for ${SECONDS_EACH}s ..."
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a file must
  # not make the loader allocate gigabytes.
  if ! "$OUT/fuzz_$h" "$work" "$OUT/corpus/$h" -max_total_time="$SECONDS_EACH" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$findings/" 2>"$OUT/$h.log"; then
    echo "FINDING in $h: see $OUT/$h.log and $findings/"
    tail -40 "$OUT/$h.log"
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$OUT/$h.log" | sed "s/^/  $h /"
done
exit $status
