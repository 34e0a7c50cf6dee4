//! The ngspice-dialect netlist parser: logical lines -> subcircuit tree -> flat `Circuit`.
//!
//! Subcircuits are expanded as ngspice does: internal nodes become `x1.mid` (nested
//! `x1.x2.mid`), elements become `<letter>.<instance path>.<name>` (e.g. `v.x1.vname`, whose
//! current ngspice reports as `i(v.x1.vname)`). Subcircuit and model names are scoped
//! lexically (a `.subckt` defined inside another is visible only there, and shadows an outer
//! one of the same name). Parameters are scoped by instance: an `X` line's `name=value`
//! overrides the subcircuit's default and even a `.param` of that name in its body (as
//! ngspice 39 does in `various_alterparam`), and lookups fall back to the caller, then `.param`
//! at top level.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::circuit::diode::DiodeModel;
use crate::circuit::elements::*;
use crate::circuit::mos1::Mos1Model;

use super::expr::{eval_param, Compiled, ExprError};
use super::lines::{read_deck, Line};
use super::number::parse_number;
use super::NetlistError;

/// A parsed deck: the circuit and what was read but not used.
#[derive(Clone, Debug)]
pub struct Parsed {
    pub circuit: Circuit,
    /// Cards skipped or options ignored, as `file:line: message`.
    pub warnings: Vec<String>,
    /// `.ic v(node)=value` cards (node, volts), also in `circuit.initial_conditions`.
    pub initial_conditions: Vec<(NodeId, f64)>,
}

/// Parse a deck from a file; `.include`/`.lib` paths are relative to it.
pub fn parse_file(path: &Path) -> Result<Circuit, NetlistError> {
    parse_file_full(path).map(|p| p.circuit)
}

/// Parse a deck given as text; `origin_path` (if any) names it in errors and anchors includes.
pub fn parse_str(text: &str, origin_path: Option<&Path>) -> Result<Circuit, NetlistError> {
    parse_str_full(text, origin_path).map(|p| p.circuit)
}

/// [`parse_file`], also returning warnings and `.ic` cards.
pub fn parse_file_full(path: &Path) -> Result<Parsed, NetlistError> {
    let text = std::fs::read_to_string(path).map_err(|e| NetlistError {
        file: Some(path.to_path_buf()),
        line: 0,
        column: 0,
        message: format!("cannot read netlist: {e}"),
        token: None,
    })?;
    parse_str_full(&text, Some(path))
}

/// [`parse_str`], also returning warnings and `.ic` cards.
pub fn parse_str_full(text: &str, origin_path: Option<&Path>) -> Result<Parsed, NetlistError> {
    let (title, lines) = read_deck(text, origin_path)?;
    let tree = build_tree(&lines)?;
    let mut b = Builder {
        lines: &lines,
        tree: &tree,
        circuit: Circuit::new(title),
        warnings: Vec::new(),
        ic: Vec::new(),
        models: HashMap::new(),
        instances: 0,
    };
    b.warnings.extend(tree.warnings.iter().cloned());
    b.top()?;
    let mut circuit = b.circuit;
    let c = &circuit;
    let elements = c.resistors.len()
        + c.capacitors.len()
        + c.inductors.len()
        + c.vsources.len()
        + c.isources.len()
        + c.vcvs.len()
        + c.vccs.len()
        + c.diodes.len()
        + c.mosfets.len()
        + c.behavioural.len()
        + c.memcells.len();
    if elements == 0 {
        return Err(NetlistError {
            file: origin_path.map(Path::to_path_buf),
            line: text.lines().count().max(1),
            column: 0,
            message: "empty netlist: no circuit elements (the first line is the title, \
                      as in SPICE)"
                .into(),
            token: None,
        });
    }
    circuit.initial_conditions = b.ic.clone();
    Ok(Parsed {
        circuit,
        warnings: b.warnings,
        initial_conditions: b.ic,
    })
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Word,
    /// `'...'`, text without the quotes.
    Quoted,
    /// `{...}`, text without the braces.
    Braced,
    LParen,
    RParen,
    Eq,
}

#[derive(Clone, Debug)]
struct Tok {
    kind: Kind,
    /// Original text (for Quoted/Braced: the inside).
    text: String,
    /// Byte offset of the token in the line.
    at: usize,
}

impl Tok {
    fn lower(&self) -> String {
        self.text.to_ascii_lowercase()
    }
    fn is_word(&self, w: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(w)
    }
    fn is_value(&self) -> bool {
        matches!(self.kind, Kind::Word | Kind::Quoted | Kind::Braced)
    }
}

