//! Array operations: matrix-vector multiply with DAC/ADC, single-cell read with a biasing
//! scheme, node maps and energy accounting.

use std::borrow::Cow;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::config::{AdcRange, CellKind, Crossbar, DacMode, Reference};
use super::law::GMIN_BULK;
use super::network::{Bias, ColEnd, ResKind};
use super::periphery::{AdcInstance, PeripheryCost, SALT_CAL};
use super::solver::Array;
use super::CrossbarError;

/// Error statistics of outputs y against a reference y*. Every error is normalised per sample
/// by the sample's largest |y*_j| (so columns whose ideal output is near zero do not blow up):
/// e_sj = (y_sj − y*_sj) / max_k |y*_sk|.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorStats {
    /// RMS of e over all samples and columns.
    pub rms: f64,
    /// max |e|.
    pub max: f64,
    /// RMS of e per column, over samples.
    pub per_column_rms: Vec<f64>,
    /// Norm-wise relative error ‖y − y*‖₂ / ‖y*‖₂ per sample.
    pub per_sample_norm: Vec<f64>,
}

impl ErrorStats {
    pub fn compute(y: &[Vec<f64>], y_ref: &[Vec<f64>]) -> ErrorStats {
        let cols = y_ref.first().map_or(0, |r| r.len());
        let mut per_col = vec![0.0; cols];
        let (mut sum2, mut max, mut n) = (0.0, 0.0f64, 0usize);
        let mut per_sample = Vec::with_capacity(y.len());
        for (a, b) in y.iter().zip(y_ref) {
            let scale = b.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let (mut d2, mut r2) = (0.0, 0.0);
            for j in 0..cols {
                let d = a[j] - b[j];
                d2 += d * d;
                r2 += b[j] * b[j];
                let e = if scale > 0.0 { d / scale } else { d };
                per_col[j] += e * e;
                sum2 += e * e;
                max = max.max(e.abs());
                n += 1;
            }
            per_sample.push(if r2 > 0.0 {
                (d2 / r2).sqrt()
            } else {
                d2.sqrt()
            });
        }
        let ns = y.len().max(1) as f64;
        ErrorStats {
            rms: (sum2 / n.max(1) as f64).sqrt(),
            max,
            per_column_rms: per_col.iter().map(|s| (s / ns).sqrt()).collect(),
            per_sample_norm: per_sample,
        }
    }
}

/// Result of a batch of matrix-vector multiplies. Currents in A, per logical output column
/// (2T2R: I(+) − I(−)), one inner vector per input sample.
#[derive(Clone, Debug, Default)]
pub struct MvmReport {
    /// Word-line voltages applied after the DAC (V); bit-serial: the equivalent analog level.
    pub v_in: Vec<Vec<f64>>,
    /// Ideal Σ_i V_i·G_ij with the unquantised inputs x·v_read and the mapped (target) read
    /// conductances.
    pub ideal: Vec<Vec<f64>>,
    /// Ideal with the DAC-quantised inputs.
    pub ideal_dac: Vec<Vec<f64>>,
    /// Σ_i V_i·G_chord,ij with the DAC-quantised inputs and the chord conductances
    /// I(v_read)/v_read of the cells as read (after device effects).
    pub chord: Vec<Vec<f64>>,
    /// The same cells as read, solved with zero wire resistance (empty unless asked for:
    /// `Reference::ZeroWire` or [`mvm_bound_with`]).
    pub zero_wire: Vec<Vec<f64>>,
    /// Solved column currents (bit-serial: Σ_k 2^k I_k / (2^b − 1)).
    pub analog: Vec<Vec<f64>>,
    /// ADC codes (bit-serial: Σ_k 2^k code_k). Empty without an ADC.
    pub codes: Vec<Vec<i64>>,
    /// ADC output converted back to A (equals `analog` without an ADC).
    pub digital: Vec<Vec<f64>>,
    /// ADC full scale used (A); 0 without an ADC.
    pub adc_full_scale: f64,
    /// Full scale from a separate calibration batch, when the config asks for one (A).
    pub calibrated_full_scale: Option<f64>,
    /// How the ADC range was set ("fixed", "evaluated batch", "separate batch of N vectors").
    pub adc_calibration: String,
    /// Fraction of conversions that clipped.
    pub clip_rate: f64,
    /// `analog` against the config's reference (`Reference::Ideal`: `ideal_dac`): the
    /// array's own error.
    pub err_analog: ErrorStats,
    /// `digital` against the reference (`Reference::Ideal`: `ideal`, unquantised inputs): end
    /// to end, with DAC and ADC quantisation.
    pub err_digital: ErrorStats,
    /// `analog` against `chord` (IR drop and nonlinearity) and against `zero_wire` (IR drop
    /// alone; default when `zero_wire` is empty).
    pub err_chord: ErrorStats,
    pub err_zero_wire: ErrorStats,
    /// Newton iterations per solve.
    pub iterations: Vec<usize>,
    /// Logical column currents of every solve (A): `planes` consecutive solves per sample.
    pub raw: Vec<Vec<f64>>,
    /// Solves per sample (DAC bits when bit-serial, else 1).
    pub planes: usize,
    /// Power balance summed over every solve of the batch (every bit plane of a bit-serial
    /// read counts): `p_*` are Σ of powers (W), `e_*` energies (J) = Σ p·t_read.
    pub energy: Energy,
    /// The same per input vector (each the sum over its solves).
    pub energy_per_vector: Vec<Energy>,
    /// Converter energy, latency and area of the batch.
    pub periphery: PeripheryCost,
}

