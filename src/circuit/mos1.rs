//! MOSFET level 1 (Shichman-Hodges) with ngspice's MOS1 equations (placeholder until implemented).

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Mos1Model {}
