//! Each family's static law at a frozen state as an ngspice B-source current expression, so a
//! circuit with memristive cells can be exported (`B name a b I=...`) and checked by ngspice.
//!
//! The expressions restate the Rust laws exactly. Where the Rust code switches formula to avoid
//! overflow (`sinh_lim`, the overflow-safe softplus and logistic), the same switch is written
//! with ngspice's ternary `c ? a : b`, so both branches are the same closed forms. Where Rust
//! uses `ln_1p(e^y)` for y < -30 the expression uses `exp(y)` (relative difference below
//! e^-30/2 ≈ 5e-14), because `ln(1+exp(y))` in ngspice would round to 0 there.

use super::model::{K_B, Q_E};
use super::{cbram, fgate, mram, oxram, pcm, pcm_stat};

/// A number as ngspice reads it; round-trip exact (`{:e}` is the shortest exact form).
fn n(x: f64) -> String {
    if x < 0.0 {
        format!("({x:e})")
    } else {
        format!("{x:e}")
    }
}

/// ln(1 + e^y) for the expression `y` (overflow-safe, as `fgate::softplus` and `pcm::softplus`).
fn softplus(y: &str) -> String {
    format!("(({y})>30 ? ({y})+exp(-({y})) : (({y})<-30 ? exp({y}) : ln(1+exp({y}))))")
}

/// 1/(1 + e^-a) for the expression `a`, overflow-safe.
fn logistic(a: &str) -> String {
    format!("(({a})>=0 ? 1/(1+exp(-({a}))) : exp({a})/(1+exp({a})))")
}

/// `sinh_lim(x)`: sinh up to |x| = 80, then continued linearly (card.rs).
fn sinh_lim(x: &str) -> String {
    let s80 = n(80f64.sinh());
    let c80 = n(80f64.cosh());
    format!(
        "(({x})>80 ? {s80}+{c80}*(({x})-80) : (({x})<-80 ? -({s80}+{c80}*(-({x})-80)) : sinh({x})))"
    )
}

/// `oxram` (see [`super::Cell::spice_current_expr`]).
pub(crate) fn oxram(p: &oxram::Params, s: &oxram::State, v: &str, _temp_k: f64) -> String {
    // I = I0·exp(-g/g0)·sinh_lim(V/V0), prefactor frozen at the gap.
    let pre = p.i0 * (-s.gap / p.g0).exp();
    format!("{}*{}", n(pre), sinh_lim(&format!("{v}/{}", n(p.v0))))
}

/// `cbram` (see [`super::Cell::spice_current_expr`]).
pub(crate) fn cbram(p: &cbram::Params, s: &cbram::State, v: &str, _temp_k: f64) -> String {
    let g = 1.0 / p.resistance(s.h, s.r);
    format!("{}*{v}", n(g))
}

/// `fgate` (see [`super::Cell::spice_current_expr`]).
pub(crate) fn fgate(p: &fgate::Params, s: &fgate::State, v: &str, temp_k: f64) -> String {
    // EKV with the FG as gate: V_P = (V_FG − V_th0)/n, V_FG linear in V.
    let ut = K_B * temp_k / Q_E;
    let ct = p.c_total();
    let i_spec = 2.0 * p.n * p.kp * ut * ut;
    let vp = format!(
        "(({}+{}*{v})/{}-{})/{}",
        n(s.q + p.c_cg * p.v_cg),
        n(p.c_d),
        n(ct),
        n(p.vth0),
        n(p.n)
    );
    let f = |x: &str| {
        let sp = softplus(&format!("0.5*({x})"));
        format!("({sp})*({sp})")
    };
    format!(
        "{}*({}-{})",
        n(i_spec),
        f(&format!("({vp})/{}", n(ut))),
        f(&format!("(({vp})-{v})/{}", n(ut)))
    )
}

/// `pcm` (see [`super::Cell::spice_current_expr`]).
pub(crate) fn pcm(p: &pcm::PcmModel, s: &pcm::PcmState, v: &str, _temp_k: f64) -> String {
    // I = V/R_read + s(V)·I_on(V) (pcm.rs), R_read, V_th and the branch frozen at the state.
    let q = p.params();
    let r = p.read_resistance(s);
    let vth = p.threshold_voltage(s.amorphous_fraction);
    let a = format!(
        "({v}*{v}-{})/{}",
        n(vth * vth),
        n(2.0 * vth * q.v_th_width_v)
    );
    let w = q.v_on_width_v;
    // softplus of width w: w·ln(1 + e^(z/w)).
    let sp = |z: &str| format!("{}*{}", n(w), softplus(&format!("({z})/{}", n(w))));
    let i_on = format!(
        "({}-{})/{}",
        sp(&format!("{v}-{}", n(q.v_on_v))),
        sp(&format!("-{v}-{}", n(q.v_on_v))),
        n(q.r_on_ohm)
    );
    if s.threshold_on {
        // Threshold-switched ON branch: the gate is fully open.
        format!("{v}/{}+{}", n(r), i_on)
    } else {
        format!("{v}/{}+{}*{}", n(r), logistic(&a), i_on)
    }
}

/// `pcm_stat` (see [`super::Cell::spice_current_expr`]).
pub(crate) fn pcm_stat(
    p: &pcm_stat::PcmStatModel,
    s: &pcm_stat::PcmStatState,
    v: &str,
    _temp_k: f64,
) -> String {
    let g = p.drifted_conductance(s);
    format!("{}*{v}", n(g))
}

/// `mtj` (see [`super::Cell::spice_current_expr`]).
pub(crate) fn mtj(p: &mram::MtjModel, s: &mram::MtjState, v: &str, _temp_k: f64) -> String {
    match s.orientation {
        mram::MtjOrientation::Parallel => format!("{v}/{}", n(p.r_p())),
        mram::MtjOrientation::AntiParallel => {
            let q = p.params();
            format!(
                "{v}/({}*(1+{}/(1+{v}*{v}/{})))",
                n(p.r_p()),
                n(q.tmr0),
                n(q.v_h_v * q.v_h_v)
            )
        }
    }
}
