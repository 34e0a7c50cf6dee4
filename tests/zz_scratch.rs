use xbarsim::circuit::diode::*;
#[test]
fn scratch() {
    let mut m = DiodeModel::default();
    for (k, v) in [("is", 1e-14), ("n", 1.05), ("rs", 0.1), ("cjo", 10e-12), ("tt", 10e-9)] { m.set(k, v).unwrap(); }
    let t = m.at_temperature(1.0, 1.0, 300.15, 300.15);
    for vd in [-3.385, -1.0, -0.1, 0.0, 0.3, 0.5, 0.6, 0.7] {
        let e = eval(&t, vd, 1e-12);
        let h = 1e-6;
        let (a, b) = (eval(&t, vd + h, 1e-12), eval(&t, vd - h, 1e-12));
        println!("vd {vd}: id {:e} gd {:e} fd {:e} | q {:e} cap {:e} fd {:e}", e.id, e.gd, (a.id - b.id) / (2.0 * h), e.q, e.cap, (a.q - b.q) / (2.0 * h));
    }
}
