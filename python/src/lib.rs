//! `xbarsim._xbarsim`: the compiled half of the Python package. Every function here is a thin
//! wrapper over the application layer the `xbar` CLI calls (`xbarsim::app`), so the numbers
//! are the CLI's: the same Rust calls, returned as numpy arrays instead of written to CSV.
//!
//! - Errors become `xbarsim.XbarError` carrying the library's message (file:line, element).
//! - Solves run with the GIL released (`Python::detach`), so other Python threads keep going.
//! - A NaN or infinity never comes back as a result: it raises, naming the quantity and where.

use std::path::{Path, PathBuf};

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use xbarsim::app::{crossbar as xcmd, device as xdev, runner};
use xbarsim::crossbar::{node_map, Array, Bias};
use xbarsim::fit::{self as xfit, args::FitArgs};
use xbarsim::AnalysisResult;

pyo3::create_exception!(
    xbarsim,
    XbarError,
    PyException,
    "An error from xbarsim; the message names the file, line, key or element at fault."
);

fn to_py(e: impl Into<xbarsim::Error>) -> PyErr {
    XbarError::new_err(e.into().to_string())
}

/// Refuses a non-finite value, naming it (`what[i, j]`) and where it came from.
fn finite(what: &str, idx: &str, x: f64, context: &str) -> PyResult<()> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(XbarError::new_err(format!(
            "{what}{idx} is {x} ({context}): a non-finite result is not reported"
        )))
    }
}

fn finite_2d(what: &str, m: &[Vec<f64>], context: &str) -> PyResult<()> {
    for (i, row) in m.iter().enumerate() {
        for (j, &x) in row.iter().enumerate() {
            finite(what, &format!("[{i}, {j}]"), x, context)?;
        }
    }
    Ok(())
}

fn array2<'py>(py: Python<'py>, m: &[Vec<f64>]) -> PyResult<Bound<'py, PyArray2<f64>>> {
    PyArray2::from_vec2(py, m).map_err(|e| XbarError::new_err(e.to_string()))
}

/// A (vectors, rows) float64 array from anything numpy accepts (a 1-D input is one vector).
fn inputs_2d(x: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<f64>>> {
    let np = x.py().import("numpy")?;
    let arr = np.call_method1("asarray", (x, "float64"))?;
    let arr = np.call_method1("atleast_2d", (arr,))?;
    let arr: PyReadonlyArray2<'_, f64> = arr.extract().map_err(|_| {
        XbarError::new_err("inputs must be a 2-D array of shape (vectors, rows)".to_string())
    })?;
    Ok(arr
        .as_array()
        .rows()
        .into_iter()
        .map(|r| r.to_vec())
        .collect())
}

/// A table (columns of numbers) as a dict of 1-D arrays, refusing non-finite values.
fn table_dict<'py>(
    py: Python<'py>,
    t: &xbarsim::report::Table,
    context: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (c, name) in t.columns.iter().enumerate() {
        let col: Vec<f64> = t.rows.iter().map(|r| r[c]).collect();
        for (i, &x) in col.iter().enumerate() {
            finite(name, &format!("[{i}]"), x, context)?;
        }
        d.set_item(name, PyArray1::from_vec(py, col))?;
    }
    Ok(d)
}

/// A Python value as TOML (dicts become tables; numpy scalars and arrays via `.tolist()`).
fn to_toml(v: &Bound<'_, PyAny>, key: &str) -> PyResult<toml::Value> {
    if v.is_instance_of::<PyBool>() {
        return Ok(toml::Value::Boolean(v.extract()?));
    }
    if v.is_instance_of::<PyInt>() {
        return Ok(toml::Value::Integer(v.extract()?));
    }
    if v.is_instance_of::<PyFloat>() {
        return Ok(toml::Value::Float(v.extract()?));
    }
    if v.is_instance_of::<PyString>() {
        return Ok(toml::Value::String(v.extract()?));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        return Ok(toml::Value::Table(dict_to_toml(d, key)?));
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        let items: PyResult<Vec<toml::Value>> = v
            .try_iter()?
            .enumerate()
            .map(|(i, x)| to_toml(&x?, &format!("{key}[{i}]")))
            .collect();
        return Ok(toml::Value::Array(items?));
    }
    if v.hasattr("tolist")? {
        return to_toml(&v.call_method0("tolist")?, key);
    }
    if v.hasattr("__fspath__")? {
        let p: PathBuf = v.extract()?;
        return Ok(toml::Value::String(p.display().to_string()));
    }
    Err(XbarError::new_err(format!(
        "Crossbar field `{key}`: cannot use a value of type {}",
        v.get_type().name()?
    )))
}

