//! The project's main job: every figure and CSV into `notebooks-out/`.
//!
//! `cargo run --release --example figures` runs the device figures (I-V loops per family, PCM
//! drift, MTJ switching probability, potentiation/depression) and the crossbar dot-product
//! error study (error vs array size, vs ADC bits, IR-drop heat map) and the wire-resistivity
//! sweep (`examples/configs/sweep_wire_resistivity.toml`), and the digits MLP's accuracy on
//! the arrays (`mlp_digits.rs`).

#[path = "device_figures.rs"]
mod device_figures;
#[path = "dot_product_error_vs_size.rs"]
mod dot_product_error_vs_size;
#[path = "fit_figures.rs"]
mod fit_figures;
#[path = "mlp_digits.rs"]
mod mlp_digits;
#[path = "programming_figures.rs"]
mod programming_figures;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let t = std::time::Instant::now();
    device_figures::main()?;
    eprintln!("device figures done in {:.1} s", t.elapsed().as_secs_f64());
    let t = std::time::Instant::now();
    dot_product_error_vs_size::main()?;
    let sweep = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/configs/sweep_wire_resistivity.toml");
    println!("{}", xbarsim::app::sweep::sweep_command(&sweep)?);
    eprintln!(
        "dot-product study done in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    mlp_digits::main()?;
    fit_figures::main()?;
    programming_figures::main()?;
    Ok(())
}