/// Binds `xb` for an MVM (all rows driven, all columns sensed) and multiplies every input
/// vector. Inputs are fractions of full scale in [0, 1] (V_i = x_i·v_read).
pub fn mvm(xb: &Crossbar, inputs: &[Vec<f64>]) -> Result<MvmReport, CrossbarError> {
    let bias = Bias::mvm(xb, &vec![0.0; xb.rows]);
    let mut arr = Array::bind(xb, &bias)?;
    mvm_bound(&mut arr, inputs)
}

/// MVM on an already bound array (bound with `Bias::mvm`); the zero-wire reference is solved
/// when the array's reference is `Reference::ZeroWire`.
pub fn mvm_bound(arr: &mut Array, inputs: &[Vec<f64>]) -> Result<MvmReport, CrossbarError> {
    let zw = arr.crossbar().reference == Reference::ZeroWire;
    mvm_bound_with(arr, inputs, zw)
}

/// Resolution of the word-line DAC in one read: a bit-serial read drives one bit (0: ideal
/// analog sources, no DAC).
fn dac_bits_per_read(xb: &Crossbar) -> u32 {
    match (xb.dac.bits, xb.dac.mode) {
        (0, _) => 0,
        (_, DacMode::BitSerial) => 1,
        (b, _) => b,
    }
}

/// Word-line biases of one input vector: one (analog DAC) or one per input bit (bit-serial).
fn input_biases(xb: &Crossbar, x: &[f64], out: &mut Vec<Bias>) {
    let bits = xb.dac.bits;
    let levels = dac_levels(bits);
    if xb.dac.mode == DacMode::BitSerial {
        for k in 0..bits as usize {
            let v: Vec<f64> = x
                .iter()
                .map(|&x| {
                    let code = (x * levels).round() as u64;
                    if (code >> k) & 1 == 1 {
                        xb.v_read
                    } else {
                        0.0
                    }
                })
                .collect();
            out.push(Bias::mvm(xb, &v));
        }
    } else {
        let v: Vec<f64> = x.iter().map(|&x| dac_quant(bits, x) * xb.v_read).collect();
        out.push(Bias::mvm(xb, &v));
    }
}

fn dac_levels(bits: u32) -> f64 {
    if bits > 0 {
        ((1u64 << bits) - 1) as f64
    } else {
        0.0
    }
}

fn dac_quant(bits: u32, x: f64) -> f64 {
    if bits > 0 {
        let l = dac_levels(bits);
        (x * l).round() / l
    } else {
        x
    }
}

/// `xb.programmed()`, borrowing `xb` itself when no device effect is on (no copy of the
/// cells).
fn programmed_cells(xb: &Crossbar) -> Result<Cow<'_, Crossbar>, CrossbarError> {
    if xb.effects.is_none(xb.law) {
        Ok(Cow::Borrowed(xb))
    } else {
        xb.programmed().map(Cow::Owned)
    }
}

/// Where `solve_reads` puts the chord reference: the per-sample word-line voltages and the
/// output rows.
type ChordOut<'a> = (&'a [Vec<f64>], &'a mut Vec<Vec<f64>>);

