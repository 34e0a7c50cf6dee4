//! Converters and periphery as parts: the ADC's static and dynamic errors, how its range is
//! calibrated, and energy / latency / area of the converters and sense amplifiers.
//!
//! **ADC transfer** (on the ideal code axis x = I/I_fs·L, L = 2^bits − 1, or 2^(bits−1) − 1
//! signed): x' = (1 + gain_error)·x + offset + INL(x) + noise·N(0,1), then rounding at
//! transition levels k − ½ + d_k. INL is the classic second-order bow
//! INL(u) = 4·inl·u·(1 − u) over the input span u ∈ [0, 1] (zero at both ends, `inl_lsb` at
//! mid-scale); d_k are independent N(0, `dnl_lsb`) shifts of each transition level drawn once
//! per converter (seeded), so DNL_k = d_(k+1) − d_k. Offsets, INL, DNL and noise are in LSB.
//! One converter model is shared by every column (per-column mismatch is not modelled).
//!
//! **Calibration**: `range = "max"` / `"percentile"` take the full scale from the batch being
//! converted (it sees the answer); with `calibration_vectors = N` it comes instead from N
//! separate seeded random input vectors (uniform in [0, 1]) solved on the same array before the
//! evaluated batch. `MvmReport::adc_calibration` says which was used.
//!
//! **Energy, latency, area** (reported beside the array's circuit energy, never mixed in it):
//! - ADC energy per conversion from a figure of merit, ENOB = bits:
//!   - Walden (default): E = FOM_W·2^ENOB (R. H. Walden, IEEE JSAC 17(4), 539 (1999)); default
//!     FOM_W = 10 fJ/conversion-step, a value typical of SAR converters in B. Murmann's ADC
//!     Performance Survey 1997–2024 (many designs lie between 1 and 100 fJ/step);
//!   - Schreier (`fom = "schreier"`): FOM_S = SNDR + 10·log10(BW/P) (dB), SNDR = 6.02·ENOB +
//!     1.76 dB, Nyquist BW = f_s/2, so E = P/f_s = ½·10^((SNDR − FOM_S)/10) (R. Schreier,
//!     G. C. Temes, *Understanding Delta-Sigma Data Converters*, Wiley 2005; the FOM of Murmann's
//!     survey); default FOM_S = 170 dB, mid-range of the survey's designs (its envelope is
//!     ≈ 185 dB);
//! - ADC conversion time 1/f_s (`adc_sample_rate_hz`, default 100 MS/s), with
//!   `columns_per_adc` columns sharing one converter in time;
//! - DAC: a binary-weighted capacitive DAC per word line, b bits (1 for a bit-serial driver),
//!   unit capacitor C_u: the reference supplies at most E = 2^b·C_u·V² per conversion to charge
//!   its array to V = v_read (the supply energy of charging a capacitance C to V is C·V², half of
//!   it dissipated; the worst-case code of the switching-energy analysis of J. L. McCreary,
//!   P. R. Gray, IEEE JSSC 10(6), 371 (1975) and M. Saberi et al., IEEE TCAS-I 58(8), 1736
//!   (2011)). Default C_u = 1 fF, near the matching-limited unit capacitor of such DACs; its
//!   area is 2^b·C_u / (capacitance density), default 2 fF/µm² (a MOM/MIM capacitor);
//!   `periphery.dac_energy_j` replaces the model with a fixed energy;
//! - sense amplifier: a StrongARM latch per bit line and read, whose nodes charge and discharge
//!   once per decision: E = C_SA·V_DD² (B. Razavi, "The StrongARM latch", IEEE Solid-State
//!   Circuits Mag. 7(2), 12 (2015)); default C_SA = 10 fF, V_DD = 1 V (10 fJ per decision, an
//!   assumed order of magnitude, not a measured design); `periphery.sense_energy_j` replaces it;
//! - areas of the ADC (`adc_area_per_step_m2`·2^bits) and sense amplifier are user
//!   coefficients (default 0: not modelled).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

const SALT_DNL: u64 = 0x6164_635f_646e_6c5f;
const SALT_NOISE: u64 = 0x6164_635f_6e6f_6973;
pub(crate) const SALT_CAL: u64 = 0x6164_635f_6361_6c69;

/// Figure of merit the ADC energy is computed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdcFom {
    Walden,
    Schreier,
}

