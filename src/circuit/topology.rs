//! Topology checks before the first factorisation: every node needs a DC path to ground,
//! and voltage-defined branches (V, E, V-type B, L) must not form a loop.

use super::elements::*;
use super::engine::SimError;
use super::union_find::UnionFind;

pub fn check(c: &Circuit) -> Result<(), SimError> {
    let n = c.num_nodes();
    // Loops of voltage-defined branches.
    let mut uf = UnionFind::new(n);
    let branches = c
        .vsources
        .iter()
        .map(|v| (&v.name, v.pos, v.neg))
        .chain(c.vcvs.iter().map(|e| (&e.name, e.pos, e.neg)))
        .chain(c.inductors.iter().map(|l| (&l.name, l.a, l.b)))
        .chain(
            c.behavioural
                .iter()
                .filter(|b| b.kind == BehaviouralKind::Voltage)
                .map(|b| (&b.name, b.pos, b.neg)),
        );
    for (name, a, b) in branches {
        if !uf.union(a, b) {
            return Err(SimError::Topology(format!(
                "{}{} closes a loop of voltage sources/inductors between nodes {} and {}",
                c.origin_of(name),
                name,
                c.node_name(a),
                c.node_name(b)
            )));
        }
    }
    // DC paths to ground.
    let mut uf = UnionFind::new(n);
    for r in &c.resistors {
        uf.union(r.a, r.b);
    }
    for v in &c.vsources {
        uf.union(v.pos, v.neg);
    }
    for e in &c.vcvs {
        uf.union(e.pos, e.neg);
    }
    for l in &c.inductors {
        uf.union(l.a, l.b);
    }
    for b in &c.behavioural {
        let self_dependent = b.expr.nodes.iter().any(|&k| k == b.pos || k == b.neg);
        if b.kind == BehaviouralKind::Voltage || self_dependent {
            uf.union(b.pos, b.neg);
        }
    }
    for d in &c.diodes {
        uf.union(d.anode, d.cathode);
    }
    for m in &c.mosfets {
        // Channel and the bulk junctions (each carries gmin in ngspice).
        uf.union(m.d, m.s);
        uf.union(m.b, m.d);
        uf.union(m.b, m.s);
    }
    for m in &c.memcells {
        uf.union(m.pos, m.neg);
    }
    // A deck whose only analyses are transients with `uic` never solves a DC point: there a
    // capacitor's companion conductance is a path too.
    let uic_only = !c.analyses.is_empty()
        && c.analyses
            .iter()
            .all(|a| matches!(a, Analysis::Tran { uic: true, .. }));
    if uic_only {
        for cap in &c.capacitors {
            uf.union(cap.a, cap.b);
        }
    }
    let ground = uf.find(GROUND);
    for k in 1..n {
        if uf.find(k) != ground {
            let origin = c
                .node_origins
                .get(&k)
                .map(|o| format!("{o}: "))
                .unwrap_or_default();
            return Err(SimError::Topology(format!(
                "{origin}node {} has no DC path to ground",
                c.node_name(k)
            )));
        }
    }
    Ok(())
}
