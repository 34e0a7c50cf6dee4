//! The array as an ngspice deck and as engine element tables.
//!
//! Both are written from the bound [`Network`], so node merging (zero resistances) and the
//! periphery are exactly those the structured solver uses: every fixed class becomes a node
//! `f<k>` held by a voltage source `vf<k>` to ground (its current, ngspice sign, is the current
//! flowing from the array into the periphery there), every free class a node named after its
//! first crosspoint node (`r<i>_<j>`, `c<i>_<j>`, `m<i>_<j>`).

use std::fmt::Write as _;

use std::sync::Arc;

use crate::circuit::expr::Compiled;
use crate::circuit::mos1::Mos1Model;
use crate::circuit::{
    Behavioural, BehaviouralKind, Circuit, MemCell, Mosfet, Options, Resistor, Source,
};

use super::config::Crossbar;
use super::law::CellLaw;
use super::network::{Bias, End, Line, Network};
use super::solver::Array;
use super::CrossbarError;

/// Options of the exported deck.
#[derive(Clone, Debug, PartialEq)]
pub struct NetlistOptions {
    /// Text of the `.options` card (without the keyword); empty for none.
    pub options: String,
    /// Emit the `.op` card.
    pub op: bool,
}

impl Default for NetlistOptions {
    /// Tight Newton tolerances so ngspice's answer is accurate to well below 1e-6, and the
    /// gmin across the transistors' bulk junctions the structured solver models
    /// ([`GMIN_BULK`](super::law::GMIN_BULK)).
    fn default() -> Self {
        NetlistOptions {
            options: format!(
                "reltol=1e-10 abstol=1e-18 vntol=1e-13 gmin={:e}",
                super::law::GMIN_BULK
            ),
            op: true,
        }
    }
}

/// Names of the voltage sources whose currents (ngspice `i(name)`, A) make up each physical
/// bit line's sense current and each word line's driver current (driver: −i).
#[derive(Clone, Debug, Default)]
pub struct ExportMap {
    pub col_sources: Vec<Vec<String>>,
    pub row_sources: Vec<Vec<String>>,
}

/// The MVM deck with every input at full scale (`v_read`), as ngspice 39 runs it.
pub fn export_netlist(xb: &Crossbar) -> Result<String, CrossbarError> {
    let bias = Bias::mvm(xb, &vec![xb.v_read; xb.rows]);
    let arr = Array::bind(xb, &bias)?;
    Ok(export_bound(&arr, &NetlistOptions::default()).0)
}

fn node_names(net: &Network) -> Vec<String> {
    let mut names = vec![String::new(); net.n_free];
    let mut set = vec![false; net.n_free];
    for i in 0..net.rows {
        for j in 0..net.pcols {
            let mut cands = vec![(net.r(i, j), 'r'), (net.c(i, j), 'c')];
            if net.k == 3 {
                cands.push((net.m(i, j), 'm'));
            }
            for (raw, p) in cands {
                if let End::Free(k) = net.class_of[raw] {
                    if !set[k as usize] {
                        set[k as usize] = true;
                        names[k as usize] = format!("{p}{i}_{j}");
                    }
                }
            }
        }
    }
    names
}

fn end_name(e: End, names: &[String]) -> String {
    match e {
        End::Free(k) => names[k as usize].clone(),
        End::Fixed(f) => format!("f{f}"),
    }
}