/// ADC errors, calibration and the converter cost models (config table `[adc]` and
/// `[periphery]`). The default is today's ideal converter with Walden energy.
#[derive(Clone, Debug, PartialEq)]
pub struct Converters {
    /// Peak INL of the second-order bow (LSB).
    pub inl_lsb: f64,
    /// σ of the transition-level shifts (LSB).
    pub dnl_lsb: f64,
    /// Offset (LSB).
    pub offset_lsb: f64,
    /// Relative gain error.
    pub gain_error: f64,
    /// Input-referred RMS noise (LSB).
    pub noise_lsb: f64,
    /// Random input vectors of the separate calibration batch (0 = the evaluated batch).
    pub calibration_vectors: usize,
    /// Which figure of merit sets the ADC energy.
    pub fom: AdcFom,
    /// Walden figure of merit (J per conversion step).
    pub fom_walden_j: f64,
    /// Schreier figure of merit (dB).
    pub fom_schreier_db: f64,
    /// ADC sample rate (Hz).
    pub adc_sample_rate_hz: f64,
    /// Columns sharing one ADC.
    pub columns_per_adc: usize,
    /// ADC area per conversion step (m²); 0 = not modelled.
    pub adc_area_per_step_m2: f64,
    /// Unit capacitor of the capacitive DAC (F).
    pub dac_unit_cap_f: f64,
    /// Capacitance density of the DAC's capacitors (F/m²).
    pub dac_cap_density_f_per_m2: f64,
    /// Fixed DAC energy per conversion (J), per driven word line and read, replacing the model.
    pub dac_energy_j: Option<f64>,
    /// Fixed DAC area per word line (m²), replacing the model.
    pub dac_area_m2: Option<f64>,
    /// Switched capacitance of the StrongARM sense amplifier (F) and its supply (V).
    pub sense_cap_f: f64,
    pub sense_vdd: f64,
    /// Fixed sense-amplifier energy per bit line and read (J), replacing the model.
    pub sense_energy_j: Option<f64>,
    /// Sense-amplifier area per bit line (m²).
    pub sense_area_m2: f64,
}

impl Default for Converters {
    fn default() -> Self {
        Converters {
            inl_lsb: 0.0,
            dnl_lsb: 0.0,
            offset_lsb: 0.0,
            gain_error: 0.0,
            noise_lsb: 0.0,
            calibration_vectors: 0,
            fom: AdcFom::Walden,
            fom_walden_j: 10e-15,
            fom_schreier_db: 170.0,
            adc_sample_rate_hz: 100e6,
            columns_per_adc: 1,
            adc_area_per_step_m2: 0.0,
            dac_unit_cap_f: 1e-15,
            dac_cap_density_f_per_m2: 2e-3,
            dac_energy_j: None,
            dac_area_m2: None,
            sense_cap_f: 10e-15,
            sense_vdd: 1.0,
            sense_energy_j: None,
            sense_area_m2: 0.0,
        }
    }
}