fn tokenize(line: &Line) -> Result<Vec<Tok>, NetlistError> {
    let s = &line.text;
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() || c == b',' {
            i += 1;
            continue;
        }
        match c {
            b'(' | b')' | b'=' => {
                let kind = match c {
                    b'(' => Kind::LParen,
                    b')' => Kind::RParen,
                    _ => Kind::Eq,
                };
                out.push(Tok {
                    kind,
                    text: (c as char).to_string(),
                    at: i,
                });
                i += 1;
            }
            b'\'' => {
                let end = s[i + 1..]
                    .find('\'')
                    .ok_or_else(|| line.error(i, "unterminated quote", Some(&s[i..])))?;
                out.push(Tok {
                    kind: Kind::Quoted,
                    text: s[i + 1..i + 1 + end].to_string(),
                    at: i,
                });
                i += end + 2;
            }
            b'{' => {
                let mut depth = 0;
                let mut j = i;
                while j < b.len() {
                    match b[j] {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                if j == b.len() {
                    return Err(line.error(i, "unbalanced '{'", Some(&s[i..])));
                }
                out.push(Tok {
                    kind: Kind::Braced,
                    text: s[i + 1..j].to_string(),
                    at: i,
                });
                i = j + 1;
            }
            _ => {
                let mut j = i;
                while j < b.len() {
                    let d = b[j];
                    if d.is_ascii_whitespace()
                        || matches!(d, b',' | b'(' | b')' | b'=' | b'\'' | b'{')
                    {
                        break;
                    }
                    j += 1;
                }
                out.push(Tok {
                    kind: Kind::Word,
                    text: s[i..j].to_string(),
                    at: i,
                });
                i = j;
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Subcircuit tree

/// A scope of definitions: the top level (index 0) or one `.subckt`.
#[derive(Debug, Default)]
struct Def {
    name: String,
    ports: Vec<String>,
    /// `name=value` defaults from the `.subckt` line: (name, value token, line index).
    defaults: Vec<(String, Tok)>,
    parent: Option<usize>,
    line: usize,
    /// Element cards, in order (line indices).
    elements: Vec<usize>,
    /// `.param` cards (line indices).
    params: Vec<usize>,
    /// Other dot cards (top level only).
    dots: Vec<usize>,
    /// Subcircuits defined directly inside, by lower-case name.
    subckts: HashMap<String, usize>,
    /// `.model` cards defined directly inside, by lower-case name (line index).
    models: HashMap<String, usize>,
}

struct Tree {
    defs: Vec<Def>,
    warnings: Vec<String>,
}

fn warn_at(line: &Line, msg: &str) -> String {
    let file = line
        .file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "<netlist>".into());
    format!("{file}:{}: {msg}", line.line())
}

const SKIPPED_CARDS: &[&str] = &[
    ".print", ".plot", ".save", ".probe", ".width", ".meas", ".measure",
];

fn build_tree(lines: &[Line]) -> Result<Tree, NetlistError> {
    let mut defs = vec![Def::default()];
    let mut warnings = Vec::new();
    let mut stack = vec![0usize];
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        let cur = *stack.last().unwrap();
        let kw = line.keyword();
        if !kw.starts_with('.') {
            if line.text.starts_with('+') {
                return Err(line.error(0, "continuation line with nothing to continue", Some("+")));
            }
            defs[cur].elements.push(i);
            i += 1;
            continue;
        }
        match kw.as_str() {
            ".subckt" => {
                let toks = tokenize(line)?;
                let Some(name) = toks.get(1).filter(|t| t.kind == Kind::Word) else {
                    return Err(line.error(0, ".subckt needs a name", Some(".subckt")));
                };
                let (ports, pairs) = split_nodes_and_pairs(line, &toks[2..])?;
                let lname = name.lower();
                let id = defs.len();
                if defs[cur].subckts.contains_key(&lname) {
                    return Err(line.error(
                        name.at,
                        "subcircuit defined twice in the same scope",
                        Some(&name.text),
                    ));
                }
                defs.push(Def {
                    name: lname.clone(),
                    ports: ports.iter().map(|t| t.lower()).collect(),
                    defaults: pairs.into_iter().map(|(k, v)| (k.lower(), v)).collect(),
                    parent: Some(cur),
                    line: i,
                    ..Default::default()
                });
                defs[cur].subckts.insert(lname, id);
                stack.push(id);
            }
            ".ends" => {
                if stack.len() == 1 {
                    return Err(line.error(0, ".ends without .subckt", Some(".ends")));
                }
                let toks = tokenize(line)?;
                if let Some(n) = toks.get(1) {
                    if n.lower() != defs[cur].name {
                        return Err(line.error(
                            n.at,
                            format!(".ends name does not match .subckt {}", defs[cur].name),
                            Some(&n.text),
                        ));
                    }
                }
                stack.pop();
            }
            ".param" => defs[cur].params.push(i),
            ".model" => {
                let toks = tokenize(line)?;
                let Some(name) = toks.get(1).filter(|t| t.kind == Kind::Word) else {
                    return Err(line.error(0, ".model needs a name and a type", Some(".model")));
                };
                if defs[cur].models.insert(name.lower(), i).is_some() {
                    return Err(line.error(
                        name.at,
                        "model defined twice in the same scope",
                        Some(&name.text),
                    ));
                }
            }
            ".end" => break,
            ".control" => {
                warnings.push(warn_at(line, ".control block skipped"));
                let start = i;
                loop {
                    i += 1;
                    if i >= lines.len() {
                        return Err(lines[start].error(
                            0,
                            ".control without .endc",
                            Some(".control"),
                        ));
                    }
                    if lines[i].keyword() == ".endc" {
                        break;
                    }
                }
            }
            k if SKIPPED_CARDS.contains(&k) => {
                warnings.push(warn_at(line, &format!("{k} card skipped")));
            }
            ".options" | ".option" | ".opt" | ".op" | ".dc" | ".tran" | ".ic" | ".temp" => {
                if cur != 0 {
                    return Err(line.error(
                        0,
                        format!("{kw} is not allowed inside .subckt"),
                        Some(&kw),
                    ));
                }
                defs[0].dots.push(i);
            }
            _ => {
                let word = line.text.split_whitespace().next().unwrap_or("");
                return Err(line.error(0, "unknown dot command", Some(word)));
            }
        }
        i += 1;
    }
    if stack.len() > 1 {
        let d = &defs[*stack.last().unwrap()];
        return Err(lines[d.line].error(0, ".subckt without .ends", Some(&d.name)));
    }
    Ok(Tree { defs, warnings })
}

/// Split `n1 n2 ... [params:] k=v k2=v2`: words before the first `k=`, and the pairs.
fn split_nodes_and_pairs(
    line: &Line,
    toks: &[Tok],
) -> Result<(Vec<Tok>, Vec<(Tok, Tok)>), NetlistError> {
    let mut words = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if toks[i].is_word("params:") {
            i += 1;
            break;
        }
        if toks.get(i + 1).is_some_and(|t| t.kind == Kind::Eq) {
            break;
        }
        if toks[i].kind != Kind::Word {
            return Err(line.error(toks[i].at, "expected a node name", Some(&toks[i].text)));
        }
        words.push(toks[i].clone());
        i += 1;
    }
    let pairs = parse_pairs(line, &toks[i..])?;
    Ok((words, pairs))
}

/// Parse `k = v k2 = v2 ...` (parentheses around the list are ignored).
fn parse_pairs(line: &Line, toks: &[Tok]) -> Result<Vec<(Tok, Tok)>, NetlistError> {
    let toks: Vec<&Tok> = toks
        .iter()
        .filter(|t| !matches!(t.kind, Kind::LParen | Kind::RParen))
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let k = toks[i];
        if k.kind != Kind::Word {
            return Err(line.error(k.at, "expected name=value", Some(&k.text)));
        }
        if toks.get(i + 1).map(|t| t.kind) != Some(Kind::Eq) {
            return Err(line.error(k.at, "expected name=value", Some(&k.text)));
        }
        let Some(v) = toks.get(i + 2).filter(|t| t.is_value()) else {
            return Err(line.error(k.at, "missing value after '='", Some(&k.text)));
        };
        out.push((k.clone(), (*v).clone()));
        i += 3;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Model parameters: the single seam to the device-model structs.

/// A `.model` card after evaluation: lower-case type and `(key, value)` pairs in card order.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelCard {
    pub name: String,
    pub kind: String,
    pub params: Vec<(String, f64)>,
}

/// Build a diode model from `.model NAME d (...)` parameters (ngspice names, checked by
/// [`DiodeModel::set`]).
pub fn build_diode_model(params: &[(String, f64)]) -> Result<DiodeModel, String> {
    let mut m = DiodeModel::default();
    for (k, v) in params {
        m.set(k, *v)?;
    }
    Ok(m)
}

/// Build a level-1 MOSFET model; `polarity` is +1 for nmos, -1 for pmos. `level`, `w` and `l`
/// have already been taken out by the parser (W/L act as instance defaults).
pub fn build_mos1_model(polarity: f64, params: &[(String, f64)]) -> Result<Mos1Model, String> {
    let mut m = Mos1Model::new(polarity);
    for (k, v) in params {
        m.set(k, *v)?;
    }
    Ok(m)
}

#[derive(Clone, Debug)]
enum ModelInst {
    Diode(Arc<DiodeModel>),
    Mos {
        model: Arc<Mos1Model>,
        w: Option<f64>,
        l: Option<f64>,
    },
    /// A memristive family (`N` elements): a card from `crate::device`.
    Cell(Arc<crate::device::Model>),
    /// A card of a type no element here knows.
    Other(String),
}

// ---------------------------------------------------------------------------------------------
// Expansion

/// One level of subcircuit instantiation.
struct Frame {
    def: usize,
    /// "" at top level, else `x1` / `x1.x2`.
    prefix: String,
    /// Port name -> node id.
    ports: HashMap<String, NodeId>,
    params: HashMap<String, f64>,
}

struct Builder<'a> {
    lines: &'a [Line],
    tree: &'a Tree,
    circuit: Circuit,
    warnings: Vec<String>,
    ic: Vec<(NodeId, f64)>,
    /// Evaluated models by (card line, owning instance prefix).
    models: HashMap<(usize, String), ModelInst>,
    /// Subcircuit instances expanded so far, bounded by [`MAX_INSTANCES`].
    instances: usize,
}

/// Most subcircuit instances a deck may expand to (a 256×256 array of subcircuit cells is
/// 65 536): ten nested levels of ten instances each
/// would otherwise be 10^10 elements, a hang instead of an error.
const MAX_INSTANCES: usize = 250_000;

fn param_lookup<'f>(frames: &'f [Frame]) -> impl Fn(&str) -> Option<f64> + 'f {
    move |name: &str| {
        frames
            .iter()
            .rev()
            .find_map(|f| f.params.get(name).copied())
    }
}

