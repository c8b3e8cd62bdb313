#!/usr/bin/env bash
# Runs the native tests under AddressSanitizer + UndefinedBehaviorSanitizer and valgrind memcheck.
#
#  1. native/test/unit_tests.cc (ring, drain, GC phase pairing, near-OOM hand-off, fd writer):
#     plain, then -fsanitize=address,undefined (leak check on), then the plain binary under
#     valgrind --leak-check=full. No V8 needed.
#  2. The addon itself, built with -fsanitize=address,undefined into build/sanitizers/ (build/Release
#     and the prebuilds are not touched), loaded into the system Node through LEAK_AGENT_ADDON_PATH
#     with libasan/libubsan preloaded, running the native fixtures: GC records, ring overflow, a
#     worker thread, the sampling-profiler hand-off, a near-limit burst the process survives, a real
#     heap OOM in the main thread and in a worker. LeakSanitizer is off there: Node and V8 do not free
#     everything at exit, and their leaks are not ours. Valgrind does not run Node here: V8's JIT and
#     its own allocator make memcheck's output noise and runs take minutes per fixture.
#
# Needs g++ with libasan/libubsan (Debian: g++, libasan8, libubsan1 come with it) and valgrind.
# Prints one line per step and fails on the first sanitizer report.
#   bash scripts/native-sanitizers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/build/sanitizers
CXX=${CXX:-g++}
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
mkdir -p "$OUT"
step() { printf '[native-sanitizers] %s\n' "$*"; }
started=$(date +%s)

# --- 1. unit tests ---------------------------------------------------------------------------
UNIT_SRC=(native/test/unit_tests.cc native/gc_ring.cc)
$CXX -std=c++17 -Wall -Wextra -Werror -O1 -g -o "$OUT/unit_tests" "${UNIT_SRC[@]}"
"$OUT/unit_tests" >"$OUT/unit.log"
step "unit tests: $(tail -1 "$OUT/unit.log")"

$CXX -std=c++17 -O1 -g $SAN -o "$OUT/unit_tests_asan" "${UNIT_SRC[@]}"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 "$OUT/unit_tests_asan" >"$OUT/unit-asan.log"
step "unit tests under ASan+UBSan (leak check on): $(tail -1 "$OUT/unit-asan.log"), no reports"

valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
  "$OUT/unit_tests" >"$OUT/unit-valgrind.log" 2>"$OUT/unit-valgrind.err" || {
  cat "$OUT/unit-valgrind.err" >&2
  exit 1
}
step "unit tests under valgrind memcheck: $(tail -1 "$OUT/unit-valgrind.log"), no errors, no leaks"

# --- 2. the addon under ASan in real Node ----------------------------------------------------
STAGE=$OUT/addon
rm -rf "$STAGE"
mkdir -p "$STAGE"
cp -r binding.gyp native "$STAGE/"
ln -s "$ROOT/node_modules" "$STAGE/node_modules"
NODEDIR=$(cd "$(dirname "$(command -v node)")/.." && pwd)
(cd "$STAGE" && CXXFLAGS="$SAN -g" LDFLAGS="-fsanitize=address,undefined" npm_config_nodedir="$NODEDIR" \
  node "$ROOT/node_modules/node-gyp/bin/node-gyp.js" rebuild --nodedir="$NODEDIR" --jobs=2 --loglevel=error >"$OUT/addon-build.log" 2>&1) || {
  cat "$OUT/addon-build.log" >&2
  exit 1
}
ADDON=$STAGE/build/Release/leak_agent.node
step "addon built with ASan+UBSan for Node $(node -v): $ADDON"
[ -f "$ROOT/dist/index.js" ] || npm run build >/dev/null

EV=$(mktemp -d "${TMPDIR:-/tmp}/leak-agent-sanitizers-XXXXXX")
trap 'rm -rf "$EV"' EXIT
# run <name> <expected exit code> <node args...>
run() {
  local name=$1 want=$2
  shift 2
  local log=$OUT/$name.log rc=0
  # The braces' 2>/dev/null swallows the shell's own "Aborted" notice for the expected heap OOM.
  { env LD_PRELOAD="$($CXX -print-file-name=libasan.so) $($CXX -print-file-name=libubsan.so)" \
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    LEAK_AGENT_ADDON_PATH="$ADDON" LEAK_AGENT_DIR="$EV/$name" LEAK_AGENT_LOG=stderr \
    node "$@" >"$log" 2>&1; } 2>/dev/null || rc=$?
  if grep -qE 'AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$log"; then
    grep -m20 -E -A12 'ERROR: AddressSanitizer|runtime error:' "$log" >&2
    step "FAILED: $name: sanitizer report (full output in $log)"
    exit 1
  fi
  if [ "$rc" != "$want" ]; then
    tail -20 "$log" >&2
    step "FAILED: $name exited $rc, expected $want (output in $log)"
    exit 1
  fi
  # Make sure the sanitized build is the one that ran, not a prebuild.
  if ! grep -q "$ADDON" "$log"; then
    step "FAILED: $name did not load $ADDON (output in $log)"
    exit 1
  fi
  step "$name under ASan+UBSan: exit $rc as expected, no reports"
}
F=test/fixtures/native
run gc-records 0 --expose-gc "$F/gc-records.js"
run ring-overflow 0 --expose-gc -e "require('./$F/overflow.js'); console.log(require('./dist/native/addon.js').loadAddon().from)"
run worker-thread 0 --expose-gc "$F/worker-main.js"
run profiler-handoff 0 "$F/profiler-handoff.js"
run near-limit-burst 0 --max-old-space-size=48 "$F/near-limit-burst.js"
run heap-oom 134 --max-old-space-size=48 "$F/oom-leak.js"
run worker-oom 0 "$F/worker-oom.js"
step "all clean in $(( $(date +%s) - started )) s"