/// Solves the biases of `samples` (`planes` consecutive biases each) on `arr`, with the cells
/// of every read from `xb.read_instance(programmed, read)`; returns the logical column currents
/// of every solve. `energy` and `chord` (per sample, with `v_in`) are filled when given.
#[allow(clippy::too_many_arguments)]
fn solve_reads(
    arr: &mut Array,
    xb: &Crossbar,
    programmed: &Crossbar,
    biases: &[Bias],
    planes: usize,
    read_base: u64,
    iterations: &mut Vec<usize>,
    mut energies: Option<&mut Vec<Energy>>,
    mut chord: Option<ChordOut<'_>>,
) -> Result<Vec<Vec<f64>>, CrossbarError> {
    let per_read = xb.effects.per_read(xb.law);
    let changed = !std::ptr::eq(programmed, xb) && programmed != xb;
    let mut outs = Vec::with_capacity(biases.len());
    let groups: Vec<&[Bias]> = if per_read {
        biases.chunks(planes.max(1)).collect()
    } else {
        vec![biases]
    };
    for (s, group) in groups.into_iter().enumerate() {
        let inst;
        let cells: &Crossbar = if per_read {
            inst = xb.read_instance(programmed, read_base + s as u64);
            arr.set_cells_from(&inst);
            &inst
        } else {
            if changed {
                arr.set_cells_from(programmed);
            }
            programmed
        };
        if let Some((v_in, out)) = chord.as_mut() {
            let samples: Vec<usize> = if per_read {
                vec![s]
            } else {
                (0..v_in.len()).collect()
            };
            for k in samples {
                out.push(chord_dot(cells, &v_in[k]));
            }
        }
        let mut record = |arr: &Array, it: usize| {
            outs.push(logical(&arr.crossbar(), &arr.column_currents()));
            iterations.push(it);
            if let Some(e) = energies.as_deref_mut() {
                e.push(energy(arr));
            }
        };
        if arr.is_linear() {
            let sols = arr.solve_batch_linear(group)?;
            for (b, v) in group.iter().zip(sols) {
                arr.set_bias(b)?;
                arr.v.copy_from_slice(&v);
                record(arr, 1);
            }
        } else {
            arr.solve_each(group, |arr, it| record(arr, it))?;
        }
    }
    if per_read || changed {
        arr.set_cells_from(xb);
    }
    Ok(outs)
}

/// Combines per-plane currents into one analog current per sample (bit-serial weights).
fn combine_planes(xb: &Crossbar, outs: &[Vec<f64>], planes: usize) -> Vec<Vec<f64>> {
    let serial = xb.dac.mode == DacMode::BitSerial;
    let levels = dac_levels(xb.dac.bits);
    outs.chunks(planes.max(1))
        .map(|ch| {
            let mut a = vec![0.0; xb.cols];
            for (p, o) in ch.iter().enumerate() {
                let w = if serial {
                    (1u64 << p) as f64 / levels
                } else {
                    1.0
                };
                for (aj, oj) in a.iter_mut().zip(o) {
                    *aj += w * oj;
                }
            }
            a
        })
        .collect()
}

/// [`mvm_bound`], solving the zero-wire reference when `zero_wire` is true.
pub fn mvm_bound_with(
    arr: &mut Array,
    inputs: &[Vec<f64>],
    zero_wire: bool,
) -> Result<MvmReport, CrossbarError> {
    mvm_bound_impl(arr, inputs, zero_wire, false)
}

/// [`mvm_bound_with`] on an array used only this once: its solver structures are freed before
/// the zero-wire reference is bound and solved (same results, lower peak memory).
pub fn mvm_once(
    mut arr: Array,
    inputs: &[Vec<f64>],
    zero_wire: bool,
) -> Result<MvmReport, CrossbarError> {
    mvm_bound_impl(&mut arr, inputs, zero_wire, true)
}

/// Whether [`mvm_bound_with`] reads a separate ADC calibration batch on the bound array.
fn calibrating(xb: &Crossbar) -> bool {
    let c = &xb.converters;
    c.calibration_vectors > 0 && xb.adc.bits > 0 && !matches!(xb.adc.range, AdcRange::Fixed(_))
}