fn expr_error(line: &Line, tok_at: usize, inner_offset: usize, e: ExprError) -> NetlistError {
    line.error(tok_at + inner_offset, e.message, Some(&e.token))
}

impl<'a> Builder<'a> {
    fn top(&mut self) -> Result<(), NetlistError> {
        let mut frames = vec![Frame {
            def: 0,
            prefix: String::new(),
            ports: HashMap::new(),
            params: HashMap::new(),
        }];
        self.eval_params(&mut frames, &HashMap::new())?;
        self.expand(&mut frames)?;
        for &li in &self.tree.defs[0].dots {
            self.dot(li, &frames)?;
        }
        // `.dc` must name an existing independent source.
        for a in &self.circuit.analyses {
            if let Analysis::Dc { inner, outer } = a {
                for s in std::iter::once(inner).chain(outer.iter()) {
                    let known = self.circuit.vsources.iter().any(|v| v.name == s.source)
                        || self.circuit.isources.iter().any(|v| v.name == s.source);
                    if !known {
                        let li = self.tree.defs[0]
                            .dots
                            .iter()
                            .copied()
                            .find(|&l| self.lines[l].keyword() == ".dc")
                            .unwrap();
                        let line = &self.lines[li];
                        let at = line.text.to_ascii_lowercase().find(&s.source).unwrap_or(0);
                        return Err(line.error(
                            at,
                            ".dc names no V or I source of that name",
                            Some(&s.source),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Evaluate the `.param` cards of the innermost frame, skipping names the instance overrides.
    fn eval_params(
        &mut self,
        frames: &mut Vec<Frame>,
        overridden: &HashMap<String, f64>,
    ) -> Result<(), NetlistError> {
        let def = frames.last().unwrap().def;
        for &li in &self.tree.defs[def].params {
            let line = &self.lines[li];
            let toks = tokenize(line)?;
            let pairs = parse_pairs(line, &toks[1..])?;
            if pairs.is_empty() {
                return Err(line.error(0, ".param needs name=value", Some(".param")));
            }
            for (k, v) in pairs {
                let name = k.lower();
                if overridden.contains_key(&name) {
                    continue;
                }
                let value = self.value(line, &v, frames)?;
                frames.last_mut().unwrap().params.insert(name, value);
            }
        }
        Ok(())
    }

    /// A numeric value token: a number with suffix, `'expr'` or `{expr}`.
    fn value(&self, line: &Line, tok: &Tok, frames: &[Frame]) -> Result<f64, NetlistError> {
        match tok.kind {
            Kind::Word => parse_number(&tok.text).ok_or_else(|| {
                line.error(
                    tok.at,
                    "bad number (use {name} or 'expr' for a parameter)",
                    Some(&tok.text),
                )
            }),
            Kind::Quoted | Kind::Braced => eval_param(&tok.text, &param_lookup(frames))
                .map_err(|e| expr_error(line, tok.at, 1 + e.offset, e)),
            _ => Err(line.error(tok.at, "expected a value", Some(&tok.text))),
        }
    }

    fn node(&mut self, name: &str, frames: &[Frame], line: &Line) -> NodeId {
        let lname = name.to_ascii_lowercase();
        if lname == "0" || lname == "gnd" {
            return GROUND;
        }
        let f = frames.last().unwrap();
        if let Some(&id) = f.ports.get(&lname) {
            return id;
        }
        let full = if f.prefix.is_empty() {
            lname
        } else {
            format!("{}.{}", f.prefix, lname)
        };
        if let Some(id) = self.circuit.find_node(&full) {
            return id;
        }
        let id = self.circuit.node(&full);
        self.circuit.node_origins.insert(
            id,
            Origin {
                file: line.file.clone(),
                line: line.line(),
            },
        );
        id
    }

    fn expand(&mut self, frames: &mut Vec<Frame>) -> Result<(), NetlistError> {
        let def = frames.last().unwrap().def;
        for &li in &self.tree.defs[def].elements {
            self.element(li, frames)?;
        }
        Ok(())
    }

    /// Find a subcircuit by name, lexically from `def` outward.
    fn find_subckt(&self, mut def: usize, name: &str) -> Option<usize> {
        loop {
            if let Some(&id) = self.tree.defs[def].subckts.get(name) {
                return Some(id);
            }
            def = self.tree.defs[def].parent?;
        }
    }

    /// Find and evaluate a model by name, lexically from the current scope outward.
    fn model(
        &mut self,
        name: &Tok,
        frames: &[Frame],
        line: &Line,
    ) -> Result<ModelInst, NetlistError> {
        let lname = name.lower();
        let mut def = frames.last().unwrap().def;
        let (card_line, owner) = loop {
            if let Some(&li) = self.tree.defs[def].models.get(&lname) {
                break (li, def);
            }
            match self.tree.defs[def].parent {
                Some(p) => def = p,
                None => return Err(line.error(name.at, "undefined model", Some(&name.text))),
            }
        };
        // The instance frame that owns the scope where the card is written.
        let fi = frames.iter().rposition(|f| f.def == owner).unwrap_or(0);
        let key = (card_line, frames[fi].prefix.clone());
        if let Some(m) = self.models.get(&key) {
            return Ok(m.clone());
        }
        let card_ln = &self.lines[card_line];
        let kind = tokenize(card_ln)?
            .get(2)
            .filter(|t| t.kind == Kind::Word)
            .map(|t| t.lower());
        if let Some(k) = kind.filter(|k| crate::device::FAMILIES.contains(&k.as_str())) {
            let inst = ModelInst::Cell(Arc::new(self.device_model(card_ln, &k, &frames[..=fi])?));
            self.models.insert(key, inst.clone());
            return Ok(inst);
        }
        let card = self.model_card(card_ln, &frames[..=fi])?;
        let fail = |msg: String| card_ln.error(0, msg, Some(&card.name));
        let inst = match card.kind.as_str() {
            "d" => ModelInst::Diode(Arc::new(build_diode_model(&card.params).map_err(fail)?)),
            "nmos" | "pmos" => {
                let polarity = if card.kind == "nmos" { 1.0 } else { -1.0 };
                let (mut w, mut l) = (None, None);
                let mut rest = Vec::new();
                for (k, v) in &card.params {
                    match k.as_str() {
                        "level" if *v != 1.0 => {
                            return Err(fail(format!(
                                "only MOSFET level 1 is supported, not level {v}"
                            )))
                        }
                        "level" => {}
                        "w" => w = Some(*v),
                        "l" => l = Some(*v),
                        _ => rest.push((k.clone(), *v)),
                    }
                }
                ModelInst::Mos {
                    model: Arc::new(build_mos1_model(polarity, &rest).map_err(fail)?),
                    w,
                    l,
                }
            }
            other => ModelInst::Other(other.to_string()),
        };
        self.models.insert(key, inst.clone());
        Ok(inst)
    }

    /// `.model NAME <family> (key=value ...)` with card keys, or `.model NAME <family>
    /// (card=path)` with a TOML card path relative to the file holding the `.model` line
    /// (quotes optional). The family named on the line must match the card's.
    fn device_model(
        &self,
        line: &Line,
        family: &str,
        frames: &[Frame],
    ) -> Result<crate::device::Model, NetlistError> {
        let toks = tokenize(line)?;
        let pairs = parse_pairs(line, &toks[3..])?;
        if let Some((k, v)) = pairs.iter().find(|(k, _)| k.is_word("card")) {
            if let Some((extra, _)) = pairs.iter().find(|(x, _)| !x.is_word("card")) {
                return Err(line.error(
                    extra.at,
                    "card= cannot be combined with other parameters (edit the card instead)",
                    Some(&extra.text),
                ));
            }
            let text = match v.kind {
                Kind::Quoted => v.text.clone(),
                _ => v.text.trim_matches('"').to_string(),
            };
            if text.is_empty() {
                return Err(line.error(v.at, "card= needs a file path", Some(&k.text)));
            }
            let rel = Path::new(&text);
            let path = match line.file.as_deref().and_then(|f| f.parent()) {
                Some(dir) if rel.is_relative() => dir.join(rel),
                _ => rel.to_path_buf(),
            };
            let model = crate::device::load_card(&path)
                .map_err(|e| line.error(v.at, format!("model card: {e}"), Some(&v.text)))?;
            if model.family() != family {
                return Err(line.error(
                    v.at,
                    format!(
                        "the card is family `{}` but the .model line says `{family}`",
                        model.family()
                    ),
                    Some(&v.text),
                ));
            }
            return Ok(model);
        }
        let mut params = Vec::new();
        for (k, v) in &pairs {
            params.push((k.lower(), self.value(line, v, frames)?));
        }
        crate::device::model_from_params_typed(family, &params).map_err(|e| {
            // The error carries the key: point at it.
            let at = pairs
                .iter()
                .find(|(k, _)| k.lower() == e.key)
                .map_or(toks.get(2).map_or(0, |t| t.at), |(k, _)| k.at);
            let msg = if e.key.is_empty() {
                e.msg
            } else {
                format!("{family}: parameter `{}`: {}", e.key, e.msg)
            };
            line.error(at, msg, Some(&e.key))
        })
    }

    fn model_card(&self, line: &Line, frames: &[Frame]) -> Result<ModelCard, NetlistError> {
        let toks = tokenize(line)?;
        let Some(name_tok) = toks.get(1) else {
            return Err(line.error(0, ".model needs a name and a type", None));
        };
        let name = name_tok.lower();
        let Some(kind) = toks.get(2).filter(|t| t.kind == Kind::Word) else {
            return Err(line.error(name_tok.at, ".model needs a type", Some(&name_tok.text)));
        };
        let mut params = Vec::new();
        for (k, v) in parse_pairs(line, &toks[3..])? {
            params.push((k.lower(), self.value(line, &v, frames)?));
        }
        Ok(ModelCard {
            name,
            kind: kind.lower(),
            params,
        })
    }

    fn element(&mut self, li: usize, frames: &mut Vec<Frame>) -> Result<(), NetlistError> {
        let line = &self.lines[li];
        let toks = tokenize(line)?;
        // A line of separators and a comment (`,;end`) holds nothing.
        let Some(first) = toks.first() else {
            return Ok(());
        };
        if first.kind != Kind::Word {
            return Err(line.error(first.at, "expected an element name", Some(&first.text)));
        }
        let local = first.lower();
        let letter = local.chars().next().unwrap();
        let prefix = frames.last().unwrap().prefix.clone();
        let name = if prefix.is_empty() {
            local.clone()
        } else {
            format!("{letter}.{prefix}.{local}")
        };
        if letter != 'x' {
            if self.circuit.origins.contains_key(&name) {
                return Err(line.error(first.at, "duplicate element name", Some(&first.text)));
            }
            self.circuit.origins.insert(
                name.clone(),
                Origin {
                    file: line.file.clone(),
                    line: line.line(),
                },
            );
        }
        // Nodes: the first `n` tokens after the name must be words.
        let nodes = |n: usize| -> Result<Vec<&Tok>, NetlistError> {
            let mut out = Vec::new();
            for k in 1..=n {
                match toks.get(k) {
                    Some(t) if t.kind == Kind::Word => out.push(t),
                    Some(t) => return Err(line.error(t.at, "expected a node name", Some(&t.text))),
                    None => {
                        return Err(line.error(
                            line.text.trim_end().len(),
                            format!("missing node(s): {} needs {n}", first.text),
                            Some(&first.text),
                        ))
                    }
                }
            }
            Ok(out)
        };
        let missing_value = |what: &str| {
            line.error(
                line.text.trim_end().len(),
                format!("missing {what} for {}", first.text),
                Some(&first.text),
            )
        };
        match letter {
            'r' | 'c' | 'l' => {
                let n = nodes(2)?;
                let (a, b) = (
                    self.node(&n[0].text, frames, line),
                    self.node(&n[1].text, frames, line),
                );
                let rest = &toks[3..];
                let (value_tok, pairs_from) = match rest.first() {
                    Some(t) if t.is_value() && rest.get(1).map(|x| x.kind) != Some(Kind::Eq) => {
                        (t, 1)
                    }
                    _ => return Err(missing_value("value")),
                };
                let value = self.value(line, value_tok, frames)?;
                let mut ic = None;
                for (k, v) in parse_pairs(line, &rest[pairs_from..])? {
                    match (letter, k.lower().as_str()) {
                        ('c' | 'l', "ic") => ic = Some(self.value(line, &v, frames)?),
                        _ => {
                            return Err(line.error(
                                k.at,
                                "unknown instance parameter",
                                Some(&k.text),
                            ))
                        }
                    }
                }
                match letter {
                    'r' => {
                        if value == 0.0 {
                            return Err(line.error(
                                value_tok.at,
                                "zero resistance",
                                Some(&value_tok.text),
                            ));
                        }
                        self.circuit.resistors.push(Resistor {
                            name,
                            a,
                            b,
                            r: value,
                        })
                    }
                    'c' => self.circuit.capacitors.push(Capacitor {
                        name,
                        a,
                        b,
                        c: value,
                        ic,
                    }),
                    _ => self.circuit.inductors.push(Inductor {
                        name,
                        a,
                        b,
                        l: value,
                        ic,
                    }),
                }
            }
            'v' | 'i' => {
                let n = nodes(2)?;
                let (pos, neg) = (
                    self.node(&n[0].text, frames, line),
                    self.node(&n[1].text, frames, line),
                );
                let (dc, wave) = self.source_spec(line, &toks[3..], frames)?;
                let src = Source {
                    name,
                    pos,
                    neg,
                    dc,
                    wave,
                };
                if letter == 'v' {
                    self.circuit.vsources.push(src)
                } else {
                    self.circuit.isources.push(src)
                }
            }
            'e' | 'g' => {
                let n = nodes(4)?;
                let ids: Vec<NodeId> = n.iter().map(|t| self.node(&t.text, frames, line)).collect();
                let Some(g) = toks.get(5) else {
                    return Err(missing_value("gain"));
                };
                let gain = self.value(line, g, frames)?;
                if let Some(extra) = toks.get(6) {
                    return Err(line.error(
                        extra.at,
                        "unexpected token after gain",
                        Some(&extra.text),
                    ));
                }
                let c = Controlled {
                    name,
                    pos: ids[0],
                    neg: ids[1],
                    cpos: ids[2],
                    cneg: ids[3],
                    gain,
                };
                if letter == 'e' {
                    self.circuit.vcvs.push(c)
                } else {
                    self.circuit.vccs.push(c)
                }
            }
            'd' => {
                let n = nodes(2)?;
                let (anode, cathode) = (
                    self.node(&n[0].text, frames, line),
                    self.node(&n[1].text, frames, line),
                );
                let Some(mtok) = toks.get(3).filter(|t| t.kind == Kind::Word) else {
                    return Err(missing_value("model name"));
                };
                let model = match self.model(mtok, frames, line)? {
                    ModelInst::Diode(m) => m,
                    _ => {
                        return Err(line.error(
                            mtok.at,
                            "model is not a diode (type d)",
                            Some(&mtok.text),
                        ))
                    }
                };
                // ngspice: an instance without AREA takes the model's AREA (default 1).
                let mut area = model.area;
                let mut m = 1.0;
                let mut rest = &toks[4..];
                if let Some(t) = rest.first() {
                    if t.is_value() && rest.get(1).map(|x| x.kind) != Some(Kind::Eq) {
                        area = self.value(line, t, frames)?;
                        rest = &rest[1..];
                    }
                }
                for (k, v) in parse_pairs(line, rest)? {
                    match k.lower().as_str() {
                        "area" => area = self.value(line, &v, frames)?,
                        "m" => m = self.value(line, &v, frames)?,
                        _ => {
                            return Err(line.error(
                                k.at,
                                "unknown diode instance parameter",
                                Some(&k.text),
                            ))
                        }
                    }
                }
                self.circuit.diodes.push(Diode {
                    name,
                    anode,
                    cathode,
                    model,
                    area,
                    m,
                });
            }
            'm' => {
                let n = nodes(4)?;
                let ids: Vec<NodeId> = n.iter().map(|t| self.node(&t.text, frames, line)).collect();
                let Some(mtok) = toks.get(5).filter(|t| t.kind == Kind::Word) else {
                    return Err(missing_value("model name"));
                };
                let (model, mw, ml) = match self.model(mtok, frames, line)? {
                    ModelInst::Mos { model, w, l } => (model, w, l),
                    _ => {
                        return Err(line.error(
                            mtok.at,
                            "model is not a MOSFET (nmos/pmos)",
                            Some(&mtok.text),
                        ))
                    }
                };
                // ngspice's defaults: W = L = 100 µm (options defw/defl), AD = AS = PD = PS = 0.
                let mut mos = Mosfet {
                    name,
                    d: ids[0],
                    g: ids[1],
                    s: ids[2],
                    b: ids[3],
                    model,
                    w: mw.unwrap_or(100e-6),
                    l: ml.unwrap_or(100e-6),
                    ad: 0.0,
                    as_: 0.0,
                    pd: 0.0,
                    ps: 0.0,
                    m: 1.0,
                };
                for (k, v) in parse_pairs(line, &toks[6..])? {
                    let val = self.value(line, &v, frames)?;
                    match k.lower().as_str() {
                        "w" => mos.w = val,
                        "l" => mos.l = val,
                        "ad" => mos.ad = val,
                        "as" => mos.as_ = val,
                        "pd" => mos.pd = val,
                        "ps" => mos.ps = val,
                        "m" => mos.m = val,
                        _ => {
                            return Err(line.error(
                                k.at,
                                "unknown MOSFET instance parameter",
                                Some(&k.text),
                            ))
                        }
                    }
                }
                self.circuit.mosfets.push(mos);
            }
            'b' => self.behavioural(line, &toks, name, frames)?,
            'n' => {
                // `N name n+ n- model`: a memristive cell, nominal device (no D2D) in the
                // card's initial state.
                let n = nodes(2)?;
                let (pos, neg) = (
                    self.node(&n[0].text, frames, line),
                    self.node(&n[1].text, frames, line),
                );
                let Some(mtok) = toks.get(3).filter(|t| t.kind == Kind::Word) else {
                    return Err(missing_value("model name"));
                };
                let model = match self.model(mtok, frames, line)? {
                    ModelInst::Cell(m) => m,
                    other => {
                        let kind = match other {
                            ModelInst::Other(k) => k,
                            ModelInst::Diode(_) => "d".into(),
                            _ => "mos".into(),
                        };
                        return Err(line.error(
                            mtok.at,
                            format!(
                                "unknown model family '{kind}' for an N element (known: {})",
                                crate::device::FAMILIES.join(", ")
                            ),
                            Some(&mtok.text),
                        ));
                    }
                };
                if let Some(extra) = toks.get(4) {
                    return Err(line.error(
                        extra.at,
                        "unexpected token after the model name of an N element",
                        Some(&extra.text),
                    ));
                }
                self.circuit.memcells.push(MemCell {
                    name,
                    pos,
                    neg,
                    cell: model.nominal_cell(),
                });
            }
            'x' => self.instance(line, &toks, &local, frames)?,
            _ => return Err(line.error(first.at, "unknown element letter", Some(&first.text))),
        }
        Ok(())
    }

    /// `V`/`I` source specification after the nodes.
    fn source_spec(
        &mut self,
        line: &Line,
        toks: &[Tok],
        frames: &[Frame],
    ) -> Result<(f64, Option<Waveform>), NetlistError> {
        let mut dc = None;
        let mut wave = None;
        let mut i = 0;
        while i < toks.len() {
            let t = &toks[i];
            let lw = t.lower();
            if t.kind == Kind::Word && lw == "dc" {
                i += 1;
                if toks.get(i).map(|x| x.kind) == Some(Kind::Eq) {
                    i += 1;
                }
                let Some(v) = toks.get(i).filter(|x| x.is_value()) else {
                    return Err(line.error(t.at, "missing value after DC", Some(&t.text)));
                };
                dc = Some(self.value(line, v, frames)?);
                i += 1;
            } else if t.kind == Kind::Word && lw == "ac" {
                i += 1;
                if toks.get(i).map(|x| x.kind) == Some(Kind::Eq) {
                    i += 1;
                }
                let mut n = 0;
                while n < 2
                    && toks
                        .get(i)
                        .is_some_and(|x| x.is_value() && !is_source_keyword(x))
                {
                    i += 1;
                    n += 1;
                }
                self.warnings
                    .push(warn_at(line, "AC specification ignored (no .ac analysis)"));
            } else if t.kind == Kind::Word && matches!(lw.as_str(), "pulse" | "sin" | "pwl") {
                i += 1;
                let mut args = Vec::new();
                if toks.get(i).map(|x| x.kind) == Some(Kind::LParen) {
                    i += 1;
                    loop {
                        match toks.get(i) {
                            Some(x) if x.kind == Kind::RParen => {
                                i += 1;
                                break;
                            }
                            Some(x) if x.is_value() => {
                                args.push(self.value(line, x, frames)?);
                                i += 1;
                            }
                            Some(x) => {
                                return Err(line.error(
                                    x.at,
                                    "unexpected token in source function",
                                    Some(&x.text),
                                ))
                            }
                            None => return Err(line.error(t.at, "missing ')'", Some(&t.text))),
                        }
                    }
                } else {
                    while let Some(x) = toks
                        .get(i)
                        .filter(|x| x.is_value() && !is_source_keyword(x))
                    {
                        args.push(self.value(line, x, frames)?);
                        i += 1;
                    }
                }
                if wave.is_some() {
                    return Err(line.error(
                        t.at,
                        "more than one transient function",
                        Some(&t.text),
                    ));
                }
                wave = Some(make_wave(line, t, &lw, &args)?);
            } else if t.is_value() && i == 0 {
                dc = Some(self.value(line, t, frames)?);
                i += 1;
            } else {
                return Err(line.error(t.at, "unexpected token in source", Some(&t.text)));
            }
        }
        // Without a DC value ngspice uses the transient function's value at t = 0 (vsrc: "no DC value, transient time 0 value used").
        let dc = match (dc, &wave) {
            (Some(v), _) => v,
            (None, Some(w)) => wave_at_zero(w),
            (None, None) => {
                self.warnings
                    .push(warn_at(line, "source has no value; 0 used"));
                0.0
            }
        };
        Ok((dc, wave))
    }

    fn behavioural(
        &mut self,
        line: &Line,
        toks: &[Tok],
        name: String,
        frames: &[Frame],
    ) -> Result<(), NetlistError> {
        let first = &toks[0];
        let (Some(p), Some(n)) = (toks.get(1), toks.get(2)) else {
            return Err(line.error(
                line.text.trim_end().len(),
                "missing node(s): B needs 2",
                Some(&first.text),
            ));
        };
        for t in [p, n] {
            if t.kind != Kind::Word {
                return Err(line.error(t.at, "expected a node name", Some(&t.text)));
            }
        }
        let (Some(kt), Some(eq)) = (toks.get(3), toks.get(4)) else {
            return Err(line.error(
                line.text.trim_end().len(),
                "missing V=expr or I=expr",
                Some(&first.text),
            ));
        };
        let kind = match (kt.lower().as_str(), eq.kind) {
            ("v", Kind::Eq) => BehaviouralKind::Voltage,
            ("i", Kind::Eq) => BehaviouralKind::Current,
            _ => return Err(line.error(kt.at, "expected V=expr or I=expr", Some(&kt.text))),
        };
        let start = eq.at + 1;
        let raw = &line.text[start..];
        let lead = raw.len() - raw.trim_start().len();
        let mut text = raw.trim();
        let mut inner_at = start + lead;
        if (text.starts_with('\'') && text.ends_with('\'') && text.len() >= 2)
            || (text.starts_with('{') && text.ends_with('}'))
        {
            text = &text[1..text.len() - 1];
            inner_at += 1;
        }
        if text.trim().is_empty() {
            return Err(line.error(eq.at, "missing expression", Some(&kt.text)));
        }
        let pos = self.node(&p.text, frames, line);
        let neg = self.node(&n.text, frames, line);
        let lookup = param_lookup(frames);
        // Resolve node names against the current frame; new nodes are created after parsing.
        let frame = frames.last().unwrap();
        let circuit = &mut self.circuit;
        let mut created = Vec::new();
        let mut node_lookup = |nm: &str| -> Result<NodeId, String> {
            let l = nm.to_ascii_lowercase();
            if l == "0" || l == "gnd" {
                return Ok(GROUND);
            }
            if let Some(&id) = frame.ports.get(&l) {
                return Ok(id);
            }
            let full = if frame.prefix.is_empty() {
                l
            } else {
                format!("{}.{}", frame.prefix, l)
            };
            if let Some(id) = circuit.find_node(&full) {
                return Ok(id);
            }
            let id = circuit.node(&full);
            created.push(id);
            Ok(id)
        };
        let expr = Compiled::parse(text, &lookup, &mut node_lookup)
            .map_err(|e| expr_error(line, inner_at, e.offset, e))?;
        for id in created {
            self.circuit.node_origins.entry(id).or_insert(Origin {
                file: line.file.clone(),
                line: line.line(),
            });
        }
        self.circuit.behavioural.push(Behavioural {
            name,
            pos,
            neg,
            kind,
            expr,
        });
        Ok(())
    }

    fn instance(
        &mut self,
        line: &Line,
        toks: &[Tok],
        local: &str,
        frames: &mut Vec<Frame>,
    ) -> Result<(), NetlistError> {
        let (words, pairs) = split_nodes_and_pairs(line, &toks[1..])?;
        let Some((sub_tok, node_toks)) = words.split_last() else {
            return Err(line.error(
                line.text.trim_end().len(),
                "missing subcircuit name",
                Some(&toks[0].text),
            ));
        };
        let cur_def = frames.last().unwrap().def;
        let Some(def) = self.find_subckt(cur_def, &sub_tok.lower()) else {
            return Err(line.error(sub_tok.at, "undefined subcircuit", Some(&sub_tok.text)));
        };
        let d = &self.tree.defs[def];
        if d.ports.len() != node_toks.len() {
            return Err(line.error(
                sub_tok.at,
                format!(
                    "subcircuit {} has {} nodes, instance gives {}",
                    d.name,
                    d.ports.len(),
                    node_toks.len()
                ),
                Some(&sub_tok.text),
            ));
        }
        self.instances += 1;
        if self.instances > MAX_INSTANCES {
            return Err(line.error(
                sub_tok.at,
                format!("more than {MAX_INSTANCES} subcircuit instances after expansion"),
                Some(&sub_tok.text),
            ));
        }
        if frames.len() > 64 {
            return Err(line.error(
                sub_tok.at,
                "subcircuits nested more than 64 deep (recursive?)",
                Some(&sub_tok.text),
            ));
        }
        let mut ports = HashMap::new();
        for (p, t) in d.ports.iter().zip(node_toks) {
            let id = self.node(&t.text, frames, line);
            ports.insert(p.clone(), id);
        }
        // Instance overrides, evaluated in the caller's scope.
        let mut overrides = HashMap::new();
        for (k, v) in &pairs {
            overrides.insert(k.lower(), self.value(line, v, frames)?);
        }
        let parent_prefix = &frames.last().unwrap().prefix;
        let prefix = if parent_prefix.is_empty() {
            local.to_string()
        } else {
            format!("{parent_prefix}.{local}")
        };
        frames.push(Frame {
            def,
            prefix,
            ports,
            params: overrides.clone(),
        });
        let result = (|| {
            let def_line = &self.lines[self.tree.defs[def].line];
            for (k, v) in &self.tree.defs[def].defaults {
                if !overrides.contains_key(k) {
                    let value = self.value(def_line, v, frames)?;
                    frames.last_mut().unwrap().params.insert(k.clone(), value);
                }
            }
            self.eval_params(frames, &overrides)?;
            self.expand(frames)
        })();
        frames.pop();
        result
    }

    fn dot(&mut self, li: usize, frames: &[Frame]) -> Result<(), NetlistError> {
        let line = &self.lines[li];
        let toks = tokenize(line)?;
        let Some(kw) = toks.first().map(|t| t.lower()) else {
            return Ok(());
        };
        let args = &toks[1..];
        let end = line.text.trim_end().len();
        let num = |b: &Self, k: usize, what: &str| -> Result<f64, NetlistError> {
            match args.get(k) {
                Some(t) if t.is_value() => b.value(line, t, frames),
                Some(t) => Err(line.error(t.at, format!("expected {what}"), Some(&t.text))),
                None => Err(line.error(end, format!("missing {what}"), Some(&toks[0].text))),
            }
        };
        match kw.as_str() {
            ".op" => self.circuit.analyses.push(Analysis::Op),
            ".tran" => {
                let tstep = num(self, 0, "TSTEP")?;
                let tstop = num(self, 1, "TSTOP")?;
                let mut uic = false;
                let mut rest = Vec::new();
                for t in &args[2..] {
                    if t.is_word("uic") {
                        uic = true;
                    } else if uic {
                        return Err(line.error(t.at, "unexpected token after uic", Some(&t.text)));
                    } else {
                        rest.push(self.value(line, t, frames)?);
                    }
                }
                if rest.len() > 2 {
                    return Err(line.error(
                        args[4].at,
                        "too many values in .tran",
                        Some(&args[4].text),
                    ));
                }
                if !(tstep > 0.0 && tstop > 0.0) {
                    return Err(line.error(
                        args[0].at,
                        ".tran needs TSTEP > 0 and TSTOP > 0",
                        Some(&args[0].text),
                    ));
                }
                self.circuit.analyses.push(Analysis::Tran {
                    tstep,
                    tstop,
                    tstart: rest.first().copied().unwrap_or(0.0),
                    tmax: rest.get(1).copied(),
                    uic,
                });
            }
            ".dc" => {
                let sweep = |b: &Self, k: usize| -> Result<Sweep, NetlistError> {
                    let src = args
                        .get(k)
                        .filter(|t| t.kind == Kind::Word)
                        .ok_or_else(|| {
                            line.error(end, "missing source name in .dc", Some(".dc"))
                        })?;
                    let step = num(b, k + 3, "STEP")?;
                    if step == 0.0 {
                        return Err(line.error(
                            args[k + 3].at,
                            ".dc step is zero",
                            Some(&args[k + 3].text),
                        ));
                    }
                    Ok(Sweep {
                        source: src.lower(),
                        start: num(b, k + 1, "START")?,
                        stop: num(b, k + 2, "STOP")?,
                        step,
                    })
                };
                let inner = sweep(self, 0)?;
                let outer = match args.len() {
                    4 => None,
                    8 => Some(sweep(self, 4)?),
                    _ => {
                        let at = args.get(4).map(|t| t.at).unwrap_or(end);
                        return Err(line.error(
                            at,
                            ".dc takes one or two sweeps of 4 values",
                            Some(".dc"),
                        ));
                    }
                };
                self.circuit.analyses.push(Analysis::Dc { inner, outer });
            }
            ".temp" => {
                let t = num(self, 0, "temperature (°C)")?;
                self.circuit.options.temp = t + 273.15;
            }
            ".ic" => {
                // .ic v(node)=value ...
                let mut i = 0;
                while i < args.len() {
                    let ok = args.len() >= i + 6
                        && args[i].is_word("v")
                        && args[i + 1].kind == Kind::LParen
                        && args[i + 2].kind == Kind::Word
                        && args[i + 3].kind == Kind::RParen
                        && args[i + 4].kind == Kind::Eq;
                    if !ok {
                        return Err(line.error(
                            args[i].at,
                            "expected v(node)=value",
                            Some(&args[i].text),
                        ));
                    }
                    let id = self.node(&args[i + 2].text.clone(), frames, line);
                    let v = self.value(line, &args[i + 5], frames)?;
                    self.ic.push((id, v));
                    i += 6;
                }
            }
            _ => self.options(line, args, frames)?,
        }
        Ok(())
    }

    fn options(&mut self, line: &Line, args: &[Tok], frames: &[Frame]) -> Result<(), NetlistError> {
        let mut i = 0;
        let mut method: Option<(String, &Tok)> = None;
        let mut maxord = None;
        while i < args.len() {
            let k = &args[i];
            if k.kind != Kind::Word {
                return Err(line.error(k.at, "expected an option name", Some(&k.text)));
            }
            let has_value = args.get(i + 1).map(|t| t.kind) == Some(Kind::Eq);
            let key = k.lower();
            if !has_value {
                self.warnings
                    .push(warn_at(line, &format!("option '{key}' ignored")));
                i += 1;
                continue;
            }
            let Some(v) = args.get(i + 2) else {
                return Err(line.error(k.at, "missing option value", Some(&k.text)));
            };
            i += 3;
            if key == "method" {
                method = Some((v.lower(), v));
                continue;
            }
            let known = matches!(
                key.as_str(),
                "reltol"
                    | "abstol"
                    | "vntol"
                    | "chgtol"
                    | "trtol"
                    | "gmin"
                    | "itl1"
                    | "itl4"
                    | "tnom"
                    | "temp"
                    | "maxord"
                    | "seed"
            );
            if !known {
                self.warnings
                    .push(warn_at(line, &format!("option '{key}' ignored")));
                continue;
            }
            let x = self.value(line, v, frames)?;
            let o2 = &mut self.circuit.options;
            let count = |x: f64| -> Result<usize, NetlistError> {
                if x >= 1.0 && x.fract() == 0.0 {
                    Ok(x as usize)
                } else {
                    Err(line.error(v.at, "expected a positive whole number", Some(&v.text)))
                }
            };
            match key.as_str() {
                "reltol" => o2.reltol = x,
                "abstol" => o2.abstol = x,
                "vntol" => o2.vntol = x,
                "chgtol" => o2.chgtol = x,
                "trtol" => o2.trtol = x,
                "gmin" => o2.gmin = x,
                "itl1" => o2.itl1 = count(x)?,
                "itl4" => o2.itl4 = count(x)?,
                "tnom" => o2.tnom = x + 273.15,
                "temp" => o2.temp = x + 273.15,
                "maxord" => maxord = Some(x),
                // Seed of the stochastic device dynamics (memristive N cells).
                "seed" => o2.seed = x.max(0.0) as u64,
                _ => unreachable!(),
            }
        }
        if let Some((m, tok)) = method {
            self.circuit.options.method = match (m.as_str(), maxord) {
                ("trap" | "trapezoidal", _) => IntegrationMethod::Trapezoidal,
                // Gear of order 1 is backward Euler.
                ("gear", Some(o)) if o == 1.0 => IntegrationMethod::BackwardEuler,
                _ => {
                    return Err(line.error(
                        tok.at,
                        "unsupported integration method (trap, or gear with maxord=1)",
                        Some(&tok.text),
                    ))
                }
            };
        }
        Ok(())
    }
}

fn is_source_keyword(t: &Tok) -> bool {
    t.kind == Kind::Word && matches!(t.lower().as_str(), "dc" | "ac" | "pulse" | "sin" | "pwl")
}

fn make_wave(line: &Line, t: &Tok, kind: &str, a: &[f64]) -> Result<Waveform, NetlistError> {
    let get = |k: usize| a.get(k).copied();
    match kind {
        "pulse" => {
            if !(2..=7).contains(&a.len()) {
                return Err(line.error(
                    t.at,
                    format!("PULSE takes 2 to 7 values, got {}", a.len()),
                    Some(&t.text),
                ));
            }
            Ok(Waveform::Pulse {
                v1: a[0],
                v2: a[1],
                td: get(2),
                tr: get(3),
                tf: get(4),
                pw: get(5),
                per: get(6),
            })
        }
        "sin" => {
            if !(2..=6).contains(&a.len()) {
                return Err(line.error(
                    t.at,
                    format!("SIN takes 2 to 6 values, got {}", a.len()),
                    Some(&t.text),
                ));
            }
            Ok(Waveform::Sin {
                vo: a[0],
                va: a[1],
                freq: get(2),
                td: get(3),
                theta: get(4),
                phase: get(5),
            })
        }
        _ => {
            if a.len() < 2 || a.len() % 2 != 0 {
                return Err(line.error(
                    t.at,
                    format!("PWL takes time/value pairs, got {} values", a.len()),
                    Some(&t.text),
                ));
            }
            let pts: Vec<(f64, f64)> = a.chunks(2).map(|p| (p[0], p[1])).collect();
            if pts.windows(2).any(|w| w[1].0 < w[0].0) {
                return Err(line.error(t.at, "PWL times must not decrease", Some(&t.text)));
            }
            Ok(Waveform::Pwl(pts))
        }
    }
}

/// A transient function's value at t = 0 (ngspice 39 VSRC/ISRC semantics).
fn wave_at_zero(w: &Waveform) -> f64 {
    match w {
        Waveform::Pulse { v1, .. } => *v1,
        Waveform::Sin { vo, va, phase, .. } => vo + va * (phase.unwrap_or(0.0).to_radians()).sin(),
        Waveform::Pwl(p) => {
            if p[0].0 >= 0.0 {
                return p[0].1;
            }
            for w in p.windows(2) {
                let ((t0, v0), (t1, v1)) = (w[0], w[1]);
                if t1 >= 0.0 {
                    return if t1 == t0 {
                        v1
                    } else {
                        v0 + (v1 - v0) * (0.0 - t0) / (t1 - t0)
                    };
                }
            }
            p[p.len() - 1].1
        }
    }
}
