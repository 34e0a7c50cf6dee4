#!/usr/bin/env bash
# Regenerate the ngspice reference CSVs of xbarsim's own reference decks (netlists/*.cir).
#
#   netlists/regen.sh                      # every netlists/*.cir, CSVs written into netlists/
#   netlists/regen.sh NAME [NAME...]       # only these decks (NAME, NAME.cir or a path to it)
#   netlists/regen.sh -o OUTDIR [NAME...]  # write the CSVs into OUTDIR instead (created if missing)
#
# Decks are always read from the directory of this script; -o only moves the output
# (.ci/run uses it to regenerate into a temporary folder and compare with the committed
# references, so a stale reference cannot hide).
#
# For each deck NAME.cir this writes
#   NAME.op.csv    if the deck has .op   : header "name,value", then one row per vector
#   NAME.dc.csv    if the deck has .dc   : sweep column (v-sweep / i-sweep), then one column per vector
#   NAME.tran.csv  if the deck has .tran : time column, then one column per vector
# This is exactly the layout of ../shared/ngspice-tests/netlists/ (same method as its
# regen.sh, which this script follows): vectors are ngspice's own, v(node) for every
# non-ground node first, then i(name) for every branch current ngspice keeps; values are
# printed exactly as ngspice's ASCII rawfile writes them (%.15e, 16 significant digits).
#
# How: the deck is copied to a fresh temporary directory, its .op/.dc/.tran card is
# commented out and re-issued as a control command in an appended .control block that
# writes an ASCII rawfile.  For .tran the control block runs `linearize` after `tran`:
# ngspice keeps its own adaptive time step and `linearize` resamples the accepted points
# linearly onto the deck's grid 0, TSTEP, 2*TSTEP, ..., TSTOP (time values accumulated the
# way ngspice does, so they carry rounding drift such as 2.494999999999982e-03).
#
# DIFFERENCE from ../shared/ngspice-tests/regen.sh, which adds `.options interp` instead:
# in ngspice 39 the on-the-fly interpolation of `interp` (InterpFileAdd in outitf.c) is
# wrong whenever a grid point is emitted against an interval that does not contain it; the
# output then lags or extrapolates.  Measured on these decks: up to 6.5 % of a signal's
# range (mos_1t1r_tran), and a PWL source's own value off by 0.5 % of its range
# (rc_pwl_tran: v(in) at t = 2.495 ms is -0.4924 instead of -0.4850).  `linearize` agrees
# with an independent linear interpolation of the raw points to rounding.
# ngspice runs in batch mode (`ngspice -b`) with HOME and the working directory pointing
# at the empty temporary directory, so no .spiceinit is read (only the system spinit).
# A deck fails if ngspice crashes, if its log mentions aborted / too small / singular /
# error, or if a rawfile is missing or incomplete.  ngspice warnings are printed.
# CSVs are written to a .part file and renamed, so an interrupted run leaves no half CSV.
#
# Environment: NGSPICE (default: ngspice) selects the binary.  The committed references
# were made with ngspice-39 (Debian package 39.3+ds-1); another version prints a warning.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
netdir="$here"
outdir="$here"
ngspice="${NGSPICE:-ngspice}"
expected_version="ngspice-39"

usage() { sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        -o|--out) [ $# -ge 2 ] || usage; outdir="$2"; shift 2 ;;
        -h|--help) usage ;;
        --) shift; break ;;
        -*) echo "regen.sh: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
done
mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"

command -v "$ngspice" >/dev/null 2>&1 || { echo "regen.sh: '$ngspice' not found (apt-get install ngspice)" >&2; exit 2; }
version="$("$ngspice" -v 2>/dev/null | grep -o 'ngspice-[0-9][0-9.]*' | head -1 || true)"
if [ "$version" != "$expected_version" ]; then
    echo "regen.sh: warning: found ${version:-unknown ngspice}, references were made with $expected_version" >&2
fi