fn mvm_bound_impl(
    arr: &mut Array,
    inputs: &[Vec<f64>],
    zero_wire: bool,
    last_use: bool,
) -> Result<MvmReport, CrossbarError> {
    let xb = arr.crossbar().clone();
    for (s, x) in inputs.iter().enumerate() {
        if x.len() != xb.rows {
            return Err(CrossbarError::Input(format!(
                "input {s} has {} values for {} rows",
                x.len(),
                xb.rows
            )));
        }
        if let Some(v) = x.iter().find(|v| !(**v >= 0.0 && **v <= 1.0)) {
            return Err(CrossbarError::Input(format!(
                "input {s}: value {v} outside [0, 1]"
            )));
        }
    }
    let bits = xb.dac.bits;
    let mut rep = MvmReport::default();
    for x in inputs {
        let v: Vec<f64> = x.iter().map(|&x| x * xb.v_read).collect();
        let vq: Vec<f64> = x.iter().map(|&x| dac_quant(bits, x) * xb.v_read).collect();
        rep.ideal.push(ideal_dot(&xb, &v));
        rep.ideal_dac.push(ideal_dot(&xb, &vq));
        rep.v_in.push(vq);
    }

    // Bias list: one per input (analog) or one per input bit (bit-serial).
    let serial = xb.dac.mode == DacMode::BitSerial;
    let planes = if serial { bits as usize } else { 1 };
    let mut biases = Vec::with_capacity(inputs.len() * planes);
    for x in inputs {
        input_biases(&xb, x, &mut biases);
    }

    let programmed = programmed_cells(&xb)?;
    let mut energies = Vec::with_capacity(biases.len());
    let mut chord = Vec::with_capacity(inputs.len());
    // The zero-wire reference: the same reads on the array without line resistance.
    let solve_zero_wire = || -> Result<Vec<Vec<f64>>, CrossbarError> {
        let mut x0 = xb.clone();
        x0.r_row = 0.0;
        x0.r_col = 0.0;
        let p0 = programmed_cells(&x0)?;
        let mut a0 = Array::bind(&x0, &Bias::mvm(&x0, &vec![0.0; x0.rows]))?;
        let mut it = Vec::new();
        solve_reads(&mut a0, &x0, &p0, &biases, planes, 0, &mut it, None, None)
    };
    let mut solve_array = || {
        solve_reads(
            arr,
            &xb,
            &programmed,
            &biases,
            planes,
            0,
            &mut rep.iterations,
            Some(&mut energies),
            Some((&rep.v_in, &mut chord)),
        )
    };
    // A batch solves the reference alongside the array, so each one's set-up and
    // factorisation (one core) overlaps the other's parallel sweeps. A single read solves
    // them one after the other, freeing the array's solver first when it is not needed again
    // (lower peak memory).
    let (outs, zw_outs) = if zero_wire && biases.len() > 1 {
        let (a, z) = rayon::join(solve_array, solve_zero_wire);
        (a?, Some(z?))
    } else {
        let outs = solve_array()?;
        let z = if zero_wire {
            if last_use && !calibrating(&xb) {
                arr.release_caches();
            }
            Some(solve_zero_wire()?)
        } else {
            None
        };
        (outs, z)
    };
    // Finite node voltages can still give overflowed currents (1e-300 Ω sense resistors).
    for (k, o) in outs.iter().enumerate() {
        if let Some(j) = o.iter().position(|i| !i.is_finite()) {
            return Err(CrossbarError::Solve(format!(
                "read {k}: column {j} current {} is not finite (the array solution \
                 overflowed: extreme resistances or device parameters?)",
                o[j]
            )));
        }
    }
    rep.chord = chord;
    // Per input vector: the sum over its solves (every bit plane when bit-serial).
    let zero = Energy {
        t_read: xb.t_read,
        ..Default::default()
    };
    rep.energy_per_vector = energies
        .chunks(planes.max(1))
        .map(|c| {
            let mut e = zero.clone();
            c.iter().for_each(|x| e.accumulate(x));
            e
        })
        .collect();
    rep.energy = zero;
    for e in &rep.energy_per_vector {
        rep.energy.accumulate(e);
    }

    if let Some(o0) = zw_outs {
        rep.zero_wire = combine_planes(&xb, &o0, planes);
    }

    // ADC range from a separate calibration batch (reads numbered after the evaluated ones).
    let c = &xb.converters;
    rep.calibrated_full_scale = None;
    if calibrating(&xb) {
        let mut rng = ChaCha8Rng::seed_from_u64(xb.seed ^ SALT_CAL);
        let mut cb = Vec::new();
        for _ in 0..c.calibration_vectors {
            let x: Vec<f64> = (0..xb.rows).map(|_| rng.random_range(0.0..=1.0)).collect();
            input_biases(&xb, &x, &mut cb);
        }
        let mut it = Vec::new();
        let oc = solve_reads(
            arr,
            &xb,
            &programmed,
            &cb,
            planes,
            inputs.len() as u64,
            &mut it,
            None,
            None,
        )?;
        rep.calibrated_full_scale = Some(range_of(&xb, &oc));
    }

    rep.raw = outs;
    rep.planes = planes;
    apply_adc(&xb, &mut rep);
    rep.periphery = PeripheryCost::of(
        c,
        inputs.len(),
        planes,
        xb.rows,
        xb.phys_cols(),
        xb.cols,
        xb.adc.bits,
        dac_bits_per_read(&xb),
        xb.v_read,
        xb.t_read,
    );
    ensure_finite_products(&rep)?;
    Ok(rep)
}

/// Results leave the library here: every product and reference of an MVM is finite, or the
/// run is an error naming the quantity, the input vector and the column (e.g. a chord
/// reference that overflows at an absurd read voltage while the solved currents do not).
fn ensure_finite_products(rep: &MvmReport) -> Result<(), CrossbarError> {
    for (quantity, rows) in [
        ("ideal product", &rep.ideal),
        ("ideal product with the DAC inputs", &rep.ideal_dac),
        ("chord reference", &rep.chord),
        ("zero-wire reference", &rep.zero_wire),
        ("column current", &rep.analog),
        ("ADC output current", &rep.digital),
    ] {
        for (k, row) in rows.iter().enumerate() {
            for (j, &value) in row.iter().enumerate() {
                crate::report::ensure_finite(
                    quantity,
                    || format!("input vector {}, column {j}", k + 1),
                    value,
                    crate::report::SOLVE_CAUSE,
                )
                .map_err(|e| CrossbarError::Solve(e.to_string()))?;
            }
        }
    }
    Ok(())
}

