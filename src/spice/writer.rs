//! Writing a `Circuit` as an ngspice 39 deck (flat: subcircuits are already expanded).
//!
//! Element names must start with their kind's letter and be unique; node names are kept when
//! they are made of letters, digits, `_` and `.` (ngspice accepts `x1.mid`). Anything else is
//! sanitised (`_` for bad characters, the kind letter prefixed, `_2`, `_3`... for clashes);
//! [`write_netlist_mapped`] returns those renamings so results can be matched back.
//! Memristive `N` cells are written frozen at their present state, as `B name a b i=expr`
//! with the cell's exact static law ([`crate::device::Cell::spice_current_expr`]); the element
//! name gets a `b` prefix (listed in the renamings).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use crate::circuit::diode::DiodeModel;
use crate::circuit::elements::*;
use crate::circuit::mos1::Mos1Model;

use super::number::format_number as num;

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum WriteError {
    /// Kept for API stability; N elements are now written frozen as B sources.
    #[error("N elements cannot be exported unless frozen (element {0})")]
    MemCell(String),
    #[error("{element}: {message}")]
    Element { element: String, message: String },
}

/// A written deck and every name that had to change (`(circuit name, name in the deck)`).
#[derive(Clone, Debug, PartialEq)]
pub struct Written {
    pub text: String,
    pub renamed_elements: Vec<(String, String)>,
    pub renamed_nodes: Vec<(String, String)>,
}

/// Write `c` as an ngspice deck. See [`write_netlist_mapped`] for the renamings.
pub fn write_netlist(c: &Circuit) -> Result<String, WriteError> {
    write_netlist_mapped(c).map(|w| w.text)
}

