//! Large and signed weight matrices on arrays: tiling, signed weights and bit-slicing.
//!
//! A real matrix W (`inputs × outputs`, y = Wᵀx with x ∈ [0, 1]^inputs) is scaled by
//! max |W| to w ∈ [−1, 1] and laid onto square `array_n × array_n` arrays, copies of one
//! template [`Crossbar`] (cell, law, wires, periphery, converters, device effects):
//! - **tiling**: row blocks of `array_n` inputs and column blocks of outputs; each tile
//!   multiplies its slice of x, and partial sums are added digitally after the ADC;
//! - **signed weights**: [`Signed::Differential`] puts w⁺ = max(w, 0) and w⁻ = max(−w, 0)
//!   on two arrays (or on the two bit lines of a 2T2R template) and subtracts their outputs;
//!   [`Signed::OffsetColumn`] maps (w + 1)/2 onto one array and gives up its last column to a
//!   reference column at ½, whose current is subtracted from every other column;
//! - **bit-slicing**: |w| is quantised to `slices·slice_bits` bits and every `slice_bits`-bit
//!   slice goes on its own array (a cell holds slice/(2^slice_bits − 1)); outputs are shifted
//!   and added digitally.
//!
//! A tile's output in weight units: for a 0T1R-like cell at weight u ∈ [0, 1],
//! I = Σ_i V_i·(g_min + u·(g_max − g_min)), so Σ_i x_i·u_i = (I/v_read − g_min·Σx)/(g_max − g_min)
//! with the digital Σx; the differential and offset forms cancel the g_min term themselves.
//! Every tile has its own seed (device effects, ADC) derived from the template's.

use rayon::prelude::*;

use super::config::{AdcRange, CellKind, Crossbar};
use super::network::Bias;
use super::ops::{mvm_bound, Energy};
use super::periphery::PeripheryCost;
use super::solver::Array;
use super::CrossbarError;

/// How signed weights are represented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signed {
    /// Two arrays (or the 2T2R pair): w⁺ and w⁻.
    Differential,
    /// One array with a reference column at ½.
    OffsetColumn,
}

/// Weight layout on the arrays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub signed: Signed,
    /// Bits per cell (0 = continuous weights, no slicing).
    pub slice_bits: u32,
    /// Slices per weight (1 = no slicing).
    pub slices: u32,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            signed: Signed::Differential,
            slice_bits: 0,
            slices: 1,
        }
    }
}

struct Tile {
    /// First input row and output column of W this tile covers, and how many.
    r0: usize,
    nr: usize,
    c0: usize,
    nc: usize,
    /// +1 or −1 (differential on two arrays), 0 when the array itself is signed (2T2R) or
    /// uses an offset column.
    sign: f64,
    /// Digital weight of this slice's output.
    slice_weight: f64,
    arr: Array,
}

/// A weight matrix laid onto arrays, ready to multiply batches.
pub struct TiledMatrix {
    pub inputs: usize,
    pub outputs: usize,
    /// max |W|: outputs are in the units of W.
    pub scale: f64,
    pub layout: Layout,
    pub array_n: usize,
    tiles: Vec<Tile>,
    /// Energy of the last multiply, summed over tiles and solves.
    pub energy: Energy,
    /// Converter cost of the last multiply: ADC, DAC and sense-amplifier energies, conversions
    /// and areas summed over tiles; latency that of the slowest tile (tiles work side by side).
    pub periphery: PeripheryCost,
}

