//! The crate-level API: re-exports, one `Error`, and an `Array` whose description cannot go
//! stale behind its cached factorisation.

use xbarsim::crossbar::mvm_bound;
use xbarsim::{mvm, Array, Bias, Crossbar};

fn wired(rows: usize, cols: usize) -> Crossbar {
    let mut xb = Crossbar::new(rows, cols);
    xb.r_row = 2.0;
    xb.r_col = 3.0;
    xb.r_driver = 10.0;
    xb.g = (0..rows * cols)
        .map(|k| 1e-6 + 1e-4 * ((k * 7919) % 13) as f64 / 12.0)
        .collect();
    xb
}

fn inputs(rows: usize) -> Vec<Vec<f64>> {
    vec![(0..rows).map(|i| (i + 1) as f64 / rows as f64).collect()]
}

#[test]
fn changing_conductances_through_set_crossbar_refactorises() {
    let xb = wired(6, 5);
    let x = inputs(6);
    let mut arr = Array::bind(&xb, &Bias::mvm(&xb, &[0.0; 6])).unwrap();
    let before = mvm_bound(&mut arr, &x).unwrap();

    let mut changed = xb.clone();
    for g in &mut changed.g {
        *g = 1.1e-4 - *g;
    }
    arr.set_crossbar(changed.clone()).unwrap();
    let after = mvm_bound(&mut arr, &x).unwrap();
    let fresh = mvm(&changed, &x).unwrap();
    assert_ne!(
        before.analog, after.analog,
        "the new conductances must change the currents"
    );
    assert_eq!(
        after.analog, fresh.analog,
        "a reused array must equal a freshly bound one"
    );
    assert_eq!(arr.crossbar(), &changed);
}

#[test]
fn changing_the_geometry_through_set_crossbar_rebinds() {
    let xb = wired(4, 4);
    let mut arr = Array::bind(&xb, &Bias::mvm(&xb, &[0.0; 4])).unwrap();
    mvm_bound(&mut arr, &inputs(4)).unwrap();
    let mut changed = xb.clone();
    changed.r_row = 50.0; // wire resistances live in the bound matrix
    arr.set_crossbar(changed.clone()).unwrap();
    let after = mvm_bound(&mut arr, &inputs(4)).unwrap();
    assert_eq!(after.analog, mvm(&changed, &inputs(4)).unwrap().analog);
}

#[test]
fn an_invalid_description_is_refused_and_the_array_keeps_working() {
    let xb = wired(3, 3);
    let mut arr = Array::bind(&xb, &Bias::mvm(&xb, &[0.0; 3])).unwrap();
    let mut bad = xb.clone();
    bad.g.pop();
    assert!(arr.set_crossbar(bad).is_err());
    assert_eq!(arr.crossbar(), &xb);
    assert_eq!(
        mvm_bound(&mut arr, &inputs(3)).unwrap().analog,
        mvm(&xb, &inputs(3)).unwrap().analog
    );
}

#[test]
fn every_layer_error_converts_into_the_crate_error_keeping_its_message() {
    fn netlist() -> xbarsim::Result<()> {
        xbarsim::spice::parse_str("t\nR1 a 0 notanumber\n.op\n.end\n", None)?;
        Ok(())
    }
    fn config() -> xbarsim::Result<()> {
        Crossbar::from_toml_file("/nonexistent/xb.toml")?;
        Ok(())
    }
    let e = netlist().unwrap_err();
    assert!(matches!(e, xbarsim::Error::Netlist(_)), "{e:?}");
    assert!(e.to_string().starts_with("<netlist>:2:"), "{e}");
    let e = config().unwrap_err();
    assert!(matches!(e, xbarsim::Error::Crossbar(_)), "{e:?}");
    assert!(e.to_string().contains("/nonexistent/xb.toml"), "{e}");
}

#[test]
fn the_readme_rust_snippet_is_a_doctest_in_the_crate_docs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = &readme[readme
        .find("## Using the library from Rust")
        .expect("README section")..];
    let start = section.find("```rust\n").expect("a ```rust block") + "```rust\n".len();
    let block = &section[start..start + section[start..].find("```\n").unwrap()];
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let docs: String = lib
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| format!("{}\n", l.strip_prefix(' ').unwrap_or(l)))
        .collect();
    assert!(
        docs.contains(block),
        "the README's Rust snippet must appear verbatim in src/lib.rs's docs (where it runs as a doctest)"
    );
}