# ASCII rawfile -> CSV.  mode=op: "name,value" rows; mode=sweep: header + one row per point.
raw2csv() {
    awk -v mode="$1" '
    function cname(n) {
        if (n ~ /^[vi]\([a-z]+-sweep\)$/) { sub(/^[vi]\(/, "", n); sub(/\)$/, "", n) }
        return n
    }
    /^No\. Variables:/ { nvar = $3 + 0 }
    /^No\. Points:/    { npts = $3 + 0 }
    /^Flags:/          { if ($0 !~ /real/) { print "complex rawfile not supported" > "/dev/stderr"; exit 3 } }
    /^Variables:/      { st = 1; next }
    /^Values:/         { st = 2; nv = 0; nrow = 0
                         # column order: scale (sweep modes), then v(...), then everything else
                         ncol = 0
                         if (mode != "op") col[++ncol] = 0
                         for (k = (mode != "op"); k < nvar; k++) if (name[k] ~ /^v\(/) col[++ncol] = k
                         for (k = (mode != "op"); k < nvar; k++) if (name[k] !~ /^v\(/) col[++ncol] = k
                         if (mode == "op") print "name,value"
                         else {
                             line = cname(name[col[1]])
                             for (c = 2; c <= ncol; c++) line = line "," cname(name[col[c]])
                             print line
                         }
                         next }
    st == 1 { split($0, f, "\t"); name[f[2] + 0] = f[3]; next }
    st == 2 && NF > 0 {
        n = split($0, f, "\t"); val[nv++] = f[n]
        if (nv == nvar) {
            if (mode == "op") {
                for (c = 1; c <= ncol; c++) print cname(name[col[c]]) "," val[col[c]]
            } else {
                line = val[col[1]]
                for (c = 2; c <= ncol; c++) line = line "," val[col[c]]
                print line
            }
            nv = 0; nrow++
        }
    }
    END {
        if (st != 2 || nrow != npts || nrow == 0) { printf "rawfile incomplete: %d of %d points\n", nrow, npts > "/dev/stderr"; exit 4 }
    }' "$2"
}

# one deck
regen_one() {
    local name="$1" cir="$netdir/$1.cir"
    [ -f "$cir" ] || { echo "regen.sh: no such deck $cir" >&2; return 1; }
    local tmp; tmp="$(mktemp -d "${TMPDIR:-/tmp}/xbarsim-regen.XXXXXX")"
    # analysis cards (single-line; a '+' continuation of one is refused)
    local cards
    cards="$(grep -inE '^[[:space:]]*\.(op|dc|tran)([[:space:]]|$)' "$cir" || true)"
    if [ -z "$cards" ]; then echo "regen.sh: $name: no .op/.dc/.tran card" >&2; rm -rf "$tmp"; return 1; fi
    local ctl="" kinds="" lineno text kind
    while IFS= read -r entry; do
        lineno="${entry%%:*}"; text="${entry#*:}"
        if sed -n "$((lineno + 1))p" "$cir" | grep -qE '^[[:space:]]*\+'; then
            echo "regen.sh: $name: continued analysis card at line $lineno is not supported" >&2; rm -rf "$tmp"; return 1
        fi
        text="$(printf '%s' "$text" | sed -E 's/[[:space:]]+;.*$//; s/^[[:space:]]*\.//; s/[[:space:]]+$//')"
        kind="$(printf '%s' "$text" | awk '{print tolower($1)}')"
        case " $kinds " in *" $kind "*) echo "regen.sh: $name: more than one .$kind card" >&2; rm -rf "$tmp"; return 1;; esac
        kinds="$kinds $kind"
        ctl="$ctl$text"$'\n'
        # tran: resample ngspice's accepted time points linearly onto the deck's TSTEP grid
        # with the `linearize` command (see the header: `.options interp` is wrong in ngspice 39)
        [ "$kind" = tran ] && ctl="${ctl}linearize"$'\n'
        ctl="${ctl}write $kind.raw"$'\n'
    done <<< "$cards"

    {
        sed -E '/^[[:space:]]*\.(op|dc|tran)([[:space:]]|$)/I s/^/*regen: /; /^[[:space:]]*\.end[[:space:]]*$/Id' "$cir"
        # `quit 0`: in batch mode ngspice exits 1 when the deck itself ran no analysis,
        # so its status only tells a crash apart; failures are read from the log below.
        printf '.control\nset filetype=ascii\n%squit 0\n.endc\n.end\n' "$ctl"
    } > "$tmp/deck.cir"

    if ! (cd "$tmp" && HOME="$tmp" timeout 600 "$ngspice" -b deck.cir > run.log 2>&1); then
        echo "regen.sh: $name: ngspice failed; log follows" >&2; cat "$tmp/run.log" >&2; rm -rf "$tmp"; return 1
    fi
    # (the "Circuit: <title>" line is skipped so that a title containing "error" is harmless)
    if grep -v '^Circuit: ' "$tmp/run.log" | grep -qiE 'aborted|too small|singular|error'; then
        echo "regen.sh: $name: ngspice reported a failure; log follows" >&2; cat "$tmp/run.log" >&2; rm -rf "$tmp"; return 1
    fi
    grep -iE '(^|[^a-z])warning' "$tmp/run.log" | sed "s/^/regen.sh: $name: ngspice: /" >&2 || true

    local k mode
    for k in op dc tran; do
        case " $kinds " in
            *" $k "*)
                [ -s "$tmp/$k.raw" ] || { echo "regen.sh: $name: ngspice wrote no $k data; log follows" >&2; cat "$tmp/run.log" >&2; rm -rf "$tmp"; return 1; }
                mode=sweep; [ "$k" = op ] && mode=op
                # write beside the target, then rename: an interrupted run never leaves a half CSV
                raw2csv "$mode" "$tmp/$k.raw" > "$outdir/.$name.$k.csv.part" \
                    || { echo "regen.sh: $name: bad $k rawfile" >&2; rm -f "$outdir/.$name.$k.csv.part"; rm -rf "$tmp"; return 1; }
                mv -f "$outdir/.$name.$k.csv.part" "$outdir/$name.$k.csv"
                ;;
            *) rm -f "$outdir/$name.$k.csv" ;;
        esac
    done
    printf '%-32s %s\n' "$name" "$kinds"
    rm -rf "$tmp"
}

names=()
for a in "$@"; do a="$(basename "$a")"; names+=("${a%.cir}"); done
if [ ${#names[@]} -eq 0 ]; then
    for f in "$netdir"/*.cir; do names+=("$(basename "$f" .cir)"); done
fi
fail=0
for n in "${names[@]}"; do regen_one "$n" || fail=1; done
exit $fail
