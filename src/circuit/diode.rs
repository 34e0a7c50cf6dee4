//! Junction diode with ngspice's DIO equations (stub until the real model lands).

#[derive(Clone, Debug, PartialEq, Default)]
pub struct DiodeModel {}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct DiodeTemp {
    pub vt: f64,
    pub vcrit: f64,
    pub gspr: f64,
}

pub struct DiodeEval {
    pub id: f64,
    pub gd: f64,
    pub q: f64,
    pub cap: f64,
}

impl DiodeModel {
    pub fn at_temperature(&self, _area: f64, _m: f64, _t: f64, _tnom: f64) -> DiodeTemp {
        DiodeTemp::default()
    }
}

pub fn eval(_t: &DiodeTemp, _vd: f64, _gmin: f64) -> DiodeEval {
    unimplemented!()
}

pub fn pnjlim(vnew: f64, _vold: f64, _vt: f64, _vcrit: f64) -> (f64, bool) {
    (vnew, false)
}
