//! The engine against closed-form circuit solutions (no stored data).

use xbarsim::circuit::*;

fn divider() -> Circuit {
    let mut c = Circuit::new("divider");
    let (a, b) = (c.node("in"), c.node("out"));
    c.vsources.push(Source {
        name: "v1".into(),
        pos: a,
        neg: GROUND,
        dc: 3.0,
        wave: None,
    });
    c.resistors.push(Resistor {
        name: "r1".into(),
        a,
        b,
        r: 1e3,
    });
    c.resistors.push(Resistor {
        name: "r2".into(),
        a: b,
        b: GROUND,
        r: 2e3,
    });
    c
}

#[test]
fn resistive_divider_matches_ohms_law() {
    let mut sim = Simulator::new(divider()).unwrap();
    let rows = op(&mut sim).unwrap();
    let get = |n: &str| rows.iter().find(|r| r.0 == n).unwrap().1;
    assert!((get("v(out)") - 2.0).abs() < 1e-12);
    // ngspice sign: the source delivers 1 mA, so i(v1) = -1 mA.
    assert!((get("i(v1)") + 1e-3).abs() < 1e-15);
}

#[test]
fn floating_node_is_named() {
    let mut c = divider();
    let f = c.node("island");
    let g = c.node("island2");
    c.resistors.push(Resistor {
        name: "r3".into(),
        a: f,
        b: g,
        r: 1.0,
    });
    let e = Simulator::new(c).err().unwrap().to_string();
    assert!(e.contains("island") && e.contains("no DC path"), "{e}");
}

#[test]
fn loop_of_voltage_sources_is_named() {
    let mut c = divider();
    let a = c.find_node("in").unwrap();
    c.vsources.push(Source {
        name: "v2".into(),
        pos: a,
        neg: GROUND,
        dc: 1.0,
        wave: None,
    });
    let e = Simulator::new(c).err().unwrap().to_string();
    assert!(e.contains("v2") && e.contains("loop"), "{e}");
}

#[test]
fn rc_step_response_follows_exponential() {
    // V step 0 -> 1 V at t = 0+ (PWL with a 1 ns rise) into R = 1 kΩ, C = 1 µF: tau = 1 ms.
    let mut c = Circuit::new("rc");
    let (a, b) = (c.node("in"), c.node("out"));
    c.vsources.push(Source {
        name: "v1".into(),
        pos: a,
        neg: GROUND,
        dc: 0.0,
        wave: Some(Waveform::Pwl(vec![(0.0, 0.0), (1e-9, 1.0), (1.0, 1.0)])),
    });
    c.resistors.push(Resistor {
        name: "r1".into(),
        a,
        b,
        r: 1e3,
    });
    c.capacitors.push(Capacitor {
        name: "c1".into(),
        a: b,
        b: GROUND,
        c: 1e-6,
        ic: None,
    });
    c.options.reltol = 1e-6;
    let mut sim = Simulator::new(c).unwrap();
    let tab = transient(
        &mut sim,
        &TranSpec {
            tstep: 1e-4,
            tstop: 5e-3,
            tstart: 0.0,
            tmax: Some(2e-6),
            uic: false,
            output_times: None,
        },
    )
    .unwrap();
    let col = tab.columns.iter().position(|n| n == "v(out)").unwrap();
    assert_eq!(tab.rows.len(), 51);
    for r in &tab.rows[1..] {
        let t = r[0];
        let exact = 1.0 - (-(t - 0.5e-9) / 1e-3).exp();
        assert!(
            (r[col] - exact).abs() < 1e-5,
            "t={t} got {} want {exact}",
            r[col]
        );
    }
}

#[test]
fn lc_tank_oscillates_at_resonance() {
    // L = 1 mH, C = 1 µF, initial capacitor voltage 1 V (uic): v(t) = cos(t/sqrt(LC)).
    // Tolerance: two first-order start-up steps damp by ~(ωh)²/2 each; trapezoidal after.
    let mut c = Circuit::new("lc");
    let a = c.node("a");
    c.inductors.push(Inductor {
        name: "l1".into(),
        a,
        b: GROUND,
        l: 1e-3,
        ic: Some(0.0),
    });
    c.capacitors.push(Capacitor {
        name: "c1".into(),
        a,
        b: GROUND,
        c: 1e-6,
        ic: Some(1.0),
    });
    c.options.reltol = 1e-6;
    let mut sim = Simulator::new(c).unwrap();
    let tab = transient(
        &mut sim,
        &TranSpec {
            tstep: 1e-5,
            tstop: 4e-4,
            tstart: 0.0,
            tmax: Some(1e-7),
            uic: true,
            output_times: None,
        },
    )
    .unwrap();
    let w = 1.0 / (1e-3f64 * 1e-6).sqrt();
    for r in &tab.rows {
        let exact = (w * r[0]).cos();
        assert!(
            (r[1] - exact).abs() < 3e-5,
            "t={} got {} want {exact}",
            r[0],
            r[1]
        );
    }
}
