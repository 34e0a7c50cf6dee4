//! Expressions of `.param`, `{...}`, `'...'` and B sources, with exact derivatives.
//!
//! Grammar and precedence follow ngspice 39 (checked with `ngspice -b`):
//! `+ -` < `* /` < unary `+ -` < `^`/`**` (left-associative: `2^3^2` = 64; the exponent may carry
//! its own sign: `2^-1` = 0.5) < function call / parentheses. So `-2^2` = -4 and `2--3` = 5.
//!
//! Powers differ between ngspice's two expression evaluators (ngspice 39, measured):
//!
//! | expression | `.param` (numparam) | B source |
//! |---|---|---|
//! | `x^y`, `x**y` | \|x\|^y | \|x\|^y |
//! | `pow(x,y)` | C `pow` (NaN for x<0, fractional y) | \|x\|^y |
//! | `pwr(x,y)` | \|x\|^y | sign(x)·\|x\|^y |
//!
//! Below `+ -` come, loosest last, the comparisons `< <= > >=`, then `== !=` (also `<>`),
//! `&&`, `||` and the right-associative ternary `c ? a : b`, as in ngspice's B-source
//! grammar (`inpptree-parser.y`); `!x` binds like unary minus. A comparison or boolean is
//! 1 or 0 (any non-zero operand is true), and its derivative is 0; the ternary's derivative is
//! that of the branch taken, so both stay exact away from the switching points.
//!
//! `log` is the natural log, as in ngspice. A B-source expression is compiled once into a flat
//! tape; [`Compiled::eval`] runs it forward for the value and backward (reverse mode) for the
//! exact gradient with respect to the controlling node voltages, on fixed-size stack buffers.

use std::fmt::Write as _;

use crate::circuit::elements::{NodeId, GROUND};

use super::number::{format_number, scan_number};

/// Longest tape (operations after constant folding) an expression may compile to; the
/// evaluator keeps its scratch on the stack in arrays of this size so that it never allocates
/// (16 KiB); the exported floating-gate law, with its overflow-safe softplus, needs ~450.
pub const MAX_TAPE: usize = 1024;

/// Which of ngspice's two evaluators an expression follows (they disagree on powers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// numparam: `.param`, `{...}` and `'...'` values.
    Param,
    /// B-source expressions (ngspice's INPptree).
    Behavioural,
}