/// Deck of a bound array at its current bias.
pub fn export_bound(arr: &Array, opt: &NetlistOptions) -> (String, ExportMap) {
    let net = &arr.net;
    let xb = arr.crossbar();
    let names = node_names(net);
    let nm = |e: End| end_name(e, &names);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "* xbarsim crossbar {}x{} {} ({} bit lines), exported netlist",
        xb.rows,
        xb.cols,
        xb.cell.name(),
        net.pcols
    );
    let mut map = ExportMap {
        col_sources: vec![Vec::new(); net.pcols],
        row_sources: vec![Vec::new(); net.rows],
    };
    for (f, &t) in net.fixed_term.iter().enumerate() {
        let _ = writeln!(s, "vf{f} f{f} 0 dc {:.17e}", arr.fixed_v[f]);
        match net.terminals[t].line {
            Line::Row(i) => map.row_sources[i].push(format!("vf{f}")),
            Line::Col(j) => map.col_sources[j].push(format!("vf{f}")),
        }
    }
    for (k, r) in net.res.iter().enumerate() {
        if r.a != r.b {
            let _ = writeln!(s, "rw{k} {} {} {:.17e}", nm(r.a), nm(r.b), 1.0 / r.g);
        }
    }
    for (idx, t) in net.cells.iter().enumerate() {
        let (i, j) = (idx / net.pcols, idx % net.pcols);
        let g = xb.g[idx];
        match xb.law {
            CellLaw::Linear => {
                let _ = writeln!(s, "rc{i}_{j} {} {} {:.17e}", nm(t.a), nm(t.b), 1.0 / g);
            }
            CellLaw::Sinh { v0 } => {
                let (a, b) = (nm(t.a), nm(t.b));
                let _ = writeln!(
                    s,
                    "bc{i}_{j} {a} {b} i={:.17e}*sinh(v({a},{b})/{:.17e})",
                    g * v0,
                    v0
                );
            }
            CellLaw::Card => {
                // The frozen static law of the programmed device, written exactly.
                let (a, b) = (nm(t.a), nm(t.b));
                let expr = xb.cells[idx].spice_current_expr(&format!("v({a},{b})"), xb.temp_k);
                let _ = writeln!(s, "bc{i}_{j} {a} {b} i={expr}");
            }
        }
    }
    if let Some(sel) = xb.selector {
        for (idx, t) in net.sels.iter().enumerate() {
            let (i, j) = (idx / net.pcols, idx % net.pcols);
            let (a, b) = (nm(t.a), nm(t.b));
            let _ = writeln!(
                s,
                "bs{i}_{j} {a} {b} i={:.17e}*sinh(v({a},{b})/{:.17e})",
                sel.i_s, sel.v_s
            );
        }
    }
    if let Some(m) = xb.transistor {
        for i in 0..net.rows {
            let _ = writeln!(s, "vg{i} g{i} 0 dc {:.17e}", arr.bias.gates[i]);
        }
        for (idx, t) in net.mos.iter().enumerate() {
            let (i, j) = (idx / net.pcols, idx % net.pcols);
            let _ = writeln!(
                s,
                "mt{i}_{j} {} g{} {} 0 nacc w={:.17e} l={:.17e}",
                nm(t.d),
                t.row,
                nm(t.s),
                m.w,
                m.l
            );
        }
        // is=0: no junction saturation current (the array's transistor law has none).
        let _ = writeln!(
            s,
            ".model nacc nmos (level=1 vto={:.17e} kp={:.17e} lambda={:.17e} gamma=0 is=0)",
            m.vto, m.kp, m.lambda
        );
    }
    if !opt.options.is_empty() {
        let _ = writeln!(s, ".options {}", opt.options);
    }
    if xb.law == CellLaw::Card || xb.transistor.is_some() {
        // Circuit (and nominal) temperature of the cell laws and transistors, in °C.
        let tc = xb.temp_k - 273.15;
        let _ = writeln!(s, ".options temp={tc:.17e} tnom={tc:.17e}");
    }
    if opt.op {
        let _ = writeln!(s, ".op");
    }
    let _ = writeln!(s, ".end");
    (s, map)
}

/// Options of [`to_circuit`]: the Newton tolerances of the exported deck
/// ([`NetlistOptions::default`]: reltol 1e-10, abstol 1e-18 A, vntol 1e-13 V), so the engine
/// and ngspice stop on the same test (ngspice `NIconvTest`: |Δx| ≤ reltol·max(|x|,|x_old|) +
/// abstol/vntol per unknown), and gmin = [`GMIN_BULK`](super::law::GMIN_BULK) across the
/// MOSFET bulk junctions, as the structured solver models them; temperature = nominal
/// temperature = `xb.temp_k`, so the level-1 transistor keeps its card VTO and KP.
///
/// Why not tighter: a bit-line current is solved as a branch current of the MNA system, and
/// its floating-point noise is ~ε·|V|·G of the wire conductance next to it (ε·0.4 V·3.5 S ≈
/// 3e-16 A for a 0.28 Ω wire), which exceeds reltol·|I| for reltol = 1e-12 and I ≈ 3e-5 A: Newton
/// then cycled on roundoff between two values 3.6e-16 A apart and never passed the test
/// (ngspice's test is the same; with its own pivot order it happened to pass that deck at
/// reltol 1e-12, so agreement at 1e-12 was luck of the roundoff, not a margin). Newton
/// converges quadratically, so stopping at a 1e-10 step leaves a far smaller error (engine vs
/// structured solver 5e-15 relative on that array).
pub fn circuit_options(xb: &Crossbar) -> Options {
    Options {
        reltol: 1e-10,
        abstol: 1e-18,
        vntol: 1e-13,
        gmin: super::law::GMIN_BULK,
        temp: xb.temp_k,
        tnom: xb.temp_k,
        ..Options::default()
    }
}