fn card_text(kind: &str, params: &[(&'static str, f64)]) -> String {
    let body: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", crate::spice::number::format_number(*v)))
        .collect();
    format!("{kind} ({})", body.join(" "))
}

/// Model card text after `.model <name> ` for a diode: "d (is=... n=...)".
pub fn diode_model_card(m: &DiodeModel) -> String {
    card_text("d", &m.card_params())
}

/// Model card text after `.model <name> ` for a level-1 MOSFET: "nmos (level=1 ...)" or "pmos (...)".
pub fn mos1_model_card(m: &Mos1Model) -> String {
    let mut p = vec![("level", 1.0)];
    p.extend(m.card_params());
    card_text(if m.polarity < 0.0 { "pmos" } else { "nmos" }, &p)
}

fn clean(name: &str) -> String {
    name.chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '_' || ch == '.' {
                ch.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

struct Names {
    used: HashSet<String>,
    renamed: Vec<(String, String)>,
    map: HashMap<String, String>,
}

impl Names {
    fn new() -> Self {
        Names {
            used: HashSet::new(),
            renamed: Vec::new(),
            map: HashMap::new(),
        }
    }

    /// A unique deck name for element `name` of kind `letter`.
    fn element(&mut self, name: &str, letter: char) -> String {
        let mut base = clean(name);
        if !base.starts_with(letter) {
            base = format!("{letter}{base}");
        }
        let mut out = base.clone();
        let mut k = 2;
        while !self.used.insert(out.clone()) {
            out = format!("{base}_{k}");
            k += 1;
        }
        if out != name {
            self.renamed.push((name.to_string(), out.clone()));
        }
        self.map.insert(name.to_string(), out.clone());
        out
    }
}

fn write_wave(
    out: &mut String,
    w: &Waveform,
    tran: Option<(f64, f64)>,
    element: &str,
) -> Result<(), WriteError> {
    // Fill a missing middle field with ngspice's default so the later fields keep their place.
    let need = |what: &str| WriteError::Element {
        element: element.to_string(),
        message: format!("{what} left to its default needs a .tran analysis to be written"),
    };
    let fill = |vals: &[Option<f64>],
                defaults: &[Option<f64>],
                names: &[&str]|
     -> Result<Vec<f64>, WriteError> {
        let last = vals.iter().rposition(Option::is_some);
        let mut v = Vec::new();
        if let Some(last) = last {
            for k in 0..=last {
                v.push(match (vals[k], defaults[k]) {
                    (Some(x), _) => x,
                    (None, Some(d)) => d,
                    (None, None) => return Err(need(names[k])),
                });
            }
        }
        Ok(v)
    };
    let (tstep, tstop) = match tran {
        Some((a, b)) => (Some(a), Some(b)),
        None => (None, None),
    };
    // The card's numbers in order: PULSE(V1 V2 TD TR TF PW PER), SIN(VO VA FREQ TD THETA
    // PHASE), PWL(T1 V1 T2 V2 ...).
    let (kind, vals) = match w {
        Waveform::Pulse {
            v1,
            v2,
            td,
            tr,
            tf,
            pw,
            per,
        } => {
            let mut vals = vec![*v1, *v2];
            vals.extend(fill(
                &[*td, *tr, *tf, *pw, *per],
                &[Some(0.0), tstep, tstep, tstop, tstop],
                &["TD", "TR", "TF", "PW", "PER"],
            )?);
            ("PULSE", vals)
        }
        Waveform::Sin {
            vo,
            va,
            freq,
            td,
            theta,
            phase,
        } => {
            let mut vals = vec![*vo, *va];
            vals.extend(fill(
                &[*freq, *td, *theta, *phase],
                &[tstop.map(|t| 1.0 / t), Some(0.0), Some(0.0), Some(0.0)],
                &["FREQ", "TD", "THETA", "PHASE"],
            )?);
            ("SIN", vals)
        }
        Waveform::Pwl(pts) => ("PWL", pts.iter().flat_map(|&(t, v)| [t, v]).collect()),
    };
    let _ = write!(out, " {kind}(");
    for (k, x) in vals.into_iter().enumerate() {
        if k > 0 {
            out.push(' ');
        }
        out.push_str(&num(x));
    }
    out.push(')');
    Ok(())
}

/// Write `c` as an ngspice deck, also returning every renamed element and node.
pub fn write_netlist_mapped(c: &Circuit) -> Result<Written, WriteError> {
    // Node names.
    let mut node_names = Vec::with_capacity(c.node_names.len());
    let mut used_nodes = HashSet::new();
    let mut renamed_nodes = Vec::new();
    for (id, name) in c.node_names.iter().enumerate() {
        if id == GROUND {
            node_names.push("0".to_string());
            used_nodes.insert("0".to_string());
            continue;
        }
        let mut base = clean(name);
        if base.is_empty() || base == "gnd" {
            base = format!("n{base}");
        }
        let mut out = base.clone();
        let mut k = 2;
        while !used_nodes.insert(out.clone()) {
            out = format!("{base}_{k}");
            k += 1;
        }
        if &out != name {
            renamed_nodes.push((name.clone(), out.clone()));
        }
        node_names.push(out);
    }
    let n = |id: NodeId| node_names[id].as_str();
    let tran = c.analyses.iter().find_map(|a| match a {
        Analysis::Tran { tstep, tstop, .. } => Some((*tstep, *tstop)),
        _ => None,
    });

    let mut names = Names::new();
    let mut out = String::new();
    let title = if c.title.trim().is_empty() {
        "xbarsim netlist"
    } else {
        c.title.trim()
    };
    let _ = writeln!(out, "{title}");
    out.push_str("* written by xbarsim (flat netlist for ngspice 39)\n");

    // Options: every field, so the deck does not depend on the simulator's defaults.
    let o = &c.options;
    let method = match o.method {
        IntegrationMethod::Trapezoidal => "method=trap",
        IntegrationMethod::BackwardEuler => "method=gear maxord=1",
    };
    let _ = writeln!(
        out,
        ".options reltol={} abstol={} vntol={} chgtol={} trtol={} gmin={} itl1={} itl4={} {method} tnom={}",
        num(o.reltol),
        num(o.abstol),
        num(o.vntol),
        num(o.chgtol),
        num(o.trtol),
        num(o.gmin),
        o.itl1,
        o.itl4,
        num(o.tnom - 273.15)
    );
    let _ = writeln!(out, ".temp {}", num(o.temp - 273.15));

    // Models: one card per distinct model value.
    let mut diode_models: Vec<(&DiodeModel, String)> = Vec::new();
    for d in &c.diodes {
        if !diode_models.iter().any(|(m, _)| *m == &*d.model) {
            let name = format!("dmod{}", diode_models.len() + 1);
            let _ = writeln!(out, ".model {name} {}", diode_model_card(&d.model));
            diode_models.push((&d.model, name));
        }
    }
    let mut mos_models: Vec<(&Mos1Model, String)> = Vec::new();
    for m in &c.mosfets {
        if !mos_models.iter().any(|(x, _)| *x == &*m.model) {
            let name = format!("mmod{}", mos_models.len() + 1);
            let _ = writeln!(out, ".model {name} {}", mos1_model_card(&m.model));
            mos_models.push((&m.model, name));
        }
    }

    for r in &c.resistors {
        let nm = names.element(&r.name, 'r');
        let _ = writeln!(out, "{nm} {} {} {}", n(r.a), n(r.b), num(r.r));
    }
    for x in &c.capacitors {
        let nm = names.element(&x.name, 'c');
        let _ = write!(out, "{nm} {} {} {}", n(x.a), n(x.b), num(x.c));
        if let Some(ic) = x.ic {
            let _ = write!(out, " ic={}", num(ic));
        }
        out.push('\n');
    }
    for x in &c.inductors {
        let nm = names.element(&x.name, 'l');
        let _ = write!(out, "{nm} {} {} {}", n(x.a), n(x.b), num(x.l));
        if let Some(ic) = x.ic {
            let _ = write!(out, " ic={}", num(ic));
        }
        out.push('\n');
    }
    for (list, letter) in [(&c.vsources, 'v'), (&c.isources, 'i')] {
        for s in list {
            let nm = names.element(&s.name, letter);
            let _ = write!(out, "{nm} {} {} DC {}", n(s.pos), n(s.neg), num(s.dc));
            if let Some(w) = &s.wave {
                write_wave(&mut out, w, tran, &s.name)?;
            }
            out.push('\n');
        }
    }
    for (list, letter) in [(&c.vcvs, 'e'), (&c.vccs, 'g')] {
        for e in list {
            let nm = names.element(&e.name, letter);
            let _ = writeln!(
                out,
                "{nm} {} {} {} {} {}",
                n(e.pos),
                n(e.neg),
                n(e.cpos),
                n(e.cneg),
                num(e.gain)
            );
        }
    }
    for d in &c.diodes {
        let nm = names.element(&d.name, 'd');
        let model = &diode_models
            .iter()
            .find(|(m, _)| *m == &*d.model)
            .unwrap()
            .1;
        let _ = writeln!(
            out,
            "{nm} {} {} {model} area={} m={}",
            n(d.anode),
            n(d.cathode),
            num(d.area),
            num(d.m)
        );
    }
    for m in &c.mosfets {
        let nm = names.element(&m.name, 'm');
        let model = &mos_models.iter().find(|(x, _)| *x == &*m.model).unwrap().1;
        let _ = writeln!(
            out,
            "{nm} {} {} {} {} {model} w={} l={} ad={} as={} pd={} ps={} m={}",
            n(m.d),
            n(m.g),
            n(m.s),
            n(m.b),
            num(m.w),
            num(m.l),
            num(m.ad),
            num(m.as_),
            num(m.pd),
            num(m.ps),
            num(m.m)
        );
    }
    for b in &c.behavioural {
        let nm = names.element(&b.name, 'b');
        let key = match b.kind {
            BehaviouralKind::Voltage => 'v',
            BehaviouralKind::Current => 'i',
        };
        let expr = b.expr.to_spice(&|id| node_names[id].clone());
        let _ = writeln!(out, "{nm} {} {} {key}={expr}", n(b.pos), n(b.neg));
    }

    // Memristive cells, frozen at their present state: a B source with the same static I-V.
    for m in &c.memcells {
        let nm = names.element(&m.name, 'b');
        let v = if m.neg == GROUND {
            format!("v({})", n(m.pos))
        } else {
            format!("v({},{})", n(m.pos), n(m.neg))
        };
        let state: Vec<String> = m
            .cell
            .state_vars()
            .iter()
            .map(|(k, x)| format!("{k}={}", num(*x)))
            .collect();
        let _ = writeln!(
            out,
            "* {}: {} cell frozen at {}",
            m.name,
            m.cell.family(),
            state.join(" ")
        );
        let expr = m.cell.spice_current_expr(&v, c.options.temp);
        let _ = writeln!(out, "{nm} {} {} i={expr}", n(m.pos), n(m.neg));
    }

    let source_name = |s: &str| -> Result<String, WriteError> {
        names
            .map
            .get(s)
            .cloned()
            .ok_or_else(|| WriteError::Element {
                element: s.to_string(),
                message: ".dc sweeps a source that is not in the circuit".into(),
            })
    };
    for a in &c.analyses {
        match a {
            Analysis::Op => out.push_str(".op\n"),
            Analysis::Dc { inner, outer } => {
                let _ = write!(
                    out,
                    ".dc {} {} {} {}",
                    source_name(&inner.source)?,
                    num(inner.start),
                    num(inner.stop),
                    num(inner.step)
                );
                if let Some(s) = outer {
                    let _ = write!(
                        out,
                        " {} {} {} {}",
                        source_name(&s.source)?,
                        num(s.start),
                        num(s.stop),
                        num(s.step)
                    );
                }
                out.push('\n');
            }
            Analysis::Tran {
                tstep,
                tstop,
                tstart,
                tmax,
                uic,
            } => {
                let _ = write!(out, ".tran {} {}", num(*tstep), num(*tstop));
                if *tstart != 0.0 || tmax.is_some() {
                    let _ = write!(out, " {}", num(*tstart));
                }
                if let Some(t) = tmax {
                    let _ = write!(out, " {}", num(*t));
                }
                if *uic {
                    out.push_str(" uic");
                }
                out.push('\n');
            }
        }
    }
    if !c.initial_conditions.is_empty() {
        out.push_str(".ic");
        for &(node, v) in &c.initial_conditions {
            let _ = write!(out, " v({})={}", n(node), num(v));
        }
        out.push('\n');
    }
    out.push_str(".end\n");
    Ok(Written {
        text: out,
        renamed_elements: names.renamed,
        renamed_nodes,
    })
}