impl Converters {
    /// Checks ranges; the error is (key, message).
    pub fn validate(&self) -> Result<(), (String, String)> {
        for (k, v) in [
            ("adc.inl_lsb", self.inl_lsb),
            ("adc.offset_lsb", self.offset_lsb),
            ("adc.gain_error", self.gain_error),
        ] {
            if !v.is_finite() {
                return Err((k.into(), format!("must be finite, got {v}")));
            }
        }
        for (k, v) in [
            ("adc.dnl_lsb", self.dnl_lsb),
            ("adc.noise_lsb", self.noise_lsb),
            ("adc.fom_walden_j", self.fom_walden_j),
            ("adc.area_per_step_m2", self.adc_area_per_step_m2),
            ("adc.fom_schreier_db", self.fom_schreier_db),
            ("periphery.dac_unit_cap_f", self.dac_unit_cap_f),
            ("periphery.dac_energy_j", self.dac_energy_j.unwrap_or(0.0)),
            ("periphery.dac_area_m2", self.dac_area_m2.unwrap_or(0.0)),
            ("periphery.sense_cap_f", self.sense_cap_f),
            ("periphery.sense_vdd", self.sense_vdd),
            (
                "periphery.sense_energy_j",
                self.sense_energy_j.unwrap_or(0.0),
            ),
            ("periphery.sense_area_m2", self.sense_area_m2),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err((k.into(), format!("must be finite and ≥ 0, got {v}")));
            }
        }
        if !(self.adc_sample_rate_hz > 0.0 && self.adc_sample_rate_hz.is_finite()) {
            return Err(("adc.sample_rate_hz".into(), "must be > 0 Hz".into()));
        }
        if !(self.dac_cap_density_f_per_m2 > 0.0 && self.dac_cap_density_f_per_m2.is_finite()) {
            return Err((
                "periphery.dac_cap_density_f_per_m2".into(),
                "must be > 0 F/m²".into(),
            ));
        }
        if self.columns_per_adc == 0 {
            return Err(("adc.columns_per_adc".into(), "must be at least 1".into()));
        }
        if self.gain_error <= -1.0 {
            return Err(("adc.gain_error".into(), "must be > −1".into()));
        }
        Ok(())
    }

    /// True when the converter adds no error to the ideal quantiser.
    pub fn is_ideal(&self) -> bool {
        self.inl_lsb == 0.0
            && self.dnl_lsb == 0.0
            && self.offset_lsb == 0.0
            && self.gain_error == 0.0
            && self.noise_lsb == 0.0
    }

    /// Energy of one ADC conversion at `bits` (J) from the chosen figure of merit.
    pub fn adc_energy_per_conversion(&self, bits: u32) -> f64 {
        if bits == 0 {
            return 0.0;
        }
        match self.fom {
            AdcFom::Walden => self.fom_walden_j * 2f64.powi(bits as i32),
            AdcFom::Schreier => {
                let sndr_db = 6.02 * bits as f64 + 1.76;
                0.5 * 10f64.powf((sndr_db - self.fom_schreier_db) / 10.0)
            }
        }
    }

    /// Energy of one `bits`-bit DAC conversion to `v` (J): 2^b·C_u·V², or the fixed energy.
    pub fn dac_energy_per_conversion(&self, bits: u32, v: f64) -> f64 {
        match self.dac_energy_j {
            Some(e) => e,
            None if bits == 0 => 0.0,
            None => 2f64.powi(bits as i32) * self.dac_unit_cap_f * v * v,
        }
    }

    /// Area of one `bits`-bit DAC (m²): its capacitors at the capacitance density.
    pub fn dac_area(&self, bits: u32) -> f64 {
        match self.dac_area_m2 {
            Some(a) => a,
            None if bits == 0 => 0.0,
            None => 2f64.powi(bits as i32) * self.dac_unit_cap_f / self.dac_cap_density_f_per_m2,
        }
    }

    /// Energy of one sense-amplifier decision (J): C_SA·V_DD², or the fixed energy.
    pub fn sense_energy_per_decision(&self) -> f64 {
        self.sense_energy_j
            .unwrap_or(self.sense_cap_f * self.sense_vdd * self.sense_vdd)
    }
}

/// A converter instance: the static transition shifts and a noise stream.
pub struct AdcInstance<'a> {
    conv: &'a Converters,
    /// Codes lo..=hi.
    lo: i64,
    hi: i64,
    /// d_k for the transition between k − 1 and k, index k − lo (empty without DNL).
    shifts: Vec<f64>,
    noise: ChaCha8Rng,
}

impl<'a> AdcInstance<'a> {
    /// A converter with codes `lo..=hi`, its DNL drawn from `seed`.
    pub fn new(conv: &'a Converters, lo: i64, hi: i64, seed: u64) -> Self {
        let shifts = if conv.dnl_lsb > 0.0 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ SALT_DNL);
            let mut d: Vec<f64> = (lo..=hi + 1)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    conv.dnl_lsb * z
                })
                .collect();
            // Transition levels stay monotone: a level that would fall below the previous one
            // sits on it (a missing code, DNL = −1), as in a converter without bubbles.
            for k in 1..d.len() {
                d[k] = d[k].max(d[k - 1] - 1.0);
            }
            d
        } else {
            Vec::new()
        };
        AdcInstance {
            conv,
            lo,
            hi,
            shifts,
            noise: ChaCha8Rng::seed_from_u64(seed ^ SALT_NOISE),
        }
    }

    /// Code of ideal code-axis value `x` (LSB), clamped to lo..=hi. An ideal converter
    /// returns `x.round()` clamped.
    pub fn convert(&mut self, x: f64) -> i64 {
        let c = self.conv;
        let span = (self.hi - self.lo) as f64;
        let u = if span > 0.0 {
            ((x - self.lo as f64) / span).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let mut y = (1.0 + c.gain_error) * x + c.offset_lsb + 4.0 * c.inl_lsb * u * (1.0 - u);
        if c.noise_lsb > 0.0 {
            let z: f64 = StandardNormal.sample(&mut self.noise);
            y += c.noise_lsb * z;
        }
        let mut k = (y.round() as i64).clamp(self.lo, self.hi);
        if !self.shifts.is_empty() {
            let d = |k: i64| self.shifts[(k - self.lo) as usize];
            // Walk to the code whose transition levels bracket y.
            while k > self.lo && y < k as f64 - 0.5 + d(k) {
                k -= 1;
            }
            while k < self.hi && y >= k as f64 + 0.5 + d(k + 1) {
                k += 1;
            }
        }
        k
    }
}