fn dict_to_toml(d: &Bound<'_, PyDict>, prefix: &str) -> PyResult<toml::Table> {
    let mut t = toml::Table::new();
    for (k, v) in d.iter() {
        let k: String = k.extract()?;
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        t.insert(k, to_toml(&v, &key)?);
    }
    Ok(t)
}

/// A crossbar array: the same description as a crossbar TOML config.
#[pyclass(name = "Crossbar", module = "xbarsim", frozen)]
struct PyCrossbar {
    xb: xbarsim::Crossbar,
    /// Where relative paths (weights CSV, device card) are resolved from, for messages.
    origin: PathBuf,
}

#[pymethods]
impl PyCrossbar {
    /// `Crossbar(rows=8, cols=8, cell="0T1R", device={"kind": "linear"}, ...)`: the keys and
    /// tables of a crossbar TOML config, as keyword arguments (tables as dicts).
    #[new]
    #[pyo3(signature = (**fields))]
    fn new(fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let table = match fields {
            Some(d) => dict_to_toml(d, "")?,
            None => toml::Table::new(),
        };
        let text = toml::to_string(&table).map_err(|e| XbarError::new_err(e.to_string()))?;
        let origin = std::env::current_dir()?.join("<Crossbar(**fields)>");
        let xb = xbarsim::Crossbar::from_toml_str(&text, &origin).map_err(to_py)?;
        Ok(PyCrossbar { xb, origin })
    }

    /// Loads a crossbar TOML config (as `xbar mvm CONFIG`).
    #[staticmethod]
    fn from_toml(path: PathBuf) -> PyResult<Self> {
        let xb = xbarsim::Crossbar::from_toml_file(&path).map_err(to_py)?;
        Ok(PyCrossbar { xb, origin: path })
    }

    /// Word lines.
    #[getter]
    fn rows(&self) -> usize {
        self.xb.rows
    }

    /// Logical columns (weights); a 2T2R array has twice as many bit lines.
    #[getter]
    fn cols(&self) -> usize {
        self.xb.cols
    }

