//! The digits MLP of `examples/mlp_digits.rs`: trained here, seeded; on arrays with ideal
//! wires and converters it is the floating-point network.

#[allow(dead_code)]
#[path = "../examples/mlp_digits.rs"]
mod mlp_digits;

use mlp_digits::*;

#[test]
fn float_accuracy_and_ideal_array_accuracy_agree() {
    let d = load_digits().unwrap();
    assert_eq!((d.x.len(), d.y.len()), (1797, 1797));
    let (tr, te) = split(d.x.len(), 1);
    assert_eq!((tr.len(), te.len()), (1257, 540));
    let mlp = train(&d, &tr, 1);
    let x_te: Vec<Vec<f64>> = te.iter().map(|&s| d.x[s].clone()).collect();
    let x_cal: Vec<Vec<f64>> = tr[..64].iter().map(|&s| d.x[s].clone()).collect();
    let float: Vec<usize> = x_te.iter().map(|x| mlp.predict(x)).collect();
    let acc = float
        .iter()
        .zip(&te)
        .filter(|(p, &s)| **p == d.y[s])
        .count() as f64
        / 540.0;
    // A 64-32-10 MLP reaches ~96–98 % on this split; far lower means training is broken.
    assert!(acc > 0.93, "float accuracy {acc}");
    // Ideal wires, no DAC/ADC quantisation, no device effects; tiles of 16 so both layers span
    // several arrays with digital partial sums.
    let ideal = template(0.0, 0, 0, 7);
    let on_arrays = mlp.predict_on_arrays(&ideal, 16, &x_te, &x_cal).unwrap();
    assert_eq!(on_arrays, float, "every test prediction identical");
    // Same seed, same network, bit for bit.
    let again = train(&d, &tr, 1);
    assert_eq!(again.w1, mlp.w1);
}
