//! Piecewise-linear (PWL) line waveforms: a pulse, a spike template, a spike train.
//!
//! A waveform is a list of (time s, voltage V) corners with non-decreasing times; two corners at
//! the same time make a step. Before the first corner and after the last one the line sits at
//! the first / last voltage (SPICE PWL convention).

use super::ProgError;

#[derive(Clone, Debug, PartialEq)]
pub struct Pwl {
    /// Corner times (s), non-decreasing.
    pub t: Vec<f64>,
    /// Corner voltages (V).
    pub v: Vec<f64>,
}

impl Pwl {
    pub fn new(points: &[(f64, f64)]) -> Result<Pwl, ProgError> {
        if points.is_empty() {
            return Err(ProgError::Input(
                "a PWL waveform needs at least one point".into(),
            ));
        }
        for (k, w) in points.windows(2).enumerate() {
            if !(w[1].0 >= w[0].0) {
                return Err(ProgError::Input(format!(
                    "PWL point {}: time {} s is before the previous point's {} s",
                    k + 1,
                    w[1].0,
                    w[0].0
                )));
            }
        }
        if let Some(p) = points.iter().find(|p| !p.0.is_finite() || !p.1.is_finite()) {
            return Err(ProgError::Input(format!(
                "PWL point ({}, {}) is not finite",
                p.0, p.1
            )));
        }
        Ok(Pwl {
            t: points.iter().map(|p| p.0).collect(),
            v: points.iter().map(|p| p.1).collect(),
        })
    }

    /// A line held at `v` (V).
    pub fn constant(v: f64) -> Pwl {
        Pwl {
            t: vec![0.0],
            v: vec![v],
        }
    }

    /// A trapezoidal pulse of amplitude `v` (V): `edge` rise, `width` flat top, `edge` fall
    /// (s), starting at t = 0 from 0 V. `edge = 0` gives a rectangle.
    pub fn pulse(v: f64, width: f64, edge: f64) -> Pwl {
        Pwl {
            t: vec![0.0, edge, edge + width, 2.0 * edge + width],
            v: vec![0.0, v, v, 0.0],
        }
    }

    /// Voltage just after time `t` (right-continuous at steps).
    pub fn at(&self, t: f64) -> f64 {
        let n = self.t.len();
        // First corner with time > t.
        let k = self.t.partition_point(|&x| x <= t);
        if k == 0 {
            return self.v[0];
        }
        if k == n {
            return self.v[n - 1];
        }
        let (t0, t1) = (self.t[k - 1], self.t[k]);
        let (v0, v1) = (self.v[k - 1], self.v[k]);
        if t1 == t0 {
            return v1;
        }
        v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    }

    pub fn end(&self) -> f64 {
        *self.t.last().expect("non-empty")
    }

    pub fn scaled(&self, a: f64) -> Pwl {
        Pwl {
            t: self.t.clone(),
            v: self.v.iter().map(|v| a * v).collect(),
        }
    }

    pub fn shifted(&self, dt: f64) -> Pwl {
        Pwl {
            t: self.t.iter().map(|t| t + dt).collect(),
            v: self.v.clone(),
        }
    }

    /// Sum of waveforms that each rest at 0 V outside their corners (spike trains): corners at
    /// the union of all corner times.
    pub fn sum(parts: &[Pwl]) -> Pwl {
        if parts.is_empty() {
            return Pwl::constant(0.0);
        }
        let mut ts: Vec<f64> = parts.iter().flat_map(|p| p.t.iter().copied()).collect();
        ts.sort_by(|a, b| a.total_cmp(b));
        ts.dedup();
        let v = ts
            .iter()
            .map(|&t| parts.iter().map(|p| p.at(t)).sum())
            .collect();
        Pwl { t: ts, v }
    }
}

/// A spike template (device-physics.md §7, after Serrano-Gotarredona et al., Front. Neurosci.
/// 7:2, 2013): a short rectangular peak of amplitude `a_peak` (V, may be negative) lasting
/// `t_peak` (s), then a tail of the opposite sign starting at `a_tail` (V, magnitude) and
/// decaying linearly to 0 over `t_tail` (s). The spike is centred on its peak at t = 0.
#[derive(Clone, Copy, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SpikeTemplate {
    pub a_peak: f64,
    pub t_peak: f64,
    pub a_tail: f64,
    pub t_tail: f64,
}

impl SpikeTemplate {
    /// The spike as a PWL, peak starting at time `t0` (s).
    pub fn at(&self, t0: f64) -> Pwl {
        let s = -self.a_peak.signum();
        let e = (self.t_peak * 1e-3).max(1e-15); // edges: a thousandth of the peak
        let t1 = t0 + self.t_peak;
        Pwl {
            t: vec![t0 - e, t0, t1, t1 + e, t1 + e + self.t_tail],
            v: vec![0.0, self.a_peak, self.a_peak, s * self.a_tail, 0.0],
        }
    }

    /// Total duration (s).
    pub fn width(&self) -> f64 {
        self.t_peak + self.t_tail
    }

    pub fn validate(&self, what: &str) -> Result<(), ProgError> {
        let ok = self.t_peak > 0.0 && self.t_tail >= 0.0 && self.a_tail >= 0.0;
        if !ok || !self.a_peak.is_finite() || !self.t_tail.is_finite() {
            return Err(ProgError::Input(format!(
                "{what}: spike needs t_peak > 0, t_tail ≥ 0, a_tail ≥ 0 (got {self:?})"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pwl_interpolates_and_steps() {
        let p = Pwl::new(&[(0.0, 0.0), (1.0, 2.0), (1.0, 5.0), (3.0, 1.0)]).unwrap();
        assert_eq!(p.at(-1.0), 0.0);
        assert_eq!(p.at(0.5), 1.0);
        assert_eq!(p.at(1.0), 5.0);
        assert_eq!(p.at(2.0), 3.0);
        assert_eq!(p.at(9.0), 1.0);
        assert!(Pwl::new(&[(1.0, 0.0), (0.5, 0.0)]).is_err());
    }
}