    /// Read conductance I(v_read)/v_read of every cell (S), shape (rows, physical columns);
    /// a 2T2R array has two bit lines per weight.
    #[getter]
    fn g<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let pc = self.xb.phys_cols();
        let g: Vec<Vec<f64>> = (0..self.xb.rows)
            .map(|i| (0..pc).map(|j| self.xb.g_read(i * pc + j)).collect())
            .collect();
        array2(py, &g)
    }

    /// Matrix-vector multiply of `inputs` (shape (vectors, rows), fractions of full scale in
    /// [0, 1], as `xbar mvm --inputs`). Returns arrays of shape (vectors, cols) named as the
    /// CSV columns (`ideal_a`, `analog_a`, `digital_code`, `rel_error`) plus `digital_a` (the
    /// ADC output in A) and per vector `energy_j` and `energy_wires_j`.
    fn mvm<'py>(
        &self,
        py: Python<'py>,
        inputs: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let x = inputs_2d(inputs)?;
        let xb = &self.xb;
        let out = py.detach(|| xcmd::mvm_outcome(xb, &x)).map_err(to_py)?;
        let rep = &out.report;
        let ctx = format!("MVM of {}", self.origin.display());
        finite_2d("ideal_a", &rep.ideal, &ctx)?;
        finite_2d("analog_a", &rep.analog, &ctx)?;
        finite_2d("digital_a", &rep.digital, &ctx)?;
        let d = PyDict::new(py);
        d.set_item("ideal_a", array2(py, &rep.ideal)?)?;
        d.set_item("analog_a", array2(py, &rep.analog)?)?;
        if rep.codes.is_empty() {
            d.set_item("digital_code", py.None())?;
        } else {
            let codes = PyArray2::from_vec2(py, &rep.codes)
                .map_err(|e| XbarError::new_err(e.to_string()))?;
            d.set_item("digital_code", codes)?;
        }
        d.set_item("digital_a", array2(py, &rep.digital)?)?;
        // Where the ideal current is 0 the relative error is undefined; like the CSV, NaN.
        d.set_item("rel_error", array2(py, &out.rel_error())?)?;
        let e: Vec<f64> = out.energy.iter().map(|e| e.e_total).collect();
        let w: Vec<f64> = out.energy.iter().map(|e| e.e_wires).collect();
        for (k, (&a, &b)) in e.iter().zip(&w).enumerate() {
            finite("energy_j", &format!("[{k}]"), a, &ctx)?;
            finite("energy_wires_j", &format!("[{k}]"), b, &ctx)?;
        }
        d.set_item("energy_j", PyArray1::from_vec(py, e))?;
        d.set_item("energy_wires_j", PyArray1::from_vec(py, w))?;
        Ok(d)
    }

    /// Reads cell (`row`, physical `col`) at `v` volts (default: the config's v_read) with the
    /// unselected lines per `scheme` (`floating`, `v/2`, `v/3`, `grounded`), as `xbar read`.
    #[pyo3(signature = (row, col, scheme = "v/2", v = None))]
    fn read<'py>(
        &self,
        py: Python<'py>,
        row: usize,
        col: usize,
        scheme: &str,
        v: Option<f64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let scheme = xcmd::parse_read_scheme(scheme).map_err(to_py)?;
        let v = v.unwrap_or(self.xb.v_read);
        if !(v.is_finite() && v > 0.0) {
            return Err(XbarError::new_err(format!(
                "read voltage must be > 0 V, got {v}"
            )));
        }
        let xb = &self.xb;
        let r = py
            .detach(|| xbarsim::read(xb, row, col, v, scheme))
            .map_err(to_py)?;
        let d = PyDict::new(py);
        let ctx = format!("read of cell ({row}, {col})");
        for (k, x) in [
            ("i_sense_a", r.i_sense),
            ("i_cell_a", r.i_cell),
            ("i_sneak_a", r.i_sneak),
            ("v_cell_v", r.v_cell),
            ("power_w", r.power),
            ("i_sense_on_a", r.i_sense_on),
            ("i_sense_off_a", r.i_sense_off),
            ("read_margin", r.read_margin),
        ] {
            finite(k, "", x, &ctx)?;
            d.set_item(k, x)?;
        }
        Ok(d)
    }

    /// Node voltages and cell currents of one MVM solve at `inputs` (fractions of full scale,
    /// one per row; default all 1), each of shape (rows, physical columns): `v_row`, `v_col`,
    /// `v_mid` (cells with a selector or transistor), `v_cell`, `i_cell`.
    #[pyo3(signature = (inputs = None))]
    fn node_map<'py>(
        &self,
        py: Python<'py>,
        inputs: Option<Vec<f64>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let xb = &self.xb;
        let x = inputs.unwrap_or_else(|| vec![1.0; xb.rows]);
        if x.len() != xb.rows || x.iter().any(|v| !(0.0..=1.0).contains(v)) {
            return Err(XbarError::new_err(format!(
                "node_map inputs: {} values in [0, 1] needed (one per row), got {:?}",
                xb.rows, x
            )));
        }
        let m = py
            .detach(|| -> Result<_, xbarsim::Error> {
                let v: Vec<f64> = x.iter().map(|x| x * xb.v_read).collect();
                let mut arr = Array::bind(xb, &Bias::mvm(xb, &v))?;
                arr.solve()?;
                Ok(node_map(&arr))
            })
            .map_err(to_py)?;
        let d = PyDict::new(py);
        let ctx = format!("node map of {}", self.origin.display());
        for (k, v) in [
            ("v_row", &m.v_row),
            ("v_col", &m.v_col),
            ("v_mid", &m.v_mid),
            ("v_cell", &m.v_cell),
            ("i_cell", &m.i_cell),
        ] {
            if v.is_empty() {
                continue;
            }
            for (i, &x) in v.iter().enumerate() {
                finite(k, &format!("[{}, {}]", i / m.cols, i % m.cols), x, &ctx)?;
            }
            let a = PyArray1::from_vec(py, v.clone()).reshape([m.rows, m.cols])?;
            d.set_item(k, a)?;
        }
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Crossbar(rows={}, cols={}, cell={:?})",
            self.xb.rows, self.xb.cols, self.xb.cell
        )
    }
}

/// Runs every analysis of a netlist (as `xbar run`). Returns a dict keyed like the CSVs
/// `xbar run -o PREFIX` writes (`op`, `dc`, `tran`, then `dc2`, …): `op` maps each vector name
/// to a float, `dc` / `tran` map each column (`v-sweep` / `time` first) to a 1-D array.
/// Parser warnings are under `warnings`.
#[pyfunction]
fn run_netlist<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyDict>> {
    let out = py.detach(|| runner::run_netlist(&path)).map_err(to_py)?;
    let d = PyDict::new(py);
    let mut counts = std::collections::HashMap::new();
    let ctx = path.display().to_string();
    for r in &out.results {
        let n = counts.entry(r.kind()).or_insert(0);
        *n += 1;
        let key = if *n == 1 {
            r.kind().to_string()
        } else {
            format!("{}{}", r.kind(), n)
        };
        let value = match r {
            AnalysisResult::Op(rows) => {
                let op = PyDict::new(py);
                for (name, x) in rows {
                    finite(name, "", *x, &ctx)?;
                    op.set_item(name, x)?;
                }
                op
            }
            AnalysisResult::Dc(t) | AnalysisResult::Tran(t) => table_dict(py, t, &ctx)?,
        };
        d.set_item(key, value)?;
    }
    d.set_item("warnings", out.warnings.clone())?;
    Ok(d)
}

