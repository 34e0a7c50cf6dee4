//! Independent-source waveforms as ngspice 39 evaluates them (vsrcload.c semantics):
//! PULSE, PWL and SIN, with analysis-dependent defaults resolved once per transient.

use super::elements::Waveform;

/// Fill ngspice's defaults that depend on the transient: TR = TF = TSTEP when absent or
/// zero, PW = PER = TSTOP when absent (PER also when zero), SIN frequency 1/TSTOP.
pub fn resolve(w: &Waveform, tstep: f64, tstop: f64) -> Waveform {
    match w {
        Waveform::Pulse {
            v1,
            v2,
            td,
            tr,
            tf,
            pw,
            per,
        } => {
            let nz = |x: &Option<f64>, d: f64| match x {
                Some(v) if *v != 0.0 => *v,
                _ => d,
            };
            Waveform::Pulse {
                v1: *v1,
                v2: *v2,
                td: Some(td.unwrap_or(0.0)),
                tr: Some(nz(tr, tstep)),
                tf: Some(nz(tf, tstep)),
                pw: Some(pw.unwrap_or(tstop)),
                per: Some(nz(per, tstop)),
            }
        }
        Waveform::Sin {
            vo,
            va,
            freq,
            td,
            theta,
            phase,
        } => Waveform::Sin {
            vo: *vo,
            va: *va,
            freq: Some(match freq {
                Some(f) if *f != 0.0 => *f,
                _ => 1.0 / tstop,
            }),
            td: Some(td.unwrap_or(0.0)),
            theta: Some(theta.unwrap_or(0.0)),
            phase: Some(phase.unwrap_or(0.0)),
        },
        Waveform::Pwl(p) => Waveform::Pwl(p.clone()),
    }
}

/// Value of a (resolved) waveform at `t` (s).
pub fn value(w: &Waveform, dc: f64, t: f64) -> f64 {
    match w {
        Waveform::Pulse {
            v1,
            v2,
            td,
            tr,
            tf,
            pw,
            per,
        } => {
            let (td, tr, tf, pw, per) = (
                td.unwrap_or(0.0),
                tr.unwrap_or(0.0),
                tf.unwrap_or(0.0),
                pw.unwrap_or(f64::INFINITY),
                per.unwrap_or(f64::INFINITY),
            );
            let mut time = t - td;
            if time > per && per > 0.0 {
                time %= per;
            }
            if time <= 0.0 {
                *v1
            } else if time <= tr {
                v1 + (v2 - v1) * time / tr
            } else if time <= tr + pw {
                *v2
            } else if time <= tr + pw + tf {
                v2 + (v1 - v2) * (time - tr - pw) / tf
            } else {
                *v1
            }
        }
        Waveform::Pwl(pts) => {
            if pts.is_empty() {
                return dc;
            }
            if t <= pts[0].0 {
                return pts[0].1;
            }
            for w in pts.windows(2) {
                let ((t0, v0), (t1, v1)) = (w[0], w[1]);
                if t <= t1 {
                    return if t1 > t0 {
                        v0 + (v1 - v0) * (t - t0) / (t1 - t0)
                    } else {
                        v1
                    };
                }
            }
            pts[pts.len() - 1].1
        }
        Waveform::Sin {
            vo,
            va,
            freq,
            td,
            theta,
            phase,
        } => {
            let (f, td, th, ph) = (
                freq.unwrap_or(0.0),
                td.unwrap_or(0.0),
                theta.unwrap_or(0.0),
                phase.unwrap_or(0.0).to_radians(),
            );
            if t <= td {
                vo + va * ph.sin()
            } else {
                let tt = t - td;
                vo + va * (-tt * th).exp() * (2.0 * std::f64::consts::PI * f * tt + ph).sin()
            }
        }
    }
}

/// Corners of a (resolved) waveform in (0, tstop]: the transient lands a step on each.
pub fn breakpoints(w: &Waveform, tstop: f64, out: &mut Vec<f64>) {
    match w {
        Waveform::Pulse {
            td,
            tr,
            tf,
            pw,
            per,
            ..
        } => {
            let (td, tr, tf, pw, per) = (
                td.unwrap_or(0.0),
                tr.unwrap_or(0.0),
                tf.unwrap_or(0.0),
                pw.unwrap_or(tstop),
                per.unwrap_or(tstop),
            );
            let mut start = td;
            let mut n = 0;
            while start <= tstop && n < 100_000 {
                for c in [start, start + tr, start + tr + pw, start + tr + pw + tf] {
                    if c > 0.0 && c <= tstop {
                        out.push(c);
                    }
                }
                if per <= 0.0 || !per.is_finite() {
                    break;
                }
                start += per;
                n += 1;
            }
        }
        Waveform::Pwl(pts) => {
            out.extend(pts.iter().map(|p| p.0).filter(|&t| t > 0.0 && t <= tstop))
        }
        Waveform::Sin { td, .. } => {
            if let Some(td) = td {
                if *td > 0.0 && *td <= tstop {
                    out.push(*td);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pulse_follows_its_corners() {
        let w = Waveform::Pulse {
            v1: 0.0,
            v2: 1.0,
            td: Some(1.0),
            tr: Some(1.0),
            tf: Some(1.0),
            pw: Some(2.0),
            per: Some(10.0),
        };
        let at = |t| value(&w, 0.0, t);
        assert_eq!(at(0.5), 0.0);
        assert_eq!(at(1.5), 0.5);
        assert_eq!(at(3.0), 1.0);
        assert_eq!(at(4.5), 0.5);
        assert_eq!(at(6.0), 0.0);
        assert_eq!(at(11.5), 0.5); // second period
    }

    #[test]
    fn pwl_interpolates_and_holds_ends() {
        let w = Waveform::Pwl(vec![(1.0, 2.0), (3.0, 4.0)]);
        assert_eq!(value(&w, 0.0, 0.0), 2.0);
        assert_eq!(value(&w, 0.0, 2.0), 3.0);
        assert_eq!(value(&w, 0.0, 9.0), 4.0);
    }

    #[test]
    fn pulse_defaults_take_tstep_and_tstop() {
        let w = Waveform::Pulse {
            v1: 0.0,
            v2: 1.0,
            td: None,
            tr: None,
            tf: None,
            pw: None,
            per: None,
        };
        match resolve(&w, 0.1, 7.0) {
            Waveform::Pulse {
                tr, tf, pw, per, ..
            } => {
                assert_eq!(
                    (tr, tf, pw, per),
                    (Some(0.1), Some(0.1), Some(7.0), Some(7.0))
                )
            }
            _ => unreachable!(),
        }
    }
}
