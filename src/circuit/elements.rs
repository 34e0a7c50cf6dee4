//! Plain-data description of a circuit: element tables by kind over numbered nodes.
//!
//! A `Circuit` is what the netlist parser and the crossbar builder produce and what the
//! engine binds into a solver-ready system. Node 0 is ground. All values are SI.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use super::diode::DiodeModel;
use super::mos1::Mos1Model;
use crate::circuit::expr::Compiled;

/// Index of a circuit node; 0 is ground.
pub type NodeId = usize;
pub const GROUND: NodeId = 0;

/// Where an element or card came from, for error messages (`file:line`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Origin {
    pub file: Option<Arc<PathBuf>>,
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(p) => write!(f, "{}:{}", p.display(), self.line),
            None if self.line > 0 => write!(f, "line {}", self.line),
            None => write!(f, "<built in code>"),
        }
    }
}

/// Time-dependent part of an independent source. Missing PULSE/SIN fields take
/// ngspice's analysis-dependent defaults (TR = TF = TSTEP, PW = PER = TSTOP, ...)
/// when the transient analysis is set up.
#[derive(Clone, Debug, PartialEq)]
pub enum Waveform {
    Pulse {
        v1: f64,
        v2: f64,
        td: Option<f64>,
        tr: Option<f64>,
        tf: Option<f64>,
        pw: Option<f64>,
        per: Option<f64>,
    },
    /// (time s, value) corners, times non-decreasing.
    Pwl(Vec<(f64, f64)>),
    Sin {
        vo: f64,
        va: f64,
        freq: Option<f64>,
        td: Option<f64>,
        theta: Option<f64>,
        phase: Option<f64>,
    },
}