fn card_context(card: &Path) -> String {
    card.display().to_string()
}

/// Quasi-static I-V loop 0 → vmax → vmin → 0 of one device sampled from `card` with `seed`
/// (as `xbar device iv`); defaults per family. Columns `time_s`, `v_v` (source), `v_cell_v`,
/// `i_a` and the state.
#[pyfunction]
#[pyo3(signature = (card, vmax = None, vmin = None, period = None, points = 401, seed = 0))]
fn device_iv<'py>(
    py: Python<'py>,
    card: PathBuf,
    vmax: Option<f64>,
    vmin: Option<f64>,
    period: Option<f64>,
    points: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let t = py
        .detach(|| -> Result<_, xbarsim::Error> {
            let fam = xbarsim::load_card(&card)?.family();
            let (dv, dn, dp) = xdev::iv_defaults(fam);
            // As `xbar device iv` without bench options: the default bench and setup.
            let setup = xdev::Setup {
                seed,
                ..Default::default()
            };
            Ok(xdev::device_iv_bench(
                &card,
                &setup,
                &xdev::Bench::default(),
                vmax.unwrap_or(dv),
                vmin.unwrap_or(dn),
                period.unwrap_or(dp),
                points,
            )?)
        })
        .map_err(to_py)?;
    table_dict(py, &t, &card_context(&card))
}

/// Conductance read at `v_read` (V) before and after each of `count` pulses of `amplitude`
/// (V) and `width` (s) (as `xbar device pulse`). Columns `pulse`, `g_s` and the state.
#[pyfunction]
#[pyo3(signature = (card, amplitude, width, count, v_read = 0.1, seed = 0))]
fn device_pulse<'py>(
    py: Python<'py>,
    card: PathBuf,
    amplitude: f64,
    width: f64,
    count: usize,
    v_read: f64,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let t = py
        .detach(|| xdev::device_pulse(&card, amplitude, width, count, v_read, seed))
        .map_err(to_py)?;
    table_dict(py, &t, &card_context(&card))
}

/// Zero-bias conductance at each of `times` (s, ascending) of a device resting at 0 V (as
/// `xbar device retention`). Columns `time_s`, `g_s` and the state.
#[pyfunction]
#[pyo3(signature = (card, times, seed = 0))]
fn device_retention<'py>(
    py: Python<'py>,
    card: PathBuf,
    times: Vec<f64>,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let t = py
        .detach(|| xdev::device_retention(&card, &times, seed))
        .map_err(to_py)?;
    table_dict(py, &t, &card_context(&card))
}

