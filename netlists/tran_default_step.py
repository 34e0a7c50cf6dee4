#!/usr/bin/env python3
"""xbarsim's transient at its default step against ngspice converged (issue 12, item 3).

    python3 netlists/tran_default_step.py [XBAR] DECK.cir ...

For each deck: ngspice runs it with RELTOL = 1e-6 and TMAX = TSTEP/1000 (`linearize` onto the
TSTEP grid); `XBAR run DECK -o ...` runs it as written (XBAR defaults to target/release/xbar;
XBAR_TRAN=1 makes it print its accepted step count). Printed per signal: its range in the
converged reference, the worst |error|, and the worst error over the conformance tolerance
1e-3·range + 1e-6·|x| + abstol (1e-12 A for i(...), 1e-9 V otherwise), against the
linearly interpolated reference ("err/tol") and against the interval spanned by the reference
points around each time ("bracketed": the reference resolves a signal only to its own step,
so at an edge steeper than that the interpolated value is itself off); a bracketed ratio > 1
fails.
Needs ngspice on PATH; stdlib only.
"""

import bisect
import csv
import os
import re
import subprocess
import sys
import tempfile

SCALE = {"f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "meg": 1e6, "g": 1e9}


def number(tok):
    m = re.match(r"([-+0-9.eE]+)([a-zA-Z]*)", tok)
    v, u = float(m.group(1)), m.group(2).lower()
    for p in ("meg", "f", "p", "n", "u", "m", "k", "g"):
        if u.startswith(p):
            return v * SCALE[p]
    return v


def tight_deck(text):
    out, tran, uic = [], None, ""
    for line in text.splitlines():
        t = line.strip().lower()
        if t.startswith(".tran"):
            tran = line.split()[1:3]
            uic = " uic" if "uic" in t.split() else ""
            continue
        if t == ".end":
            continue
        out.append(line)
    tstep, tstop = number(tran[0]), number(tran[1])
    out += [".control", "set filetype=ascii", "option reltol=1e-6",
            f"tran {tstep:e} {tstop:e} 0 {tstep / 1000:e}{uic}", "linearize", "write tight.raw",
            "quit 0", ".endc", ".end"]
    return "\n".join(out) + "\n"


def read_raw(path):
    lines = open(path).read().splitlines()
    names, nv, i = [], 0, 0
    while i < len(lines):
        if lines[i].startswith("No. Variables:"):
            nv = int(lines[i].split(":")[1])
        if lines[i].startswith("Variables:"):
            names = [lines[i + 1 + k].split()[1].lower() for k in range(nv)]
            i += 1 + nv
            continue
        if lines[i].startswith("Values:"):
            i += 1
            break
        i += 1
    toks, rows, j = " ".join(lines[i:]).split(), [], 0
    while j < len(toks):
        rows.append([float(t) for t in toks[j + 1:j + 1 + nv]])
        j += 1 + nv
    return names, rows


def main(argv):
    xbar = "target/release/xbar"
    if argv and not argv[0].endswith(".cir"):
        xbar = argv.pop(0)
    for deck in argv:
        with tempfile.TemporaryDirectory() as tmp:
            name = os.path.basename(deck)
            open(os.path.join(tmp, name), "w").write(tight_deck(open(deck).read()))
            subprocess.run(["ngspice", "-b", name], cwd=tmp, capture_output=True,
                           env={**os.environ, "HOME": tmp}, check=True)
            names, ref = read_raw(os.path.join(tmp, "tight.raw"))
            run = subprocess.run([xbar, "run", deck, "-o", os.path.join(tmp, "xb")],
                                 capture_output=True, text=True,
                                 env={**os.environ, "XBAR_TRAN": "1"}, check=True)
            steps = re.findall(r"tran: (\d+) accepted time steps", run.stderr)
            table = list(csv.reader(open(os.path.join(tmp, "xb.tran.csv"))))
        head = [h.lower() for h in table[0]]
        got = [[float(v) for v in r] for r in table[1:]]
        ts = [r[0] for r in ref]
        print(f"{name}: xbarsim {steps[-1] if steps else '?'} accepted steps; "
              f"{len(got)} rows vs {len(ref)} reference rows")

        def at(col, t):
            k = bisect.bisect_left(ts, t)
            if k <= 0:
                return ref[0][col]
            if k >= len(ts):
                return ref[-1][col]
            a = (t - ts[k - 1]) / (ts[k] - ts[k - 1])
            return ref[k - 1][col] * (1 - a) + ref[k][col] * a

        for c, h in enumerate(head[1:], start=1):
            if h not in names:
                print(f"  {h}: not in the ngspice output")
                continue
            k = names.index(h)
            col = [r[k] for r in ref]
            rng = max(col) - min(col)
            atol = 1e-12 if h.startswith("i(") else 1e-9
            err = max(abs(r[c] - at(k, r[0])) for r in got)
            ratio = max(abs(r[c] - at(k, r[0]))
                        / (1e-3 * rng + 1e-6 * max(abs(r[c]), abs(at(k, r[0]))) + atol)
                        for r in got)
            # The reference resolves the signal only to its own step (TSTEP/1000): where the
            # signal jumps within one reference step (a square-root edge), the interpolated
            # reference is itself off. "bracketed" measures the distance to the interval the
            # neighbouring reference points span (zero inside it).
            def outside(r):
                j = bisect.bisect_left(ts, r[0])
                lo, hi = max(j - 1, 0), min(j + 1, len(ts) - 1)
                if j < len(ts) and ts[j] > r[0]:
                    hi = j
                span = [ref[m][k] for m in range(lo, hi + 1)]
                return max(0.0, min(span) - r[c], r[c] - max(span))
            bracketed = max(outside(r) / (1e-3 * rng + 1e-6 * abs(r[c]) + atol) for r in got)
            print(f"  {h:12} range {rng:.4e}  max|err| {err:.3e}  err/tol {ratio:.2f}"
                  f"  bracketed {bracketed:.2f}{'  FAIL' if bracketed > 1 else ''}")


if __name__ == "__main__":
    main(sys.argv[1:])