/// An expression error; `offset` is the byte offset in the expression text.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message} (token '{token}')")]
pub struct ExprError {
    pub offset: usize,
    pub message: String,
    pub token: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum F1 {
    Neg,
    Exp,
    Ln,
    Log10,
    Sqrt,
    Sinh,
    Cosh,
    Tanh,
    Abs,
    Sin,
    Cos,
    Tan,
    Atan,
    /// Logical not: 1 if x = 0, else 0.
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum F2 {
    Add,
    Sub,
    Mul,
    Div,
    /// |x|^y (ngspice 39 `^`, `**`; B-source `pow`; numparam `pwr`).
    PowAbs,
    /// C `pow(x, y)` (numparam `pow`).
    PowReal,
    /// sign(x)·|x|^y (B-source `pwr`).
    PwrSigned,
    Min,
    Max,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

#[derive(Clone, Debug, PartialEq)]
enum Ast {
    Num(f64),
    /// Index into the controlling-node list.
    Volt(usize),
    Time,
    Un(F1, Box<Ast>),
    Bin(F2, Box<Ast>, Box<Ast>),
    /// `c ? a : b`.
    Select(Box<Ast>, Box<Ast>, Box<Ast>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Instr {
    Const(f64),
    Volt(usize),
    Time,
    Un(F1, usize),
    Bin(F2, usize, usize),
    Select(usize, usize, usize),
}

fn f1_value(f: F1, x: f64) -> f64 {
    match f {
        F1::Neg => -x,
        F1::Exp => x.exp(),
        F1::Ln => x.ln(),
        F1::Log10 => x.log10(),
        F1::Sqrt => x.sqrt(),
        F1::Sinh => x.sinh(),
        F1::Cosh => x.cosh(),
        F1::Tanh => x.tanh(),
        F1::Abs => x.abs(),
        F1::Sin => x.sin(),
        F1::Cos => x.cos(),
        F1::Tan => x.tan(),
        F1::Atan => x.atan(),
        F1::Not => truth(x == 0.0),
    }
}

/// d f(x) / dx given x and the value v = f(x).
fn f1_deriv(f: F1, x: f64, v: f64) -> f64 {
    match f {
        F1::Neg => -1.0,
        F1::Exp => v,
        F1::Ln => 1.0 / x,
        F1::Log10 => 1.0 / (x * std::f64::consts::LN_10),
        F1::Sqrt => 0.5 / v,
        F1::Sinh => x.cosh(),
        F1::Cosh => x.sinh(),
        F1::Tanh => 1.0 - v * v,
        F1::Abs => sign(x),
        F1::Sin => x.cos(),
        F1::Cos => -x.sin(),
        F1::Tan => 1.0 + v * v,
        F1::Atan => 1.0 / (1.0 + x * x),
        F1::Not => 0.0,
    }
}

fn truth(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

fn f2_value(f: F2, x: f64, y: f64) -> f64 {
    match f {
        F2::Add => x + y,
        F2::Sub => x - y,
        F2::Mul => x * y,
        F2::Div => x / y,
        F2::PowAbs => x.abs().powf(y),
        F2::PowReal => x.powf(y),
        F2::PwrSigned => sign(x) * x.abs().powf(y),
        F2::Min => x.min(y),
        F2::Max => x.max(y),
        F2::Lt => truth(x < y),
        F2::Le => truth(x <= y),
        F2::Gt => truth(x > y),
        F2::Ge => truth(x >= y),
        F2::Eq => truth(x == y),
        F2::Ne => truth(x != y),
        F2::And => truth(x != 0.0 && y != 0.0),
        F2::Or => truth(x != 0.0 || y != 0.0),
    }
}

/// y·|x|^(y-1), taking the limit 0 at x = 0 when y > 1 (avoids 0·∞).
fn dpow_abs(x: f64, y: f64) -> f64 {
    if x == 0.0 {
        if y > 1.0 {
            0.0
        } else if y == 1.0 {
            1.0
        } else {
            f64::INFINITY
        }
    } else {
        y * x.abs().powf(y - 1.0)
    }
}

/// (∂/∂x, ∂/∂y) of f(x, y) with value v.
fn f2_deriv(f: F2, x: f64, y: f64, v: f64) -> (f64, f64) {
    let ln_abs = |x: f64| if x == 0.0 { 0.0 } else { x.abs().ln() };
    match f {
        F2::Add => (1.0, 1.0),
        F2::Sub => (1.0, -1.0),
        F2::Mul => (y, x),
        F2::Div => (1.0 / y, -x / (y * y)),
        // d|x|^y/dx = y|x|^(y-1)·sign(x); d/dy = |x|^y·ln|x|
        F2::PowAbs => {
            let d = dpow_abs(x, y);
            (
                if x == 0.0 && y == 1.0 {
                    0.0
                } else {
                    d * sign(x)
                },
                v * ln_abs(x),
            )
        }
        F2::PowReal => (
            dpow_abs(x, y) * if x < 0.0 { sign(v) * sign(x) } else { 1.0 },
            if x > 0.0 { v * x.ln() } else { 0.0 },
        ),
        // d(sign(x)|x|^y)/dx = y|x|^(y-1)
        F2::PwrSigned => (dpow_abs(x, y), v * ln_abs(x)),
        F2::Min => {
            if x <= y {
                (1.0, 0.0)
            } else {
                (0.0, 1.0)
            }
        }
        F2::Max => {
            if x >= y {
                (1.0, 0.0)
            } else {
                (0.0, 1.0)
            }
        }
        // Piecewise constant: zero derivative (the jump itself has none).
        F2::Lt | F2::Le | F2::Gt | F2::Ge | F2::Eq | F2::Ne | F2::And | F2::Or => (0.0, 0.0),
    }
}

/// Lookup of `.param` values by lower-case name.
pub type ParamLookup<'a> = &'a dyn Fn(&str) -> Option<f64>;
/// Lookup (or creation) of a node by name as written in `v(...)`; `Err` carries a message.
pub type NodeLookup<'a> = &'a mut dyn FnMut(&str) -> Result<NodeId, String>;

struct Parser<'a, 'b> {
    text: &'a str,
    pos: usize,
    dialect: Dialect,
    params: ParamLookup<'b>,
    nodes: Option<NodeLookup<'b>>,
    node_ids: Vec<NodeId>,
    uses_time: bool,
    /// Current nesting (parentheses, arguments, unary signs), bounded by [`MAX_DEPTH`].
    depth: usize,
}

/// Deepest nesting an expression may have: the parser, folding and emission recurse on it,
/// and a deck of ten thousand `(` must be an error, not a stack overflow.
pub const MAX_DEPTH: usize = 200;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Sym(&'static str),
    End,
}

impl<'a, 'b> Parser<'a, 'b> {
    fn err(&self, offset: usize, message: impl Into<String>, token: &str) -> ExprError {
        ExprError {
            offset,
            message: message.into(),
            token: token.to_string(),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.text[self.pos..].chars().next() {
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
    }

    /// Next token and its start offset, without consuming it.
    fn peek(&mut self) -> Result<(Tok, usize, usize), ExprError> {
        self.skip_ws();
        let start = self.pos;
        let rest = &self.text[start..];
        let Some(c) = rest.chars().next() else {
            return Ok((Tok::End, start, start));
        };
        if c.is_ascii_digit() || (c == '.' && rest[1..].starts_with(|d: char| d.is_ascii_digit())) {
            let (v, n) = scan_number(rest).ok_or_else(|| self.err(start, "bad number", rest))?;
            if !v.is_finite() {
                return Err(self.err(start, "number out of range", &rest[..n]));
            }
            return Ok((Tok::Num(v), start, start + n));
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let n = rest
                .find(|d: char| !(d.is_ascii_alphanumeric() || d == '_'))
                .unwrap_or(rest.len());
            return Ok((Tok::Ident(rest[..n].to_ascii_lowercase()), start, start + n));
        }
        // ngspice 39 drops the braces of `{expr}` inside a B expression and splices the
        // text in as written: `x/{v0*1.5}` reads as `x/v0*1.5`. Checked with ngspice -b.
        if c == '{' || c == '}' {
            self.pos = start + 1;
            return self.peek();
        }
        for sym in [
            "**", "+", "-", "*", "/", "^", "(", ")", ",", "?", ":", "==", "!=", "<>", "<=", ">=",
            "<", ">", "&&", "||", "!",
        ] {
            if rest.starts_with(sym) {
                return Ok((Tok::Sym(sym), start, start + sym.len()));
            }
        }
        let end = start + c.len_utf8();
        Err(self.err(
            start,
            "unexpected character in expression",
            &self.text[start..end],
        ))
    }

    fn next(&mut self) -> Result<(Tok, usize), ExprError> {
        let (t, s, e) = self.peek()?;
        self.pos = e;
        Ok((t, s))
    }

    fn eat(&mut self, sym: &str) -> Result<bool, ExprError> {
        let (t, _, e) = self.peek()?;
        if matches!(t, Tok::Sym(s) if s == sym) {
            self.pos = e;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn expect(&mut self, sym: &str) -> Result<(), ExprError> {
        if self.eat(sym)? {
            Ok(())
        } else {
            let (t, s, e) = self.peek()?;
            let tok = if t == Tok::End {
                "end of expression"
            } else {
                &self.text[s..e]
            };
            Err(self.err(s, format!("expected '{sym}'"), tok))
        }
    }

    /// Runs `f` one nesting level deeper, failing beyond [`MAX_DEPTH`].
    fn nested(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<Ast, ExprError>,
    ) -> Result<Ast, ExprError> {
        if self.depth >= MAX_DEPTH {
            let pos = self.pos;
            return Err(self.err(
                pos,
                format!("expression nested deeper than {MAX_DEPTH} levels"),
                &self.text[pos..self.text.len().min(pos + 20)],
            ));
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    /// `c ? a : b`, right-associative, the loosest binding.
    fn ternary(&mut self) -> Result<Ast, ExprError> {
        self.nested(Self::ternary_inner)
    }

    fn ternary_inner(&mut self) -> Result<Ast, ExprError> {
        let c = self.or()?;
        if !self.eat("?")? {
            return Ok(c);
        }
        let a = self.ternary()?;
        self.expect(":")?;
        let b = self.ternary()?;
        Ok(Ast::Select(Box::new(c), Box::new(a), Box::new(b)))
    }

    /// One left-associative level of binary operators `ops` over operands from `next`.
    fn binary_level(
        &mut self,
        ops: &[(&str, F2)],
        next: fn(&mut Self) -> Result<Ast, ExprError>,
    ) -> Result<Ast, ExprError> {
        let mut lhs = next(self)?;
        'outer: loop {
            let (t, _, e) = self.peek()?;
            for (sym, f) in ops {
                if matches!(t, Tok::Sym(s) if s == *sym) {
                    self.pos = e;
                    let rhs = next(self)?;
                    lhs = Ast::Bin(*f, Box::new(lhs), Box::new(rhs));
                    continue 'outer;
                }
            }
            return Ok(lhs);
        }
    }

    fn or(&mut self) -> Result<Ast, ExprError> {
        self.binary_level(&[("||", F2::Or)], Self::and)
    }

    fn and(&mut self) -> Result<Ast, ExprError> {
        self.binary_level(&[("&&", F2::And)], Self::equality)
    }

    fn equality(&mut self) -> Result<Ast, ExprError> {
        self.binary_level(
            &[("==", F2::Eq), ("!=", F2::Ne), ("<>", F2::Ne)],
            Self::relational,
        )
    }

    fn relational(&mut self) -> Result<Ast, ExprError> {
        self.binary_level(
            &[("<", F2::Lt), ("<=", F2::Le), (">", F2::Gt), (">=", F2::Ge)],
            Self::additive,
        )
    }

    fn additive(&mut self) -> Result<Ast, ExprError> {
        let mut lhs = self.multiplicative()?;
        loop {
            let (t, _, e) = self.peek()?;
            let op = match t {
                Tok::Sym("+") => F2::Add,
                Tok::Sym("-") => F2::Sub,
                _ => return Ok(lhs),
            };
            self.pos = e;
            let rhs = self.multiplicative()?;
            lhs = Ast::Bin(op, Box::new(lhs), Box::new(rhs));
        }
    }

    fn multiplicative(&mut self) -> Result<Ast, ExprError> {
        let mut lhs = self.unary()?;
        loop {
            let (t, _, e) = self.peek()?;
            let op = match t {
                Tok::Sym("*") => F2::Mul,
                Tok::Sym("/") => F2::Div,
                _ => return Ok(lhs),
            };
            self.pos = e;
            let rhs = self.unary()?;
            lhs = Ast::Bin(op, Box::new(lhs), Box::new(rhs));
        }
    }

    fn unary(&mut self) -> Result<Ast, ExprError> {
        self.nested(Self::unary_inner)
    }

    fn unary_inner(&mut self) -> Result<Ast, ExprError> {
        let (t, _, e) = self.peek()?;
        match t {
            Tok::Sym("-") => {
                self.pos = e;
                Ok(Ast::Un(F1::Neg, Box::new(self.unary()?)))
            }
            Tok::Sym("+") => {
                self.pos = e;
                self.unary()
            }
            Tok::Sym("!") => {
                self.pos = e;
                Ok(Ast::Un(F1::Not, Box::new(self.unary()?)))
            }
            _ => self.power(),
        }
    }

    /// Operand of `^`: a primary with optional leading signs (`2^-1`).
    fn exponent(&mut self) -> Result<Ast, ExprError> {
        self.nested(Self::exponent_inner)
    }

    fn exponent_inner(&mut self) -> Result<Ast, ExprError> {
        let (t, _, e) = self.peek()?;
        match t {
            Tok::Sym("-") => {
                self.pos = e;
                Ok(Ast::Un(F1::Neg, Box::new(self.exponent()?)))
            }
            Tok::Sym("+") => {
                self.pos = e;
                self.exponent()
            }
            _ => self.primary(),
        }
    }

    fn power(&mut self) -> Result<Ast, ExprError> {
        let mut lhs = self.primary()?;
        loop {
            let (t, _, e) = self.peek()?;
            if !matches!(t, Tok::Sym("^") | Tok::Sym("**")) {
                return Ok(lhs);
            }
            self.pos = e;
            let rhs = self.exponent()?;
            lhs = Ast::Bin(F2::PowAbs, Box::new(lhs), Box::new(rhs));
        }
    }

    fn primary(&mut self) -> Result<Ast, ExprError> {
        let (t, start) = self.next()?;
        match t {
            Tok::Num(v) => Ok(Ast::Num(v)),
            Tok::Sym("(") => {
                let inner = self.ternary()?;
                self.expect(")")?;
                Ok(inner)
            }
            Tok::Ident(name) => self.identifier(name, start),
            Tok::End => Err(self.err(start, "expression ends too early", "end of expression")),
            Tok::Sym(s) => Err(self.err(start, "unexpected operator", s)),
        }
    }

    fn identifier(&mut self, name: String, start: usize) -> Result<Ast, ExprError> {
        let (t, _, _) = self.peek()?;
        if t == Tok::Sym("(") {
            if name == "v" {
                return self.voltage(start);
            }
            self.expect("(")?;
            let mut args = vec![self.ternary()?];
            while self.eat(",")? {
                args.push(self.ternary()?);
            }
            self.expect(")")?;
            return self.call(&name, args, start);
        }
        if let Some(v) = (self.params)(&name) {
            return Ok(Ast::Num(v));
        }
        match (name.as_str(), self.dialect) {
            ("time", Dialect::Behavioural) => {
                self.uses_time = true;
                Ok(Ast::Time)
            }
            ("pi", _) => Ok(Ast::Num(std::f64::consts::PI)),
            _ => Err(self.err(start, "undefined parameter", &name)),
        }
    }

    fn call(&mut self, name: &str, mut args: Vec<Ast>, start: usize) -> Result<Ast, ExprError> {
        let f1 = match name {
            "exp" => Some(F1::Exp),
            "ln" | "log" => Some(F1::Ln),
            "log10" => Some(F1::Log10),
            "sqrt" => Some(F1::Sqrt),
            "sinh" => Some(F1::Sinh),
            "cosh" => Some(F1::Cosh),
            "tanh" => Some(F1::Tanh),
            "abs" => Some(F1::Abs),
            "sin" => Some(F1::Sin),
            "cos" => Some(F1::Cos),
            "tan" => Some(F1::Tan),
            "atan" => Some(F1::Atan),
            _ => None,
        };
        let f2 = match (name, self.dialect) {
            ("min", _) => Some(F2::Min),
            ("max", _) => Some(F2::Max),
            ("pow", Dialect::Param) => Some(F2::PowReal),
            ("pow", Dialect::Behavioural) => Some(F2::PowAbs),
            ("pwr", Dialect::Param) => Some(F2::PowAbs),
            ("pwr", Dialect::Behavioural) => Some(F2::PwrSigned),
            _ => None,
        };
        let want = if f1.is_some() {
            1
        } else if f2.is_some() {
            2
        } else {
            0
        };
        if want == 0 {
            return Err(self.err(start, "unknown function", name));
        }
        if args.len() != want {
            return Err(self.err(
                start,
                format!(
                    "function {name} takes {want} argument(s), got {}",
                    args.len()
                ),
                name,
            ));
        }
        if let Some(f) = f1 {
            Ok(Ast::Un(f, Box::new(args.pop().unwrap())))
        } else {
            let y = args.pop().unwrap();
            let x = args.pop().unwrap();
            Ok(Ast::Bin(f2.unwrap(), Box::new(x), Box::new(y)))
        }
    }

    /// `v(a)` or `v(a, b)`: node names are read raw up to `,` or `)`.
    fn voltage(&mut self, start: usize) -> Result<Ast, ExprError> {
        self.expect("(")?;
        let rest = &self.text[self.pos..];
        let close = rest
            .find(')')
            .ok_or_else(|| self.err(start, "missing ')' after v(", &self.text[start..]))?;
        let inner = &rest[..close];
        let names: Vec<&str> = inner.split(',').map(str::trim).collect();
        if names.len() > 2 || names.iter().any(|n| n.is_empty() || n.contains('(')) {
            return Err(self.err(
                start,
                "v() takes one or two node names",
                &self.text[start..self.pos + close + 1],
            ));
        }
        let mut terms = Vec::new();
        for n in &names {
            let Some(lookup) = self.nodes.as_mut() else {
                return Err(self.err(
                    start,
                    "node voltages are not allowed in a parameter expression",
                    &self.text[start..self.pos + close + 1],
                ));
            };
            let id = lookup(n).map_err(|m| ExprError {
                offset: start,
                message: m,
                token: n.to_string(),
            })?;
            terms.push(if id == GROUND {
                Ast::Num(0.0)
            } else {
                let k = match self.node_ids.iter().position(|&x| x == id) {
                    Some(k) => k,
                    None => {
                        self.node_ids.push(id);
                        self.node_ids.len() - 1
                    }
                };
                Ast::Volt(k)
            });
        }
        self.pos += close + 1;
        let mut it = terms.into_iter();
        let a = it.next().unwrap();
        // v(a,0) is v(a) and v(0,b) is -v(b): keep ground out of the tape.
        Ok(match (a, it.next()) {
            (a, None) | (a, Some(Ast::Num(0.0))) => a,
            (Ast::Num(0.0), Some(b)) => Ast::Un(F1::Neg, Box::new(b)),
            (a, Some(b)) => Ast::Bin(F2::Sub, Box::new(a), Box::new(b)),
        })
    }

    fn parse_all(&mut self) -> Result<Ast, ExprError> {
        let ast = self.ternary()?;
        let (t, s, e) = self.peek()?;
        if t != Tok::End {
            return Err(self.err(s, "unexpected text after expression", &self.text[s..e]));
        }
        Ok(ast)
    }
}

/// Constant folding. A constant that is not finite (`1/0`) stays unfolded, so that
/// `to_spice` can still write it as an expression ngspice and xbarsim read back.
fn fold(ast: Ast) -> Ast {
    match ast {
        Ast::Un(f, x) => match fold(*x) {
            Ast::Num(v) if f1_value(f, v).is_finite() => Ast::Num(f1_value(f, v)),
            x => Ast::Un(f, Box::new(x)),
        },
        Ast::Bin(f, x, y) => match (fold(*x), fold(*y)) {
            (Ast::Num(a), Ast::Num(b)) if f2_value(f, a, b).is_finite() => {
                Ast::Num(f2_value(f, a, b))
            }
            (x, y) => Ast::Bin(f, Box::new(x), Box::new(y)),
        },
        Ast::Select(c, a, b) => match fold(*c) {
            Ast::Num(c) => fold(if c != 0.0 { *a } else { *b }),
            c => Ast::Select(Box::new(c), Box::new(fold(*a)), Box::new(fold(*b))),
        },
        other => other,
    }
}

fn emit(ast: &Ast, tape: &mut Vec<Instr>) -> usize {
    let instr = match ast {
        Ast::Num(v) => Instr::Const(*v),
        Ast::Volt(k) => Instr::Volt(*k),
        Ast::Time => Instr::Time,
        Ast::Un(f, x) => Instr::Un(*f, emit(x, tape)),
        Ast::Bin(f, x, y) => {
            let a = emit(x, tape);
            let b = emit(y, tape);
            Instr::Bin(*f, a, b)
        }
        Ast::Select(c, x, y) => {
            let c = emit(c, tape);
            let a = emit(x, tape);
            let b = emit(y, tape);
            Instr::Select(c, a, b)
        }
    };
    tape.push(instr);
    tape.len() - 1
}

/// Evaluate a constant (`.param`/`{...}`/`'...'`) expression with numparam's rules.
/// A result that is not finite is an error, as in ngspice.
pub fn eval_param(text: &str, params: ParamLookup<'_>) -> Result<f64, ExprError> {
    let mut p = Parser {
        text,
        pos: 0,
        dialect: Dialect::Param,
        params,
        nodes: None,
        node_ids: Vec::new(),
        uses_time: false,
        depth: 0,
    };
    let v = match fold(p.parse_all()?) {
        Ast::Num(v) => v,
        // Left unfolded only around a non-finite constant (`1/0`): evaluate it as a tape.
        ast => {
            let mut tape = Vec::new();
            emit(&ast, &mut tape);
            if tape.len() > MAX_TAPE {
                return Err(ExprError {
                    offset: 0,
                    message: format!("expression too long (at most {MAX_TAPE} operations)"),
                    token: text.chars().take(40).collect(),
                });
            }
            let c = Compiled {
                nodes: Vec::new(),
                tape,
                uses_time: false,
            };
            c.eval(&[], 0.0, &mut [])
        }
    };
    if v.is_finite() {
        Ok(v)
    } else {
        Err(ExprError {
            offset: 0,
            message: format!("expression evaluates to {v}"),
            token: text.to_string(),
        })
    }
}

/// A compiled B-source expression over node voltages and `time`.
#[derive(Clone, Debug, PartialEq)]
pub struct Compiled {
    /// Distinct controlling nodes (ground excluded); `volts[k]` in [`Compiled::eval`] is `V(nodes[k])`.
    pub nodes: Vec<NodeId>,
    tape: Vec<Instr>,
    uses_time: bool,
}

impl Default for Compiled {
    fn default() -> Self {
        Compiled::constant(0.0)
    }
}

impl Compiled {
    /// Compile a B-source expression. `params` resolves `.param` names (folded to constants);
    /// `node_lookup` maps a node name in `v(...)` to its id.
    pub fn parse(
        text: &str,
        params: ParamLookup<'_>,
        node_lookup: NodeLookup<'_>,
    ) -> Result<Compiled, ExprError> {
        let mut p = Parser {
            text,
            pos: 0,
            dialect: Dialect::Behavioural,
            params,
            nodes: Some(node_lookup),
            node_ids: Vec::new(),
            uses_time: false,
            depth: 0,
        };
        let ast = fold(p.parse_all()?);
        let mut tape = Vec::new();
        emit(&ast, &mut tape);
        if tape.len() > MAX_TAPE {
            return Err(ExprError {
                offset: 0,
                message: format!(
                    "expression too long ({} operations, at most {MAX_TAPE})",
                    tape.len()
                ),
                token: text.chars().take(40).collect(),
            });
        }
        Ok(Compiled {
            nodes: p.node_ids,
            tape,
            uses_time: p.uses_time,
        })
    }

    /// An expression that is the constant `value`.
    pub fn constant(value: f64) -> Compiled {
        Compiled {
            nodes: Vec::new(),
            tape: vec![Instr::Const(value)],
            uses_time: false,
        }
    }

    pub fn uses_time(&self) -> bool {
        self.uses_time
    }

    /// `volts[k]` = voltage of `nodes[k]`; writes ∂value/∂volts[k] into `grad[k]`; returns the value.
    /// Does not allocate.
    pub fn eval(&self, volts: &[f64], time: f64, grad: &mut [f64]) -> f64 {
        let n = self.tape.len();
        let mut val = [0.0f64; MAX_TAPE];
        for (i, ins) in self.tape.iter().enumerate() {
            val[i] = match *ins {
                Instr::Const(c) => c,
                Instr::Volt(k) => volts[k],
                Instr::Time => time,
                Instr::Un(f, a) => f1_value(f, val[a]),
                Instr::Bin(f, a, b) => f2_value(f, val[a], val[b]),
                Instr::Select(c, a, b) => {
                    if val[c] != 0.0 {
                        val[a]
                    } else {
                        val[b]
                    }
                }
            };
        }
        for g in grad.iter_mut() {
            *g = 0.0;
        }
        // Reverse sweep: adjoint of every tape slot, accumulated into the node gradients.
        let mut adj = [0.0f64; MAX_TAPE];
        adj[n - 1] = 1.0;
        for i in (0..n).rev() {
            let a = adj[i];
            if a == 0.0 {
                continue;
            }
            match self.tape[i] {
                Instr::Const(_) | Instr::Time => {}
                Instr::Volt(k) => grad[k] += a,
                Instr::Un(f, x) => adj[x] += a * f1_deriv(f, val[x], val[i]),
                Instr::Bin(f, x, y) => {
                    let (dx, dy) = f2_deriv(f, val[x], val[y], val[i]);
                    adj[x] += a * dx;
                    adj[y] += a * dy;
                }
                // Only the branch taken carries the adjoint (the other may be inf or NaN).
                Instr::Select(c, x, y) => adj[if val[c] != 0.0 { x } else { y }] += a,
            }
        }
        val[n - 1]
    }

    /// The expression as ngspice 39 B-source text, node names from `name_of`.
    pub fn to_spice(&self, name_of: &dyn Fn(NodeId) -> String) -> String {
        let mut out = String::new();
        self.write_slot(self.tape.len() - 1, name_of, &mut out);
        out
    }

    fn write_slot(&self, i: usize, name_of: &dyn Fn(NodeId) -> String, out: &mut String) {
        match self.tape[i] {
            Instr::Const(c) => {
                if c.is_sign_negative() && c == 0.0 {
                    // −0 (it matters under 1/x): `format_number` writes plain 0.
                    out.push_str("(-0)");
                } else if c < 0.0 {
                    let _ = write!(out, "({})", format_number(c));
                } else {
                    out.push_str(&format_number(c));
                }
            }
            Instr::Volt(k) => {
                let _ = write!(out, "v({})", name_of(self.nodes[k]));
            }
            Instr::Time => out.push_str("time"),
            Instr::Un(F1::Neg, x) => {
                out.push_str("(-");
                self.write_slot(x, name_of, out);
                out.push(')');
            }
            Instr::Un(f, x) => {
                let name = match f {
                    F1::Neg => unreachable!(),
                    F1::Exp => "exp",
                    F1::Ln => "ln",
                    F1::Log10 => "log10",
                    F1::Sqrt => "sqrt",
                    F1::Sinh => "sinh",
                    F1::Cosh => "cosh",
                    F1::Tanh => "tanh",
                    F1::Abs => "abs",
                    F1::Sin => "sin",
                    F1::Cos => "cos",
                    F1::Tan => "tan",
                    F1::Atan => "atan",
                    F1::Not => "!",
                };
                out.push_str(name);
                out.push('(');
                self.write_slot(x, name_of, out);
                out.push(')');
            }
            Instr::Select(c, x, y) => {
                out.push('(');
                self.write_slot(c, name_of, out);
                out.push_str(" ? ");
                self.write_slot(x, name_of, out);
                out.push_str(" : ");
                self.write_slot(y, name_of, out);
                out.push(')');
            }
            Instr::Bin(f, x, y) => {
                let infix = match f {
                    F2::Add => Some("+"),
                    F2::Sub => Some("-"),
                    F2::Mul => Some("*"),
                    F2::Div => Some("/"),
                    F2::Lt => Some("<"),
                    F2::Le => Some("<="),
                    F2::Gt => Some(">"),
                    F2::Ge => Some(">="),
                    F2::Eq => Some("=="),
                    F2::Ne => Some("!="),
                    F2::And => Some("&&"),
                    F2::Or => Some("||"),
                    _ => None,
                };
                if let Some(op) = infix {
                    out.push('(');
                    self.write_slot(x, name_of, out);
                    out.push_str(op);
                    self.write_slot(y, name_of, out);
                    out.push(')');
                } else {
                    // In an ngspice 39 B source `pow` is |x|^y and `pwr` is sign(x)|x|^y;
                    // C `pow` never occurs here (it is a numparam-only meaning).
                    let name = match f {
                        F2::PowAbs | F2::PowReal => "pow",
                        F2::PwrSigned => "pwr",
                        F2::Min => "min",
                        F2::Max => "max",
                        _ => unreachable!(),
                    };
                    out.push_str(name);
                    out.push('(');
                    self.write_slot(x, name_of, out);
                    out.push(',');
                    self.write_slot(y, name_of, out);
                    out.push(')');
                }
            }
        }
    }
}
