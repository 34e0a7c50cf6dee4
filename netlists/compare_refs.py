#!/usr/bin/env python3
"""Compare two sets of ngspice reference CSVs (stdlib only).

    python3 netlists/compare_refs.py COMMITTED_DIR FRESH_DIR

COMMITTED_DIR is netlists/ (decks NAME.cir with their NAME.{op,dc,tran}.csv); FRESH_DIR holds
the CSVs that `netlists/regen.sh -o FRESH_DIR` just produced from the same decks.  Every deck
must have the same set of CSVs on both sides, with the same header and the same number of rows,
and every value must agree within the suite's tolerance (netlists/README.md, "Tolerances"):

  .op / .dc   |a - b| <= 1e-6 * |ref| + atol,  atol = 1e-9 (voltages, sweep values)
                                                     1e-12 (columns named i(...): currents, A)
  .tran       time: |a - b| <= 1e-9 * TSTEP (TSTEP = the reference's second time value)
              values: |a - b| <= 1e-3 * (max - min of the reference column) + atol

`ref` is the committed value.  Exit status 0 when everything agrees, 1 on any difference
(each one printed with deck, file, column and row; at most 20 per file), 2 on bad usage.
"""

import csv
import glob
import os
import sys

REL_DC = 1e-6
REL_TRAN = 1e-3
ATOL_V = 1e-9
ATOL_I = 1e-12
MAX_REPORTS_PER_FILE = 20


def atol(column):
    return ATOL_I if column.lower().startswith("i(") else ATOL_V


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"{path}: empty file")
    header, body = rows[0], rows[1:]
    data = []
    for n, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(f"{path}: line {n} has {len(row)} fields, header has {len(header)}")
        if header[0] == "name":  # .op layout: name,value rows
            data.append(row)
        else:
            try:
                data.append([float(x) for x in row])
            except ValueError as e:
                raise ValueError(f"{path}: line {n}: {e}") from None
    return header, data


def compare_op(deck, fname, ref, new, problems):
    (h1, d1), (h2, d2) = ref, new
    if h1 != h2:
        problems.append(f"{deck}: {fname}: header {h2} differs from committed {h1}")
        return
    names1 = [r[0] for r in d1]
    names2 = [r[0] for r in d2]
    if names1 != names2:
        missing = sorted(set(names1) - set(names2))
        extra = sorted(set(names2) - set(names1))
        problems.append(
            f"{deck}: {fname}: vector list differs (missing {missing}, extra {extra}, or order)"
        )
        return
    count = 0
    for line, (r1, r2) in enumerate(zip(d1, d2), start=2):
        a, b = float(r1[1]), float(r2[1])
        tol = REL_DC * abs(a) + atol(r1[0])
        if not abs(a - b) <= tol:
            count += 1
            if count <= MAX_REPORTS_PER_FILE:
                problems.append(
                    f"{deck}: {fname}: vector {r1[0]} (line {line}): committed {r1[1]}, "
                    f"regenerated {r2[1]}, |diff| {abs(a - b):.3e} > tol {tol:.3e}"
                )
    if count > MAX_REPORTS_PER_FILE:
        problems.append(f"{deck}: {fname}: ... {count - MAX_REPORTS_PER_FILE} more differences")


def compare_sweep(deck, fname, ref, new, problems, tran):
    (h1, d1), (h2, d2) = ref, new
    if h1 != h2:
        problems.append(f"{deck}: {fname}: header {h2} differs from committed {h1}")
        return
    if len(d1) != len(d2):
        problems.append(f"{deck}: {fname}: {len(d2)} data rows, committed file has {len(d1)}")
        return
    tols = []
    for c, name in enumerate(h1):
        if tran and c == 0:
            tstep = d1[1][0] - d1[0][0] if len(d1) > 1 else 0.0
            tols.append((0.0, 1e-9 * abs(tstep) + 1e-30))
        elif tran:
            col = [r[c] for r in d1]
            tols.append((0.0, REL_TRAN * (max(col) - min(col)) + atol(name)))
        else:
            tols.append((REL_DC, atol(name)))
    count = 0
    for line, (r1, r2) in enumerate(zip(d1, d2), start=2):
        for c, name in enumerate(h1):
            a, b = r1[c], r2[c]
            rel, abs_tol = tols[c]
            tol = rel * abs(a) + abs_tol
            if not abs(a - b) <= tol:
                count += 1
                if count <= MAX_REPORTS_PER_FILE:
                    problems.append(
                        f"{deck}: {fname}: column {name}, row {line - 1} (line {line}, "
                        f"{h1[0]} = {r1[0]:.15e}): committed {a:.15e}, regenerated {b:.15e}, "
                        f"|diff| {abs(a - b):.3e} > tol {tol:.3e}"
                    )
    if count > MAX_REPORTS_PER_FILE:
        problems.append(f"{deck}: {fname}: ... {count - MAX_REPORTS_PER_FILE} more differences")


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    committed, fresh = argv[1], argv[2]
    decks = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(committed, "*.cir")))
    if not decks:
        print(f"compare_refs: no decks (*.cir) in {committed}", file=sys.stderr)
        return 2
    problems = []
    nfiles = 0
    for deck in decks:
        kinds_c = [k for k in ("op", "dc", "tran") if os.path.exists(os.path.join(committed, f"{deck}.{k}.csv"))]
        kinds_f = [k for k in ("op", "dc", "tran") if os.path.exists(os.path.join(fresh, f"{deck}.{k}.csv"))]
        if not kinds_c:
            problems.append(f"{deck}: no committed reference CSV (run netlists/regen.sh {deck})")
        if kinds_c != kinds_f:
            problems.append(f"{deck}: committed CSVs {kinds_c}, regenerated CSVs {kinds_f}")
        for k in kinds_c:
            if k not in kinds_f:
                continue
            fname = f"{deck}.{k}.csv"
            try:
                ref = read_csv(os.path.join(committed, fname))
                new = read_csv(os.path.join(fresh, fname))
            except ValueError as e:
                problems.append(f"{deck}: {e}")
                continue
            nfiles += 1
            if k == "op":
                compare_op(deck, fname, ref, new, problems)
            else:
                compare_sweep(deck, fname, ref, new, problems, tran=(k == "tran"))
    # CSVs without a deck are stale leftovers
    for p in sorted(glob.glob(os.path.join(committed, "*.csv"))):
        stem = os.path.basename(p).split(".")[0]
        if stem not in decks:
            problems.append(f"{os.path.basename(p)}: committed CSV without a deck {stem}.cir")
    if problems:
        print(f"compare_refs: {len(problems)} problem(s): committed references in {committed} "
              f"do not match ngspice's regenerated ones in {fresh}", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        print("compare_refs: run netlists/regen.sh and commit the CSVs if the deck change was intended",
              file=sys.stderr)
        return 1
    print(f"compare_refs: {len(decks)} decks, {nfiles} reference CSVs agree within tolerance")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