/// The bound array as engine element tables, named as in [`export_bound`]: fixed classes are
/// voltage sources `vf<k>` (index k in `vsources`, so `Simulator::vsource_current(sol, k)` is
/// the current from the array into that periphery end, ngspice sign), then the gate sources
/// `vg<i>`. Linear cells are resistors, sinh cells and selectors behavioural current sources
/// `I = I0·sinh(v(a,b)/V0)`, card cells `MemCell`s holding the programmed device, access
/// transistors level-1 n-MOSFETs (bulk grounded, GAMMA = 0, IS = 0) with the array's
/// VTO/KP/LAMBDA/W/L. Options from [`circuit_options`].
pub fn to_circuit(arr: &Array) -> Result<Circuit, CrossbarError> {
    let net = &arr.net;
    let xb = arr.crossbar();
    let names = node_names(net);
    let mut c = Circuit::new(format!(
        "crossbar {}x{} {}",
        xb.rows,
        xb.cols,
        xb.cell.name()
    ));
    c.options = circuit_options(xb);
    let id = |e: End, c: &mut Circuit| c.node(&end_name(e, &names));
    for (f, v) in arr.fixed_v.iter().enumerate() {
        let pos = id(End::Fixed(f as u32), &mut c);
        c.vsources.push(Source {
            name: format!("vf{f}"),
            pos,
            neg: 0,
            dc: *v,
            wave: None,
        });
    }
    for (k, r) in net.res.iter().enumerate() {
        if r.a != r.b {
            let (a, b) = (id(r.a, &mut c), id(r.b, &mut c));
            c.resistors.push(Resistor {
                name: format!("rw{k}"),
                a,
                b,
                r: 1.0 / r.g,
            });
        }
    }
    let sinh_source = |c: &mut Circuit, name: String, a: End, b: End, i0: f64, v0: f64| {
        let (na, nb) = (end_name(a, &names), end_name(b, &names));
        let text = format!("{i0:.17e}*sinh(v({na},{nb})/{v0:.17e})");
        let (pa, pb) = (c.node(&na), c.node(&nb));
        let expr = Compiled::parse(&text, &|_| None, &mut |n: &str| Ok(c.node(n)))
            .map_err(|e| CrossbarError::Input(format!("to_circuit: {name}: {e}")))?;
        c.behavioural.push(Behavioural {
            name,
            pos: pa,
            neg: pb,
            kind: BehaviouralKind::Current,
            expr,
        });
        Ok::<(), CrossbarError>(())
    };
    for (idx, t) in net.cells.iter().enumerate() {
        let (i, j) = (idx / net.pcols, idx % net.pcols);
        match xb.law {
            CellLaw::Linear => {
                let (a, b) = (id(t.a, &mut c), id(t.b, &mut c));
                c.resistors.push(Resistor {
                    name: format!("rc{i}_{j}"),
                    a,
                    b,
                    r: 1.0 / xb.g[idx],
                });
            }
            CellLaw::Sinh { v0 } => {
                sinh_source(&mut c, format!("bc{i}_{j}"), t.a, t.b, xb.g[idx] * v0, v0)?;
            }
            CellLaw::Card => {
                let (a, b) = (id(t.a, &mut c), id(t.b, &mut c));
                c.memcells.push(MemCell {
                    name: format!("nc{i}_{j}"),
                    pos: a,
                    neg: b,
                    cell: xb.cells[idx].clone(),
                });
            }
        }
    }
    if let Some(sel) = xb.selector {
        for (idx, t) in net.sels.iter().enumerate() {
            let (i, j) = (idx / net.pcols, idx % net.pcols);
            sinh_source(&mut c, format!("bs{i}_{j}"), t.a, t.b, sel.i_s, sel.v_s)?;
        }
    }
    if let Some(m) = xb.transistor {
        let mut model = Mos1Model::new(1.0);
        for (k, v) in [
            ("vto", m.vto),
            ("kp", m.kp),
            ("lambda", m.lambda),
            ("gamma", 0.0),
            ("is", 0.0),
        ] {
            model
                .set(k, v)
                .map_err(|e| CrossbarError::Input(format!("to_circuit: transistor: {e}")))?;
        }
        let model = Arc::new(model);
        let gates: Vec<usize> = (0..net.rows)
            .map(|i| {
                let g = c.node(&format!("g{i}"));
                c.vsources.push(Source {
                    name: format!("vg{i}"),
                    pos: g,
                    neg: 0,
                    dc: arr.bias.gates[i],
                    wave: None,
                });
                g
            })
            .collect();
        for (idx, t) in net.mos.iter().enumerate() {
            let (i, j) = (idx / net.pcols, idx % net.pcols);
            let (d, s) = (id(t.d, &mut c), id(t.s, &mut c));
            c.mosfets.push(Mosfet {
                name: format!("mt{i}_{j}"),
                d,
                g: gates[t.row],
                s,
                b: 0,
                model: model.clone(),
                w: m.w,
                l: m.l,
                ad: 0.0,
                as_: 0.0,
                pd: 0.0,
                ps: 0.0,
                m: 1.0,
            });
        }
    }
    Ok(c)
}

/// Bit-line currents (A, per physical column, ngspice sign of the sensing sources) of the bound
/// array solved by the general engine (`to_circuit` → `Simulator::op`): the independent check
/// of the structured solver.
pub fn engine_column_currents(arr: &Array) -> Result<Vec<f64>, CrossbarError> {
    let mut sim = crate::circuit::Simulator::new(to_circuit(arr)?)
        .map_err(|e| CrossbarError::Solve(e.to_string()))?;
    let sol = sim.op().map_err(|e| CrossbarError::Solve(e.to_string()))?;
    let mut cols = vec![0.0; arr.column_currents().len()];
    for (f, &t) in arr.net.fixed_term.iter().enumerate() {
        if let Line::Col(j) = arr.net.terminals[t].line {
            cols[j] += sim.vsource_current(&sol, f);
        }
    }
    Ok(cols)
}
