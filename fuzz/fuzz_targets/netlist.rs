//! Netlist text -> parse + bind + one `.op`. Any error is fine; a panic, an abort, or an
//! operating point reported with a non-finite value is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xbarsim::circuit::Simulator;

fuzz_target!(|data: &[u8]| {
    // Cap: a few hundred elements' worth of text.
    if data.len() > 16 * 1024 {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(circuit) = xbarsim::spice::parse_str(text, None) else {
        return;
    };
    let elements = circuit.resistors.len()
        + circuit.capacitors.len()
        + circuit.inductors.len()
        + circuit.vsources.len()
        + circuit.isources.len()
        + circuit.vcvs.len()
        + circuit.vccs.len()
        + circuit.diodes.len()
        + circuit.mosfets.len()
        + circuit.behavioural.len()
        + circuit.memcells.len();
    if elements > 400 || circuit.num_nodes() > 400 {
        return;
    }
    let Ok(mut sim) = Simulator::new(circuit) else {
        return;
    };
    if let Ok(rows) = xbarsim::circuit::op(&mut sim) {
        for (name, v) in rows {
            assert!(v.is_finite(), ".op reported {name} = {v} as a result");
        }
    }
});