/// ADC full scale (A) of the configured range over a set of conversions.
fn range_of(xb: &Crossbar, outs: &[Vec<f64>]) -> f64 {
    match xb.adc.range {
        AdcRange::Fixed(r) => r,
        AdcRange::MaxOfBatch => outs.iter().flatten().fold(0.0f64, |m, x| m.max(x.abs())),
        AdcRange::Percentile(p) => {
            let mut a: Vec<f64> = outs.iter().flatten().map(|x| x.abs()).collect();
            a.sort_by(|x, y| x.total_cmp(y));
            let k = ((p / 100.0) * (a.len() as f64) - 1.0).ceil().max(0.0) as usize;
            a.get(k.min(a.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0.0)
        }
    }
}

/// (Re)computes `analog`, `codes`, `digital`, the clip rate and the error statistics from the
/// per-solve currents in `rep.raw`, with the DAC and ADC settings of `xb` (so ADC variants need
/// no new solve: change `xb.adc` / `xb.converters` and call again; a separate calibration's
/// full scale is kept in `rep.calibrated_full_scale`).
pub fn apply_adc(xb: &Crossbar, rep: &mut MvmReport) {
    let planes = rep.planes;
    let n_samples = rep.raw.len() / planes.max(1);
    let serial = xb.dac.mode == DacMode::BitSerial;
    let levels = dac_levels(xb.dac.bits);
    let outs = &rep.raw;
    rep.analog.clear();
    rep.codes.clear();
    rep.digital.clear();
    // ADC range over the whole batch of conversions, or from the calibration batch.
    let signed = xb.cell == CellKind::TwoT2R;
    let adc_bits = xb.adc.bits;
    let (full_scale, how) = if adc_bits == 0 {
        (0.0, "no ADC".to_string())
    } else {
        match (xb.adc.range, rep.calibrated_full_scale) {
            (AdcRange::Fixed(r), _) => (r, "fixed".to_string()),
            (_, Some(fs)) => (
                fs,
                format!(
                    "separate batch of {} vectors",
                    xb.converters.calibration_vectors
                ),
            ),
            _ => (range_of(xb, outs), "evaluated batch".to_string()),
        }
    };
    rep.adc_calibration = how;
    let adc_levels = if signed {
        ((1i64 << adc_bits.saturating_sub(1)) - 1).max(1) as f64
    } else {
        ((1i64 << adc_bits) - 1) as f64
    };
    let code_lo = if signed { -(adc_levels as i64) } else { 0 };
    let mut adc = AdcInstance::new(&xb.converters, code_lo, adc_levels as i64, xb.seed);
    let (mut n_conv, mut n_clip) = (0usize, 0usize);
    let mut convert = |i: f64| -> i64 {
        n_conv += 1;
        let lo = if signed { -1.0 } else { 0.0 };
        let r = if full_scale > 0.0 {
            i / full_scale
        } else {
            0.0
        };
        if r > 1.0 || r < lo {
            n_clip += 1;
        }
        adc.convert(r.clamp(lo, 1.0) * adc_levels)
    };
    let cols = xb.cols;
    for s in 0..n_samples {
        let mut analog = vec![0.0; cols];
        let mut codes = vec![0i64; cols];
        for p in 0..planes {
            let o = &outs[s * planes + p];
            let w = if serial {
                (1u64 << p) as f64 / levels
            } else {
                1.0
            };
            for j in 0..cols {
                analog[j] += w * o[j];
                if adc_bits > 0 {
                    codes[j] += (1i64 << p) * convert(o[j]);
                }
            }
        }
        let digital: Vec<f64> = if adc_bits > 0 {
            let div = if serial { levels } else { 1.0 };
            codes
                .iter()
                .map(|&c| c as f64 / adc_levels * full_scale / div)
                .collect()
        } else {
            analog.clone()
        };
        rep.analog.push(analog);
        if adc_bits > 0 {
            rep.codes.push(codes);
        }
        rep.digital.push(digital);
    }
    rep.adc_full_scale = full_scale;
    rep.clip_rate = if n_conv > 0 {
        n_clip as f64 / n_conv as f64
    } else {
        0.0
    };
    let (r_analog, r_digital) = match xb.reference {
        Reference::Ideal => (&rep.ideal_dac, &rep.ideal),
        Reference::Chord => (&rep.chord, &rep.chord),
        Reference::ZeroWire => (&rep.zero_wire, &rep.zero_wire),
    };
    rep.err_analog = ErrorStats::compute(&rep.analog, r_analog);
    rep.err_digital = ErrorStats::compute(&rep.digital, r_digital);
    rep.err_chord = ErrorStats::compute(&rep.analog, &rep.chord);
    rep.err_zero_wire = if rep.zero_wire.is_empty() {
        ErrorStats::default()
    } else {
        ErrorStats::compute(&rep.analog, &rep.zero_wire)
    };
}

/// Σ_i V_i·G_chord,ij per logical column (A): the cells' chord conductances as they are.
pub fn chord_dot(xb: &Crossbar, v: &[f64]) -> Vec<f64> {
    let pc = xb.phys_cols();
    let mut phys = vec![0.0; pc];
    for (i, &vi) in v.iter().enumerate() {
        for (j, p) in phys.iter_mut().enumerate() {
            *p += vi * xb.chord_conductance(i * pc + j);
        }
    }
    logical(xb, &phys)
}

/// Ideal Σ_i V_i·G_ij per logical column (2T2R: G(+) − G(−)) in A, with G the read
/// conductance at v_read ([`Crossbar::g_read`]).
pub fn ideal_dot(xb: &Crossbar, v: &[f64]) -> Vec<f64> {
    let pc = xb.phys_cols();
    let f = xb.read_factor();
    let mut phys = vec![0.0; pc];
    for (i, &vi) in v.iter().enumerate() {
        let row = &xb.g[i * pc..(i + 1) * pc];
        for (p, g) in phys.iter_mut().zip(row) {
            *p += vi * g * f;
        }
    }
    logical(xb, &phys)
}

fn logical(xb: &Crossbar, phys: &[f64]) -> Vec<f64> {
    if xb.cell == CellKind::TwoT2R {
        (0..xb.cols)
            .map(|j| phys[2 * j] - phys[2 * j + 1])
            .collect()
    } else {
        phys.to_vec()
    }
}

/// Bias of the unselected lines when reading one cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadScheme {
    /// Unselected word and bit lines left floating.
    Floating,
    /// Unselected word and bit lines at V/2.
    Half,
    /// Unselected word lines at V/3, unselected bit lines at 2V/3.
    Third,
    /// Unselected word and bit lines grounded.
    Grounded,
}