/// Fits a device model to measured CSV data (as `xbar fit`; README "Fit your own data").
/// Keyword arguments are the CLI's flags: `free=["i0", "g0"]` is `--free i0,g0`,
/// `set={"g_ini": 1e-9}` is `--set g_ini=1e-9`, `filters={"device": "U2_0_0"}` is
/// `--where device=U2_0_0`, `cycles="1-3"`, `columns="v=AV,i=AI"`, `units="i=mA"`.
/// With `out=PREFIX` it writes what `xbar fit -o PREFIX` writes and returns the card's path;
/// without, it writes nothing. Returns a dict: `params` ({name: {value, stderr, ci95, start,
/// unit}}), `rmse` (in the unit of `residual`: decades for log), `residual`, `r2`, `n_points`, `iterations`, `set_polarity`,
/// `compliance_a`, `measured` and `simulated` (1-D arrays, the fit's quantity at each point),
/// `card_text` (the fitted card TOML) and `card` (its path, or None).
#[pyfunction]
#[pyo3(signature = (
    family, kind, data, free = None, card = None, set = None, cycles = None, columns = None,
    units = None, filters = None, compliance = None, no_compliance = false, series_r = 0.0,
    set_polarity = None, sweep_rate = None, amplitude = None, width = None, v_read = None,
    temp_k = None, residual = None, i_floor = 1e-12, starts = 8, seed = 1, out = None
))]
#[allow(clippy::too_many_arguments)]
fn fit<'py>(
    py: Python<'py>,
    family: String,
    kind: String,
    data: PathBuf,
    free: Option<Vec<String>>,
    card: Option<PathBuf>,
    set: Option<std::collections::BTreeMap<String, f64>>,
    cycles: Option<String>,
    columns: Option<String>,
    units: Option<String>,
    filters: Option<std::collections::BTreeMap<String, String>>,
    compliance: Option<f64>,
    no_compliance: bool,
    series_r: f64,
    set_polarity: Option<String>,
    sweep_rate: Option<f64>,
    amplitude: Option<f64>,
    width: Option<f64>,
    v_read: Option<f64>,
    temp_k: Option<f64>,
    residual: Option<String>,
    i_floor: f64,
    starts: usize,
    seed: u64,
    out: Option<PathBuf>,
) -> PyResult<Bound<'py, PyDict>> {
    let prefix = out.clone().unwrap_or_else(|| PathBuf::from("fit"));
    let args = FitArgs {
        family,
        kind,
        data,
        card,
        free: free.unwrap_or_default(),
        set: Vec::new(),
        cycles,
        columns,
        units,
        filters: filters
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        compliance,
        no_compliance,
        series_r,
        set_polarity,
        sweep_rate,
        amplitude,
        width,
        v_read,
        temp_k,
        residual,
        i_floor,
        starts,
        seed,
        verbose: false,
        prefix: prefix.clone(),
    };
    let err = |e: xfit::FitError| XbarError::new_err(e.to_string());
    let mut o = args.to_options().map_err(err)?;
    for (k, &v) in set.iter().flatten() {
        if !v.is_finite() {
            return Err(XbarError::new_err(format!(
                "fit set[{k:?}] is {v}: not a number"
            )));
        }
        o.set.push((k.clone(), v));
    }
    o.command = format!(
        "xbarsim.fit(family={:?}, kind={:?}, data={:?})",
        o.family,
        o.kind.name(),
        o.data.display().to_string()
    );
    let (rep, card_text) = py
        .detach(|| -> Result<_, xfit::FitError> {
            let rep = match &out {
                Some(_) => xfit::run(&o)?,
                None => xfit::fit(&o)?,
            };
            let text = xfit::output::fitted_card_text(&rep, &o);
            Ok((rep, text))
        })
        .map_err(err)?;
    let ctx = format!("fit of {}", rep.data_file.display());
    let d = PyDict::new(py);
    let params = PyDict::new(py);
    for p in &rep.params {
        for (k, x) in [
            ("value", p.value),
            ("stderr", p.stderr),
            ("ci95_low", p.ci95_low),
            ("ci95_high", p.ci95_high),
        ] {
            finite(&format!("{}.{k}", p.name), "", x, &ctx)?;
        }
        let e = PyDict::new(py);
        e.set_item("value", p.value)?;
        e.set_item("stderr", p.stderr)?;
        e.set_item("ci95", (p.ci95_low, p.ci95_high))?;
        e.set_item("start", p.start)?;
        e.set_item("unit", &p.unit)?;
        params.set_item(&p.name, e)?;
    }
    finite("rmse", "", rep.rmse, &ctx)?;
    finite("r2", "", rep.r2, &ctx)?;
    d.set_item("params", params)?;
    d.set_item("rmse", rep.rmse)?;
    d.set_item(
        "residual",
        rep.residual.name(rep.kind == xfit::ExperimentKind::Iv),
    )?;
    d.set_item("r2", rep.r2)?;
    d.set_item("n_points", rep.n_points)?;
    d.set_item("iterations", rep.iterations)?;
    d.set_item("set_polarity", rep.set_polarity.map(|p| p.name()))?;
    d.set_item("compliance_a", rep.compliance_a)?;
    d.set_item("measured", PyArray1::from_vec(py, rep.measured.clone()))?;
    d.set_item("simulated", PyArray1::from_vec(py, rep.simulated.clone()))?;
    d.set_item("card_text", card_text)?;
    let card_path = out.map(|_| {
        let mut s = prefix.into_os_string();
        s.push(".card.toml");
        PathBuf::from(s)
    });
    d.set_item("card", card_path)?;
    Ok(d)
}

// The literal defaults above (so Python's signatures show them) are the CLI's.
const _: () = assert!(xdev::DEFAULT_IV_POINTS == 401 && xdev::DEFAULT_V_READ == 0.1);

#[pymodule]
fn _xbarsim(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("XbarError", m.py().get_type::<XbarError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<PyCrossbar>()?;
    m.add_function(wrap_pyfunction!(run_netlist, m)?)?;
    m.add_function(wrap_pyfunction!(device_iv, m)?)?;
    m.add_function(wrap_pyfunction!(device_pulse, m)?)?;
    m.add_function(wrap_pyfunction!(device_retention, m)?)?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    Ok(())
}
