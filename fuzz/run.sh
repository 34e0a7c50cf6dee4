#!/bin/sh
# Seed the corpora from the repository and run fuzz targets one at a time.
#
#   fuzz/run.sh [RUNS [MAX_SECONDS [TARGET...]]]
#
# RUNS executions per target (default 1000000), stopping early after MAX_SECONDS (default
# 1800). Any panic, abort or input slower than FUZZ_TIMEOUT seconds (default 1) is a crash, saved under
# fuzz/artifacts/TARGET/. Needs cargo-fuzz (`cargo install cargo-fuzz`); the stable toolchain
# is enough with RUSTC_BOOTSTRAP=1. No sanitizer (-s none): the library is safe Rust, and
# coverage-guided panics and hangs are what we look for.
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-1000000}
SECS=${2:-1800}
shift 2 2>/dev/null || shift $#
TARGETS=${*:-netlist expr crossbar_config crossbar_structured device_card csv data_csv}

mkdir -p fuzz/corpus/netlist fuzz/corpus/expr fuzz/corpus/crossbar_config fuzz/corpus/device_card fuzz/corpus/csv fuzz/corpus/data_csv fuzz/corpus/crossbar_structured
for f in netlists/*.cir ../shared/ngspice-tests/netlists/*.cir; do
    [ -f "$f" ] && cp "$f" "fuzz/corpus/netlist/$(basename "$f")"
done
# B-source and parameter expressions found in the decks, one per file.
k=0
grep -hoiE "(^b[^ ]* +[^ ]+ +[^ ]+ +[iv] *= *.*|'[^']+'|\{[^}]+\})" netlists/*.cir ../shared/ngspice-tests/netlists/*.cir 2>/dev/null \
    | sed -E "s/^b[^ ]* +[^ ]+ +[^ ]+ +[iv] *= *//I; s/^'//; s/'$//; s/^\{//; s/\}$//" \
    | sort -u | head -300 | while IFS= read -r e; do
        k=$((k + 1)); printf '%s' "$e" > "fuzz/corpus/expr/deck_$k"
    done
printf '%s' "v(a) > 0.5 ? v(a)*2 : (v(b) <= 0 || !v(a) ? 1 : v(a,b))" > fuzz/corpus/expr/logic
printf '%s' "1e-14*(exp(v(a,b)/0.025)-1) + pwr(v(b),3) - pow(-2,0.5)" > fuzz/corpus/expr/pow
cp examples/configs/*.toml fuzz/corpus/crossbar_config/
cp device-models/*.toml fuzz/corpus/device_card/
for f in netlists/*.csv; do [ -f "$f" ] && cp "$f" fuzz/corpus/csv/; done 2>/dev/null || true
printf '0.5,0.2,0.1,0\n0.3,1,-0.5,0.25\n# c\n0,0,0,0\n1,1,1,1\n' > fuzz/corpus/csv/weights_4x4
printf 'in0,in1,in2,in3\n0.5,0.2,0.1,0\n1,1,1,1\n' > fuzz/corpus/csv/inputs_4
# Measured data (`xbar fit`): an options line `COLUMNS|UNITS|WHERE|CYCLES`, then the head of
# each shared data set.
for f in ../shared/data/*/*.csv; do
    [ -f "$f" ] || continue
    b=$(basename "$(dirname "$f")")
    { echo; head -n 40 "$f"; } > "fuzz/corpus/data_csv/$b"
    { echo '||||1-2'; head -n 40 "$f"; } > "fuzz/corpus/data_csv/$b.cycles"
done
printf 'v=AV,i=AI|i=mA|dev=U1|\nAV,AI,dev,t\n0,0,U1,0\n0.5,1.2,U1,1\n-0.5,-1,U2,2\n' > fuzz/corpus/data_csv/mapped
printf '\ntime_s,v_v,i_a,g_s,cycle\n0,0.1,1e-6,1e-5,1\n1,0.1,2e-6,2e-5,2\n' > fuzz/corpus/data_csv/series

# The csv and data_csv harnesses write every input to a temporary file: keep those in memory
# where the machine has a tmpfs.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    export TMPDIR=/dev/shm
fi
for t in $TARGETS; do
    echo "== $t: $RUNS runs, at most $SECS s"
    mkdir -p "fuzz/artifacts/$t"
    log="fuzz/artifacts/$t/run.log"
    start=$(date +%s)
    RUSTC_BOOTSTRAP=1 cargo fuzz run -s none -O "$t" "fuzz/corpus/$t" -- \
        -runs="$RUNS" -max_total_time="$SECS" -timeout="${FUZZ_TIMEOUT:-1}" -rss_limit_mb=2048 \
        -print_final_stats=1 > "$log" 2>&1 || true
    # The last status line (executions, coverage, corpus size), the final statistics and
    # any crash report; the whole libFuzzer output stays in $log.
    grep -E '^#[0-9]+' "$log" | tail -n 1
    grep -vE '^#[0-9]+|^"|^###' "$log" | tail -n 30
    echo "wall time: $(( $(date +%s) - start )) s; corpus files: $(ls "fuzz/corpus/$t" | wc -l)"
done