impl ReadScheme {
    pub fn bias(self, xb: &Crossbar, row: usize, col: usize, v: f64) -> Bias {
        let (ur, uc) = match self {
            ReadScheme::Floating => (None, ColEnd::Float),
            ReadScheme::Half => (Some(v / 2.0), ColEnd::Bias(v / 2.0)),
            ReadScheme::Third => (Some(v / 3.0), ColEnd::Bias(2.0 * v / 3.0)),
            ReadScheme::Grounded => (Some(0.0), ColEnd::Bias(0.0)),
        };
        Bias {
            rows: (0..xb.rows)
                .map(|i| if i == row { Some(v) } else { ur })
                .collect(),
            cols: (0..xb.phys_cols())
                .map(|j| if j == col { ColEnd::Sense } else { uc })
                .collect(),
            gates: (0..xb.rows)
                .map(|i| if i == row { xb.v_gate } else { 0.0 })
                .collect(),
        }
    }
}

/// One-cell read. Currents in A, power in W.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadReport {
    /// Current into the selected bit line's sense amplifier.
    pub i_sense: f64,
    /// Current through the selected cell.
    pub i_cell: f64,
    /// i_sense − i_cell: what reaches the sense amplifier through other cells.
    pub i_sneak: f64,
    /// Voltage across the selected cell (V).
    pub v_cell: f64,
    /// Power delivered by all sources.
    pub power: f64,
    /// Sense currents with the selected cell at read conductance g_max and at g_min (card
    /// cells reprogrammed), other cells as given.
    pub i_sense_on: f64,
    pub i_sense_off: f64,
    /// Read margin (i_on − i_off) / i_on: the current-mode form of the standard passive-array
    /// analysis (A. Flocke, T. G. Noll, ESSCIRC 2007; J. Liang, H.-S. P. Wong, IEEE TED 57(10),
    /// 2010), whose worst case has every unselected cell at g_max.
    pub read_margin: f64,
}

impl std::fmt::Display for ReadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "sense current     {:.6e} A", self.i_sense)?;
        writeln!(f, "cell current      {:.6e} A", self.i_cell)?;
        writeln!(f, "sneak current     {:.6e} A", self.i_sneak)?;
        writeln!(f, "cell voltage      {:.6e} V", self.v_cell)?;
        writeln!(f, "source power      {:.6e} W", self.power)?;
        writeln!(f, "sense at g_max    {:.6e} A", self.i_sense_on)?;
        writeln!(f, "sense at g_min    {:.6e} A", self.i_sense_off)?;
        write!(f, "read margin       {:.6}", self.read_margin)
    }
}

