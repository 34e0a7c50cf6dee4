//! Junction diode with ngspice's DIO equations (placeholder until implemented).

#[derive(Clone, Debug, PartialEq, Default)]
pub struct DiodeModel {}
