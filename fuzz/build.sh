#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan) into build/fuzz and
# their seed corpora into build/fuzz/corpus/<harness>. Installs Debian's clang
# when it is missing. fuzz/README.md says how to run them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${WICK_FUZZ_BUILD:-build/fuzz}

if ! command -v clang++ >/dev/null 2>&1; then
  echo "installing clang (Debian) for the fuzzers ..."
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang >/dev/null
fi

# -O1 -g: the usual settings for sanitizer builds (fast enough, readable traces).
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
cmake -S . -B "$OUT" -G Ninja -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_C_FLAGS="$SAN" -DCMAKE_CXX_FLAGS="$SAN" \
  -DWICK_BUILD_PYTHON=OFF -DWICK_BUILD_RUNNER=OFF -DWICK_BUILD_FUZZERS=ON \
  -DPython_EXECUTABLE="$(command -v "$PY")" >/dev/null
cmake --build "$OUT" --target fuzz_program_loader fuzz_npy_reader -j "${CMAKE_BUILD_PARALLEL_LEVEL:-2}"

"$PY" fuzz/make_corpus.py "$OUT/corpus"
echo "fuzzers: $OUT/fuzz_program_loader $OUT/fuzz_npy_reader; corpora: $OUT/corpus/"