/// Reads cell (row, physical column) at voltage `v` (V) with the given scheme.
pub fn read_cell(
    xb: &Crossbar,
    row: usize,
    col: usize,
    v: f64,
    scheme: ReadScheme,
) -> Result<ReadReport, CrossbarError> {
    if row >= xb.rows || col >= xb.phys_cols() {
        return Err(CrossbarError::Input(format!(
            "cell ({row}, {col}) outside the {}×{} array",
            xb.rows,
            xb.phys_cols()
        )));
    }
    let bias = scheme.bias(xb, row, col, v);
    let idx = row * xb.phys_cols() + col;
    let run = |g: Option<f64>| -> Result<(Array, f64), CrossbarError> {
        let mut x = xb.clone();
        if let Some(g) = g {
            x.set_cell_read_conductance(idx, g)?;
        }
        let mut arr = Array::bind(&x, &bias)?;
        arr.solve()?;
        let i = arr.column_currents()[col];
        Ok((arr, i))
    };
    let (arr, i_sense) = run(None)?;
    let i_cell = arr.cell_current(idx);
    let e = energy(&arr);
    let (_, i_on) = run(Some(xb.g_max))?;
    let (_, i_off) = run(Some(xb.g_min))?;
    let report = ReadReport {
        i_sense,
        i_cell,
        i_sneak: i_sense - i_cell,
        v_cell: arr.cell_voltage(idx),
        power: e.p_sources,
        i_sense_on: i_on,
        i_sense_off: i_off,
        read_margin: if i_on != 0.0 {
            (i_on - i_off) / i_on
        } else {
            0.0
        },
    };
    // Results leave the library here: a NaN or an infinity is an error, not a reading.
    let r = &report;
    for (quantity, value) in [
        ("sense current", r.i_sense),
        ("cell current", r.i_cell),
        ("cell voltage", r.v_cell),
        ("source power", r.power),
        ("sense current at g_max", r.i_sense_on),
        ("sense current at g_min", r.i_sense_off),
        ("read margin", r.read_margin),
    ] {
        crate::report::ensure_finite(
            quantity,
            || format!("read of cell ({row}, {col})"),
            value,
            crate::report::SOLVE_CAUSE,
        )
        .map_err(|e| CrossbarError::Solve(e.to_string()))?;
    }
    Ok(report)
}

/// Power balance of a solved array (W) and energy over one read pulse (J).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Energy {
    /// Σ V·I delivered by all ideal sources (drivers, bias, virtual grounds).
    pub p_sources: f64,
    pub p_row_wires: f64,
    pub p_col_wires: f64,
    pub p_drivers: f64,
    pub p_sense: f64,
    pub p_cells: f64,
    pub p_selectors: f64,
    pub p_transistors: f64,
    /// Pulse duration used for the energies (s).
    pub t_read: f64,
    /// p_sources·t_read (J).
    pub e_total: f64,
    /// Wires, drivers and sense resistances (J).
    pub e_wires: f64,
    /// Cells, selectors and transistors (J).
    pub e_cells: f64,
}

impl Energy {
    /// Adds another solve's powers and energies (`t_read` is kept).
    pub fn accumulate(&mut self, o: &Energy) {
        self.p_sources += o.p_sources;
        self.p_row_wires += o.p_row_wires;
        self.p_col_wires += o.p_col_wires;
        self.p_drivers += o.p_drivers;
        self.p_sense += o.p_sense;
        self.p_cells += o.p_cells;
        self.p_selectors += o.p_selectors;
        self.p_transistors += o.p_transistors;
        self.e_total += o.e_total;
        self.e_wires += o.e_wires;
        self.e_cells += o.e_cells;
    }

    /// Σ of all dissipated powers (W).
    pub fn p_dissipated(&self) -> f64 {
        self.p_row_wires
            + self.p_col_wires
            + self.p_drivers
            + self.p_sense
            + self.p_cells
            + self.p_selectors
            + self.p_transistors
    }
}