/// Independent voltage (V) or current (I) source. For V, the branch current `i(name)`
/// flows from `pos` through the source to `neg` (ngspice's sign). For I, the current
/// `value` flows from `pos` through the source to `neg` (i.e. out of `neg` into the circuit).
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    pub name: String,
    pub pos: NodeId,
    pub neg: NodeId,
    /// Value used by `.op` and `.dc` (V or A).
    pub dc: f64,
    /// Waveform used by `.tran`; `None` means constant `dc`.
    pub wave: Option<Waveform>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Resistor {
    pub name: String,
    pub a: NodeId,
    pub b: NodeId,
    /// Resistance in Ω (non-zero).
    pub r: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Capacitor {
    pub name: String,
    pub a: NodeId,
    pub b: NodeId,
    /// Capacitance in F.
    pub c: f64,
    /// Initial voltage V(a)-V(b) used with `uic`.
    pub ic: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Inductor {
    pub name: String,
    pub a: NodeId,
    pub b: NodeId,
    /// Inductance in H.
    pub l: f64,
    /// Initial current (A, from a through the inductor to b) used with `uic`.
    pub ic: Option<f64>,
}

/// Linear voltage-controlled source: E (VCVS, `gain` in V/V) or G (VCCS, `gain` in S).
/// G drives `gain·(V(cpos)-V(cneg))` from `pos` through the element to `neg`.
#[derive(Clone, Debug, PartialEq)]
pub struct Controlled {
    pub name: String,
    pub pos: NodeId,
    pub neg: NodeId,
    pub cpos: NodeId,
    pub cneg: NodeId,
    pub gain: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diode {
    pub name: String,
    pub anode: NodeId,
    pub cathode: NodeId,
    pub model: Arc<DiodeModel>,
    /// Area factor (dimensionless, default 1).
    pub area: f64,
    /// Parallel multiplier m (default 1).
    pub m: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Mosfet {
    pub name: String,
    pub d: NodeId,
    pub g: NodeId,
    pub s: NodeId,
    pub b: NodeId,
    pub model: Arc<Mos1Model>,
    /// Channel width and length in m (instance value, else the model's W/L, else ngspice's default 100 µm).
    pub w: f64,
    pub l: f64,
    /// Drain/source diffusion areas (m²) and perimeters (m).
    pub ad: f64,
    pub as_: f64,
    pub pd: f64,
    pub ps: f64,
    /// Parallel multiplier m (default 1).
    pub m: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BehaviouralKind {
    /// `V=expr`: a voltage source with a branch current `i(name)`.
    Voltage,
    /// `I=expr`: current flowing from `pos` through the element to `neg`.
    Current,
}

#[derive(Clone, Debug)]
pub struct Behavioural {
    pub name: String,
    pub pos: NodeId,
    pub neg: NodeId,
    pub kind: BehaviouralKind,
    pub expr: Compiled,
}

/// Memristive compact-model instance (`N` element); the model lives in `crate::device`.
#[derive(Clone, Debug)]
pub struct MemCell {
    pub name: String,
    /// Top electrode (positive bias = SET for most cards) and bottom electrode.
    pub pos: NodeId,
    pub neg: NodeId,
    pub cell: crate::device::Cell,
}

/// Simulator options (`.options`), with ngspice's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub reltol: f64,
    pub abstol: f64,
    pub vntol: f64,
    pub chgtol: f64,
    pub trtol: f64,
    pub gmin: f64,
    /// DC iteration limit.
    pub itl1: usize,
    /// Transient iteration limit per time point.
    pub itl4: usize,
    pub method: IntegrationMethod,
    /// Circuit temperature in K (`.temp` is given in °C and converted at parse time).
    pub temp: f64,
    /// Nominal temperature in K.
    pub tnom: f64,
    /// Seed of the random stream used by stochastic device dynamics (`.options seed=`).
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            reltol: 1e-3,
            abstol: 1e-12,
            vntol: 1e-6,
            chgtol: 1e-14,
            trtol: 7.0,
            gmin: 1e-12,
            itl1: 100,
            itl4: 10,
            method: IntegrationMethod::Trapezoidal,
            temp: 300.15,
            tnom: 300.15,
            seed: 0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntegrationMethod {
    BackwardEuler,
    Trapezoidal,
}

/// One sweep of a `.dc` card: a V or I source stepped from `start` to `stop` by `step`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    pub source: String,
    pub start: f64,
    pub stop: f64,
    pub step: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Analysis {
    Op,
    /// Inner sweep first, optional outer sweep second.
    Dc {
        inner: Sweep,
        outer: Option<Sweep>,
    },
    Tran {
        tstep: f64,
        tstop: f64,
        tstart: f64,
        tmax: Option<f64>,
        uic: bool,
    },
}

/// A circuit: element tables by kind over numbered nodes (0 = ground).
#[derive(Clone, Debug, Default)]
pub struct Circuit {
    pub title: String,
    /// Node names by id; `node_names[0]` is "0". Names are as ngspice prints them
    /// (lower case, subcircuit nodes as `x1.mid`).
    pub node_names: Vec<String>,
    node_index: HashMap<String, NodeId>,
    pub resistors: Vec<Resistor>,
    pub capacitors: Vec<Capacitor>,
    pub inductors: Vec<Inductor>,
    pub vsources: Vec<Source>,
    pub isources: Vec<Source>,
    pub vcvs: Vec<Controlled>,
    pub vccs: Vec<Controlled>,
    pub diodes: Vec<Diode>,
    pub mosfets: Vec<Mosfet>,
    pub behavioural: Vec<Behavioural>,
    pub memcells: Vec<MemCell>,
    pub options: Options,
    pub analyses: Vec<Analysis>,
    /// `.ic v(node)=value` (node, V): the transient's initial node voltages. With `uic` they
    /// start the first step; without, the initial operating point holds them (ngspice's
    /// 1e10 S tie to the value).
    pub initial_conditions: Vec<(NodeId, f64)>,
    /// Where each element (by lower-case name) was declared, for error messages.
    pub origins: HashMap<String, Origin>,
    /// Where each node was first used, for error messages.
    pub node_origins: HashMap<NodeId, Origin>,
}

impl Circuit {
    pub fn new(title: impl Into<String>) -> Self {
        let mut c = Circuit {
            title: title.into(),
            ..Default::default()
        };
        c.node_names.push("0".to_string());
        c.node_index.insert("0".to_string(), GROUND);
        c.node_index.insert("gnd".to_string(), GROUND);
        c
    }

    /// Id of the node with this name, creating it if new. "0" and "gnd" are ground.
    pub fn node(&mut self, name: &str) -> NodeId {
        if self.node_names.is_empty() {
            *self = Circuit::new(std::mem::take(&mut self.title));
        }
        let key = name.to_ascii_lowercase();
        if let Some(&id) = self.node_index.get(&key) {
            return id;
        }
        let id = self.node_names.len();
        self.node_names.push(key.clone());
        self.node_index.insert(key, id);
        id
    }

    pub fn find_node(&self, name: &str) -> Option<NodeId> {
        self.node_index.get(&name.to_ascii_lowercase()).copied()
    }

    pub fn num_nodes(&self) -> usize {
        self.node_names.len().max(1)
    }

    pub fn node_name(&self, id: NodeId) -> &str {
        &self.node_names[id]
    }

    /// Describe where element `name` came from, or "" when unknown.
    pub fn origin_of(&self, name: &str) -> String {
        self.origins
            .get(&name.to_ascii_lowercase())
            .map(|o| format!("{o}: "))
            .unwrap_or_default()
    }
}