fn tile_seed(seed: u64, k: usize) -> u64 {
    // SplitMix64 step: distinct, well-mixed seeds per tile.
    let mut z = seed.wrapping_add((k as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl TiledMatrix {
    /// Lays `w` (row-major `inputs × outputs`) onto copies of `template`, whose size is
    /// replaced by `array_n × array_n`.
    pub fn new(
        template: &Crossbar,
        w: &[f64],
        inputs: usize,
        outputs: usize,
        array_n: usize,
        layout: Layout,
    ) -> Result<TiledMatrix, CrossbarError> {
        if w.len() != inputs * outputs || inputs == 0 || outputs == 0 {
            return Err(CrossbarError::Input(format!(
                "weight matrix: {} values for {inputs}×{outputs}",
                w.len()
            )));
        }
        if let Some(x) = w.iter().find(|x| !x.is_finite()) {
            return Err(CrossbarError::Input(format!("weight matrix: value {x}")));
        }
        let pair = template.cell == CellKind::TwoT2R;
        if pair && layout.signed == Signed::OffsetColumn {
            return Err(CrossbarError::Input(
                "2T2R arrays are signed already: use Signed::Differential".into(),
            ));
        }
        let offset = layout.signed == Signed::OffsetColumn;
        if offset && (layout.slices > 1 || array_n < 2) {
            return Err(CrossbarError::Input(
                "the offset-column layout needs one slice and array_n ≥ 2".into(),
            ));
        }
        if layout.slices == 0 || (layout.slices > 1 && layout.slice_bits == 0) {
            return Err(CrossbarError::Input(
                "bit-slicing needs slices ≥ 1 and slice_bits ≥ 1".into(),
            ));
        }
        let scale = w.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let scale = if scale > 0.0 { scale } else { 1.0 };
        let total_bits = layout.slices * layout.slice_bits;
        let q_max = if total_bits > 0 {
            ((1u64 << total_bits) - 1) as f64
        } else {
            0.0
        };
        let s_max = if layout.slice_bits > 0 {
            ((1u64 << layout.slice_bits) - 1) as f64
        } else {
            1.0
        };
        // Slice k of |w|, as a cell value in [0, 1], and its digital weight.
        let slice = |x: f64, k: u32| -> f64 {
            if total_bits == 0 {
                x
            } else {
                let q = (x * q_max).round() as u64;
                ((q >> (k * layout.slice_bits)) & ((1u64 << layout.slice_bits) - 1)) as f64 / s_max
            }
        };
        let slice_weight = |k: u32| -> f64 {
            if total_bits == 0 {
                1.0
            } else {
                (1u64 << (k * layout.slice_bits)) as f64 * s_max / q_max
            }
        };
        let data_cols = if offset { array_n - 1 } else { array_n };
        let signs: &[f64] = if pair || offset { &[0.0] } else { &[1.0, -1.0] };
        let mut specs = Vec::new();
        for r0 in (0..inputs).step_by(array_n) {
            for c0 in (0..outputs).step_by(data_cols) {
                for k in 0..layout.slices {
                    for &sign in signs {
                        specs.push((r0, c0, k, sign));
                    }
                }
            }
        }
        let tiles = specs
            .into_iter()
            .enumerate()
            .map(|(t, (r0, c0, k, sign))| {
                let nr = array_n.min(inputs - r0);
                let nc = data_cols.min(outputs - c0);
                let mut xb = template.clone();
                xb.rows = array_n;
                xb.cols = array_n;
                xb.seed = tile_seed(template.seed, t);
                // Unused rows get no input; unused cells sit at weight 0 (g_min, or the
                // offset's ½ so they cancel against the reference).
                let mut u = vec![if offset { 0.5 } else { 0.0 }; array_n * array_n];
                for i in 0..nr {
                    for j in 0..nc {
                        let x = w[(r0 + i) * outputs + c0 + j] / scale;
                        u[i * array_n + j] = if offset {
                            (x + 1.0) / 2.0
                        } else if pair {
                            x.signum() * slice(x.abs(), k)
                        } else {
                            slice((sign * x).max(0.0), k)
                        };
                    }
                    if offset {
                        u[i * array_n + array_n - 1] = 0.5;
                    }
                }
                if xb.law == super::law::CellLaw::Card {
                    let model = xb.card.clone().expect("card law has a card");
                    xb.g = Vec::new();
                    xb.use_card(model)?;
                } else {
                    xb.g = vec![xb.g_max; array_n * xb.phys_cols()];
                }
                xb.set_weights(&u)?;
                xb.validate()?;
                let arr = Array::bind(&xb, &Bias::mvm(&xb, &vec![0.0; array_n]))?;
                Ok(Tile {
                    r0,
                    nr,
                    c0,
                    nc,
                    sign,
                    slice_weight: slice_weight(k),
                    arr,
                })
            })
            .collect::<Result<Vec<_>, CrossbarError>>()?;
        Ok(TiledMatrix {
            inputs,
            outputs,
            scale,
            layout,
            array_n,
            tiles,
            energy: Energy::default(),
            periphery: PeripheryCost::default(),
        })
    }

    /// Number of arrays.
    pub fn n_arrays(&self) -> usize {
        self.tiles.len()
    }

    /// Sets every tile's ADC full scale from a calibration batch (a separate set of inputs,
    /// not the ones evaluated later): the largest |column current| each tile sees on it.
    pub fn calibrate_adc(&mut self, x_cal: &[Vec<f64>]) -> Result<(), CrossbarError> {
        let n = self.array_n;
        self.tiles.par_iter_mut().try_for_each(|t| {
            if t.arr.crossbar().adc.bits == 0 {
                return Ok(());
            }
            let xs = tile_inputs(x_cal, t.r0, t.nr, n);
            // Solve without the ADC, then fix its range (ADC settings keep the bound factor).
            let with_adc = t.arr.crossbar().clone();
            let mut no_adc = with_adc.clone();
            no_adc.adc.bits = 0;
            t.arr.set_crossbar(no_adc)?;
            let rep = mvm_bound(&mut t.arr, &xs);
            let mut calibrated = with_adc;
            let rep = rep?;
            let fs = rep.raw.iter().flatten().fold(0.0f64, |m, x| m.max(x.abs()));
            calibrated.adc.range = AdcRange::Fixed(if fs > 0.0 { fs } else { 1e-12 });
            t.arr.set_crossbar(calibrated)?;
            Ok(())
        })
    }

    /// y = Wᵀx for every input vector (x ∈ [0, 1]^inputs), in the units of W, through the
    /// arrays: every tile solved (in parallel), its ADC output converted to weight units and
    /// accumulated digitally.
    pub fn multiply(&mut self, x: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, CrossbarError> {
        if let Some((s, v)) = x.iter().enumerate().find(|(_, v)| v.len() != self.inputs) {
            return Err(CrossbarError::Input(format!(
                "input {s} has {} values for {} matrix rows",
                v.len(),
                self.inputs
            )));
        }
        let n = self.array_n;
        let offset = self.layout.signed == Signed::OffsetColumn;
        let parts: Vec<(Vec<Vec<f64>>, Energy, PeripheryCost)> = self
            .tiles
            .par_iter_mut()
            .map(|t| {
                let xs = tile_inputs(x, t.r0, t.nr, n);
                let rep = mvm_bound(&mut t.arr, &xs)?;
                let xb = t.arr.crossbar();
                let span = xb.v_read * (xb.g_max - xb.g_min);
                let out: Vec<Vec<f64>> = rep
                    .digital
                    .iter()
                    .zip(&xs)
                    .map(|(d, xi)| {
                        let sx: f64 = xi.iter().sum();
                        (0..t.nc)
                            .map(|j| {
                                let u = if offset {
                                    2.0 * (d[j] - d[n - 1]) / span
                                } else if t.sign == 0.0 {
                                    d[j] / span
                                } else {
                                    (d[j] - xb.v_read * xb.g_min * sx) / span
                                };
                                let s = if t.sign == 0.0 { 1.0 } else { t.sign };
                                s * t.slice_weight * u
                            })
                            .collect()
                    })
                    .collect();
                Ok((out, rep.energy, rep.periphery))
            })
            .collect::<Result<_, CrossbarError>>()?;
        let mut y = vec![vec![0.0; self.outputs]; x.len()];
        let mut energy = Energy::default();
        let mut periphery = PeripheryCost::default();
        for (t, (out, e, p)) in self.tiles.iter().zip(parts) {
            energy.t_read = e.t_read;
            energy.accumulate(&e);
            periphery.add_side_by_side(&p);
            for (ys, o) in y.iter_mut().zip(out) {
                for (j, v) in o.into_iter().enumerate() {
                    ys[t.c0 + j] += v * self.scale;
                }
            }
        }
        self.energy = energy;
        self.periphery = periphery;
        Ok(y)
    }
}

/// Inputs of one tile: rows r0..r0 + nr of every vector, zero-padded to `n`.
fn tile_inputs(x: &[Vec<f64>], r0: usize, nr: usize, n: usize) -> Vec<Vec<f64>> {
    x.iter()
        .map(|v| {
            let mut t = vec![0.0; n];
            t[..nr].copy_from_slice(&v[r0..r0 + nr]);
            t
        })
        .collect()
}