pub fn energy(arr: &Array) -> Energy {
    let mut e = Energy {
        t_read: arr.crossbar().t_read,
        ..Default::default()
    };
    let fc = arr.fixed_class_currents();
    e.p_sources = fc.iter().zip(&arr.fixed_v).map(|(i, v)| i * v).sum();
    let net = &arr.net;
    // Row wires, column wires, drivers, sense resistors.
    let [rw, cw, dr, se] = chunked_sum(net.res.len(), |k, p: &mut [f64; 4]| {
        let r = &net.res[k];
        let dv = arr.end_voltage(r.a) - arr.end_voltage(r.b);
        let slot = match r.kind {
            ResKind::RowWire => 0,
            ResKind::ColWire => 1,
            ResKind::Driver => 2,
            ResKind::Sense => 3,
        };
        p[slot] += r.g * dv * dv;
    });
    (e.p_row_wires, e.p_col_wires, e.p_drivers, e.p_sense) = (rw, cw, dr, se);
    [e.p_cells] = chunked_sum(net.cells.len(), |k, p: &mut [f64; 1]| {
        p[0] += arr.cell_voltage(k) * arr.cell_current(k);
    });
    [e.p_selectors] = chunked_sum(net.sels.len(), |k, p: &mut [f64; 1]| {
        let t = &net.sels[k];
        p[0] += (arr.end_voltage(t.a) - arr.end_voltage(t.b)) * arr.selector_current(k);
    });
    [e.p_transistors] = chunked_sum(net.mos.len(), |k, p: &mut [f64; 1]| {
        let t = &net.mos[k];
        let (vd, vs) = (arr.end_voltage(t.d), arr.end_voltage(t.s));
        // Channel, plus the bulk junctions' gmin (bulk grounded) on drain and source.
        p[0] += (vd - vs) * arr.mos_current(k) + GMIN_BULK * (vd * vd + vs * vs);
    });
    e.e_total = e.p_sources * e.t_read;
    e.e_wires = (e.p_row_wires + e.p_col_wires + e.p_drivers + e.p_sense) * e.t_read;
    e.e_cells = (e.p_cells + e.p_selectors + e.p_transistors) * e.t_read;
    e
}

/// Σ over elements 0..len of what `add(k, partial)` adds, for `N` sums at once: fixed chunks
/// of `ENERGY_CHUNK` elements summed in parallel, then the chunks' partial sums added in order,
/// so the result has the same bits on any number of threads.
fn chunked_sum<const N: usize>(len: usize, add: impl Fn(usize, &mut [f64; N]) + Sync) -> [f64; N] {
    const ENERGY_CHUNK: usize = 1 << 14;
    let part = |c: usize| {
        let mut p = [0.0; N];
        for k in c * ENERGY_CHUNK..((c + 1) * ENERGY_CHUNK).min(len) {
            add(k, &mut p);
        }
        p
    };
    let chunks = len.div_ceil(ENERGY_CHUNK);
    let parts: Vec<[f64; N]> = if chunks > 1 {
        (0..chunks).into_par_iter().map(part).collect()
    } else {
        (0..chunks).map(part).collect()
    };
    let mut total = [0.0; N];
    for p in &parts {
        for (t, x) in total.iter_mut().zip(p) {
            *t += x;
        }
    }
    total
}

/// Node voltages (V) and cell currents (A) per crosspoint, row-major `rows × phys_cols`.
#[derive(Clone, Debug, Default)]
pub struct NodeMap {
    pub rows: usize,
    pub cols: usize,
    pub v_row: Vec<f64>,
    pub v_col: Vec<f64>,
    /// Middle node (1S1R / 1T1R / 2T2R), empty for 0T1R.
    pub v_mid: Vec<f64>,
    pub v_cell: Vec<f64>,
    pub i_cell: Vec<f64>,
}

pub fn node_map(arr: &Array) -> NodeMap {
    let net = &arr.net;
    let (rows, cols) = (net.rows, net.pcols);
    let mut m = NodeMap {
        rows,
        cols,
        ..Default::default()
    };
    for i in 0..rows {
        for j in 0..cols {
            m.v_row.push(arr.raw_voltage(net.r(i, j)));
            m.v_col.push(arr.raw_voltage(net.c(i, j)));
            if net.k == 3 {
                m.v_mid.push(arr.raw_voltage(net.m(i, j)));
            }
            let idx = i * cols + j;
            m.v_cell.push(arr.cell_voltage(idx));
            m.i_cell.push(arr.cell_current(idx));
        }
    }
    m
}

impl NodeMap {
    /// CSV with one line per crosspoint: row, col, v_row_v, v_col_v, [v_mid_v,] v_cell_v, i_cell_a.
    pub fn to_csv(&self) -> String {
        let mid = !self.v_mid.is_empty();
        let mut s = String::from(if mid {
            "row,col,v_row_v,v_col_v,v_mid_v,v_cell_v,i_cell_a\n"
        } else {
            "row,col,v_row_v,v_col_v,v_cell_v,i_cell_a\n"
        });
        for i in 0..self.rows {
            for j in 0..self.cols {
                let k = i * self.cols + j;
                if mid {
                    s += &format!(
                        "{i},{j},{:.12e},{:.12e},{:.12e},{:.12e},{:.12e}\n",
                        self.v_row[k], self.v_col[k], self.v_mid[k], self.v_cell[k], self.i_cell[k]
                    );
                } else {
                    s += &format!(
                        "{i},{j},{:.12e},{:.12e},{:.12e},{:.12e}\n",
                        self.v_row[k], self.v_col[k], self.v_cell[k], self.i_cell[k]
                    );
                }
            }
        }
        s
    }
}
