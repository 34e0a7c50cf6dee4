fn main() { eprintln!("xbar: command-line layer pending the netlist parser"); }
