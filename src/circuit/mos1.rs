//! MOSFET level 1 (stub until the real model lands).

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Mos1Model {
    pub polarity: f64,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Mos1Temp {
    pub vt: f64,
    pub drain_conductance: f64,
    pub source_conductance: f64,
    pub source_vcrit: f64,
    pub drain_vcrit: f64,
    pub cgs_overlap: f64,
    pub cgd_overlap: f64,
    pub cgb_overlap: f64,
}

impl Mos1Temp {
    pub fn von_guess(&self, _m: &Mos1Model) -> f64 {
        0.0
    }
}

#[derive(Default)]
pub struct Mos1Eval {
    pub cdrain: f64,
    pub gm: f64,
    pub gds: f64,
    pub gmbs: f64,
    pub mode: f64,
    pub cbd: f64,
    pub gbd: f64,
    pub cbs: f64,
    pub gbs: f64,
    pub cgs: f64,
    pub cgd: f64,
    pub cgb: f64,
    pub qbd: f64,
    pub qbs: f64,
    pub capbd: f64,
    pub capbs: f64,
}

impl Mos1Model {
    #[allow(clippy::too_many_arguments)]
    pub fn at_temperature(&self, _w: f64, _l: f64, _ad: f64, _as: f64, _pd: f64, _ps: f64, _m: f64, _t: f64, _tn: f64) -> Mos1Temp {
        Mos1Temp::default()
    }
}

pub fn eval(_t: &Mos1Temp, _m: &Mos1Model, _vbs: f64, _vgs: f64, _vds: f64, _gmin: f64) -> Mos1Eval {
    unimplemented!()
}
pub fn fetlim(vnew: f64, _vold: f64, _vto: f64) -> f64 {
    vnew
}
pub fn limvds(vnew: f64, _vold: f64) -> f64 {
    vnew
}
