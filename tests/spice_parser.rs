//! Parser features beyond the conformance decks: parameters, options, dialect details.

use xbarsim::circuit::{Analysis, BehaviouralKind, IntegrationMethod, Waveform, GROUND};
use xbarsim::spice::expr::Compiled;
use xbarsim::spice::{parse_str, parse_str_full};

#[test]
fn compiled_is_shareable() {
    fn check<T: Clone + std::fmt::Debug + Send + Sync>() {}
    check::<Compiled>();
}

#[test]
fn case_ground_suffixes_and_comments() {
    let c = parse_str(
        "title line\n\
         * comment\n\
         R1 A GND 10kOhm $ inline comment\n\
         r2 a b 1Meg ; another\n\
         R3 b 0 2mil\n\
         C1 b 0 1µ\n\
         .END\n",
        None,
    )
    .unwrap();
    assert_eq!(c.title, "title line");
    assert_eq!(c.resistors[0].b, GROUND);
    assert_eq!(c.resistors[0].r, 1e4);
    assert_eq!(c.resistors[1].r, 1e6);
    assert!((c.resistors[2].r - 2.0 * 25.4e-6).abs() < 1e-18);
    assert_eq!(c.capacitors[0].c, 1e-6);
    assert_eq!(
        c.resistors[0].a, c.resistors[1].a,
        "node names are case-insensitive"
    );
    assert_eq!(c.node_name(c.resistors[0].a), "a");
}

#[test]
fn subckt_params_keyword_and_expressions() {
    let c = parse_str(
        "t\n\
         .param base=2\n\
         .SUBCKT cell a b PARAMS: r0=1k g=2\n\
         R1 a mid {r0*base}\n\
         E1 mid 0 a b 'g+1'\n\
         .ENDS cell\n\
         X1 in 0 cell params: r0=3k\n\
         X2 in 0 cell g=5\n\
         V1 in 0 dc=1\n\
         .op\n",
        None,
    )
    .unwrap();
    let r = |n: &str| c.resistors.iter().find(|r| r.name == n).unwrap().r;
    assert_eq!(r("r.x1.r1"), 6e3);
    assert_eq!(r("r.x2.r1"), 2e3);
    let e = |n: &str| c.vcvs.iter().find(|e| e.name == n).unwrap().gain;
    assert_eq!(e("e.x1.e1"), 3.0);
    assert_eq!(e("e.x2.e1"), 6.0);
    assert_eq!(c.vsources[0].dc, 1.0);
    assert!(c.find_node("x1.mid").is_some() && c.find_node("x2.mid").is_some());
}

#[test]
fn options_temp_ic_and_analyses() {
    let p = parse_str_full(
        "t\n\
         R1 a 0 1\n\
         C1 a 0 1n ic=0.5\n\
         I1 0 a sin(0 1m 1k 0 0 90)\n\
         .options reltol=1e-4 abstol=1p vntol=1u gmin=1e-15 itl1=50 itl4=20 method=gear maxord=1 tnom=25\n\
         .option interp\n\
         .temp 85\n\
         .ic v(a)=0.25\n\
         .tran 1n 1u 0 10n uic\n\
         .dc i1 0 1m 0.1m\n",
        None,
    )
    .unwrap();
    let c = &p.circuit;
    let o = &c.options;
    assert_eq!(
        (o.reltol, o.abstol, o.vntol, o.gmin, o.itl1, o.itl4),
        (1e-4, 1e-12, 1e-6, 1e-15, 50, 20)
    );
    assert_eq!(o.method, IntegrationMethod::BackwardEuler);
    assert!((o.temp - (85.0 + 273.15)).abs() < 1e-12);
    assert!((o.tnom - (25.0 + 273.15)).abs() < 1e-12);
    assert_eq!(
        p.initial_conditions,
        vec![(c.find_node("a").unwrap(), 0.25)]
    );
    assert!(p.warnings.iter().any(|w| w.contains("'interp' ignored")));
    assert_eq!(
        c.analyses[0],
        Analysis::Tran {
            tstep: 1e-9,
            tstop: 1e-6,
            tstart: 0.0,
            tmax: Some(1e-8),
            uic: true
        }
    );
    // SIN without DC: the t = 0 value vo + va·sin(phase) = 1 mA is the .op value.
    assert!((c.isources[0].dc - 1e-3).abs() < 1e-15);
    assert!(matches!(c.isources[0].wave, Some(Waveform::Sin { phase: Some(p), .. }) if p == 90.0));
    assert!(matches!(&c.analyses[1], Analysis::Dc { inner, outer: None } if inner.source == "i1"));
    assert_eq!(c.capacitors[0].ic, Some(0.5));
}

#[test]
fn gear_of_higher_order_is_refused() {
    let e = parse_str("t\nR1 a 0 1\n.options method=gear\n", None).unwrap_err();
    assert!(e.message.contains("unsupported integration method"), "{e}");
}

#[test]
fn behavioural_forms() {
    let c = parse_str(
        "t\n.param k=2\nB1 a 0 V={k*v(b)}\nB2 b 0 I='time*k'\nB3 c 0 v = v(a, b) + 1\nR1 a 0 1\n",
        None,
    )
    .unwrap();
    assert_eq!(c.behavioural[0].kind, BehaviouralKind::Voltage);
    assert_eq!(c.behavioural[1].kind, BehaviouralKind::Current);
    assert!(c.behavioural[1].expr.uses_time());
    assert_eq!(c.behavioural[1].expr.eval(&[], 3.0, &mut []), 6.0);
    let b3 = &c.behavioural[2].expr;
    let mut g = [0.0; 2];
    assert_eq!(b3.eval(&[2.0, 0.5], 0.0, &mut g), 2.5);
    assert_eq!(g, [1.0, -1.0]);
}

#[test]
fn ac_spec_is_ignored_with_a_warning() {
    let p = parse_str_full("t\nV1 a 0 DC 1 AC 1 0\nR1 a 0 1\n", None).unwrap();
    assert_eq!(p.circuit.vsources[0].dc, 1.0);
    assert!(p
        .warnings
        .iter()
        .any(|w| w.contains("AC specification ignored")));
}

#[test]
fn source_forms() {
    let c = parse_str(
        "t\nV1 a 0 PULSE(0 1 1n 1n 1n 5n 10n)\nV2 b 0 pwl 0 0 1u 1\nV3 c 0 -2.5\nR1 a 0 1\n",
        None,
    )
    .unwrap();
    assert!(matches!(c.vsources[0].wave, Some(Waveform::Pulse { per: Some(p), .. }) if p == 10e-9));
    assert_eq!(
        c.vsources[1].wave,
        Some(Waveform::Pwl(vec![(0.0, 0.0), (1e-6, 1.0)]))
    );
    assert_eq!(c.vsources[2].dc, -2.5);
}