/// Converter cost of one batch of multiplies.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PeripheryCost {
    /// ADC conversions (all columns, all bit planes).
    pub adc_conversions: usize,
    /// J
    pub e_adc: f64,
    pub e_dac: f64,
    pub e_sense: f64,
    /// Latency of one multiply (s): per bit plane, the read pulse plus the conversions of the
    /// columns that share an ADC.
    pub latency_per_mvm: f64,
    /// m²
    pub area_adc: f64,
    pub area_dac: f64,
    pub area_sense: f64,
}

impl PeripheryCost {
    /// Cost of `vectors` multiplies of `planes` reads each on `rows` word lines and `bit_lines`
    /// bit lines, with `cols` ADC outputs per read (`adc_bits` = 0: no ADC), word lines driven
    /// by `dac_bits`-bit DACs (0: ideal sources, no DAC) to `v_read`.
    #[allow(clippy::too_many_arguments)]
    pub fn of(
        conv: &Converters,
        vectors: usize,
        planes: usize,
        rows: usize,
        bit_lines: usize,
        cols: usize,
        adc_bits: u32,
        dac_bits: u32,
        v_read: f64,
        t_read: f64,
    ) -> PeripheryCost {
        let reads = vectors * planes;
        let adc_conversions = if adc_bits > 0 { reads * cols } else { 0 };
        let n_adc = cols.div_ceil(conv.columns_per_adc);
        let t_conv = if adc_bits > 0 {
            conv.columns_per_adc as f64 / conv.adc_sample_rate_hz
        } else {
            0.0
        };
        PeripheryCost {
            adc_conversions,
            e_adc: adc_conversions as f64 * conv.adc_energy_per_conversion(adc_bits),
            e_dac: (reads * rows) as f64 * conv.dac_energy_per_conversion(dac_bits, v_read),
            e_sense: (reads * bit_lines) as f64 * conv.sense_energy_per_decision(),
            latency_per_mvm: planes as f64 * (t_read + t_conv),
            area_adc: if adc_bits > 0 {
                n_adc as f64 * conv.adc_area_per_step_m2 * 2f64.powi(adc_bits as i32)
            } else {
                0.0
            },
            area_dac: rows as f64 * conv.dac_area(dac_bits),
            area_sense: bit_lines as f64 * conv.sense_area_m2,
        }
    }

    pub fn e_total(&self) -> f64 {
        self.e_adc + self.e_dac + self.e_sense
    }

    /// Adds the cost of another array working in parallel with this one: conversions,
    /// energies and areas add, the latency is the longer of the two.
    pub fn add_side_by_side(&mut self, o: &PeripheryCost) {
        self.adc_conversions += o.adc_conversions;
        self.e_adc += o.e_adc;
        self.e_dac += o.e_dac;
        self.e_sense += o.e_sense;
        self.latency_per_mvm = self.latency_per_mvm.max(o.latency_per_mvm);
        self.area_adc += o.area_adc;
        self.area_dac += o.area_dac;
        self.area_sense += o.area_sense;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ideal_converter_rounds() {
        let c = Converters::default();
        let mut a = AdcInstance::new(&c, 0, 15, 1);
        for &(x, k) in &[
            (0.2, 0),
            (0.6, 1),
            (7.49, 7),
            (14.6, 15),
            (20.0, 15),
            (-3.0, 0),
        ] {
            assert_eq!(a.convert(x), k);
        }
    }

    #[test]
    fn dnl_converter_counts_the_transition_levels_below_its_input() {
        // Definition of a quantiser with transition levels t_k = k − ½ + d_k (k = 1..=hi,
        // monotone): code = #{k : y ≥ t_k}. Checked by brute force on a fine sweep.
        let c = Converters {
            dnl_lsb: 0.4,
            ..Default::default()
        };
        let mut a = AdcInstance::new(&c, 0, 63, 7);
        let d = a.shifts.clone();
        assert!(d.windows(2).all(|w| w[1] >= w[0] - 1.0), "monotone levels");
        let mut missing = 0;
        for k in 1..63 {
            missing += usize::from(d[k + 1] + 1.0 <= d[k]);
        }
        assert!(
            missing > 0,
            "σ = 0.4 LSB leaves some missing codes to exercise"
        );
        for step in 0..64_000 {
            let y = -1.0 + step as f64 * 1e-3 + 1.234e-7;
            let brute = (1..=63).filter(|&k| y >= k as f64 - 0.5 + d[k]).count() as i64;
            assert_eq!(a.convert(y), brute, "y = {y}");
        }
    }
}
