//! Bind / first solve / warm solve times of the structured solver, per array size and cell
//! type (sinh cells, 1 Ω segments, all inputs at V_read). Run with an optimised xbarsim, e.g.
//! `CARGO_PROFILE_DEV_OPT_LEVEL=2 cargo run --example crossbar_timing -- 64,128,256`
//! (faer's generic kernels are instantiated in this crate, so its opt-level matters).
//! `XBAR_METHOD=direct|condensed|iterative` forces a solver path (default: `Method::Auto`).
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use xbarsim::crossbar::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sizes: Vec<usize> = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "32,64,128".into())
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    println!("cell,n,unknowns,bind_s,first_solve_s,newton_iterations,krylov_iterations,factorizations,warm_solve_s,warm_krylov");
    for cell in [CellKind::ZeroT1R, CellKind::OneT1R] {
        for &n in &sizes {
            let mut xb = Crossbar::new(n, n);
            xb.cell = cell;
            xb.law = CellLaw::Sinh { v0: 0.25 };
            xb.r_row = 1.0;
            xb.r_col = 1.0;
            if cell.has_transistor() {
                xb.transistor = Some(Mos1 {
                    vto: 0.4,
                    kp: 3e-4,
                    lambda: 0.0,
                    w: 0.5e-6,
                    l: 0.1e-6,
                });
                xb.v_gate = 1.2;
            }
            xb.random_weights(&mut ChaCha8Rng::seed_from_u64(1));
            let t = std::time::Instant::now();
            let mut arr = Array::bind(&xb, &Bias::mvm(&xb, &vec![xb.v_read; n]))?;
            arr.method = match std::env::var("XBAR_METHOD").as_deref() {
                Ok("direct") => Method::Direct,
                Ok("condensed") => Method::Condensed,
                Ok("iterative") => Method::Iterative,
                _ => Method::Auto,
            };
            let tb = t.elapsed().as_secs_f64();
            arr.solve()?;
            let it = arr.last_iterations;
            let (kr, nf) = (arr.last_krylov_iterations, arr.last_factorizations);
            let ts = t.elapsed().as_secs_f64() - tb;
            arr.set_bias(&Bias::mvm(&xb, &vec![0.9 * xb.v_read; n]))?;
            arr.solve()?;
            let tw = t.elapsed().as_secs_f64() - tb - ts;
            println!(
                "{},{n},{},{tb:.3},{ts:.3},{it},{kr},{nf},{tw:.3},{}",
                cell.name(),
                arr.net().n_free,
                arr.last_krylov_iterations
            );
        }
    }
    Ok(())
}
