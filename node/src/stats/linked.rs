//! Linked tables. [`protect`](puente_common::stats::protect) proves each table safe on its own,
//! but the tables of one release describe the same persons: T01, T02, T03, T03F, T06 and T07
//! have the same grand total, T01 and T02 the same totals by sex, and T01, T02 (by summing
//! its CTDC bands) and T06 the same totals by GLOTIP age. An adversary holding the whole
//! release knows those equalities even where neither side is published.
//!
//! This module runs the exact recoverability check over the linked system: unknowns are the
//! suppressed cells of the tables taken so far; equations are each table's published totals
//! and, for every linked quantity, "sum in one table − sum in the other = known". A
//! suppressed cell, or a total suppressed as under k (or for group disclosure), is
//! recoverable when its indicator lies in the row space
//! (fraction-free integer elimination, exact). Tables are taken in order, T01 first; a table
//! whose addition would make anything recoverable is **withheld** for the period (every cell
//! and total suppressed, which adds no information), and the page says so.
//!
//! Not modelled (stated): T03F against T03's diagonal, T05 against T01 (forced labour is a
//! subset), T04 (multi-valued) and T08 (referrals, another unit).

use puente_common::stats::{Cell, ProtectedTable, Reason};

use crate::error::{AppError, AppResult};

/// The person tables linked by their grand total, in the order they are admitted.
pub const LINKED: [&str; 6] = ["T01", "T02", "T06", "T07", "T03", "T03F"];

/// An echelon basis of integer rows over the unknowns.
struct Basis {
    rows: Vec<(usize, Vec<i128>)>,
}

fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn normalise(v: &mut [i128]) {
    let g = v.iter().fold(0, |g, x| gcd(g, *x));
    if g > 1 {
        for x in v.iter_mut() {
            *x /= g;
        }
    }
}

impl Basis {
    fn new() -> Self {
        Basis { rows: Vec::new() }
    }

    /// `v` reduced against the basis (zero when it lies in the span).
    fn reduce(&self, mut v: Vec<i128>) -> AppResult<Vec<i128>> {
        for (p, r) in &self.rows {
            let a = v[*p];
            if a == 0 {
                continue;
            }
            let b = r[*p];
            for (x, y) in v.iter_mut().zip(r) {
                *x = x
                    .checked_mul(b)
                    .and_then(|m| y.checked_mul(a).and_then(|n| m.checked_sub(n)))
                    .ok_or_else(|| AppError::internal("linked check overflow"))?;
            }
            normalise(&mut v);
        }
        Ok(v)
    }

    fn insert(&mut self, v: Vec<i128>) -> AppResult<()> {
        let v = self.reduce(v)?;
        if let Some(p) = v.iter().position(|x| *x != 0) {
            self.rows.push((p, v));
        }
        Ok(())
    }

    fn spans(&self, v: Vec<i128>) -> AppResult<bool> {
        Ok(self.reduce(v)?.iter().all(|x| *x == 0))
    }
}

/// Cell indices (row-major) of `t` whose coordinate in dimension `dim` is in `cats`.
fn cells_where(t: &ProtectedTable, dim: usize, cats: &[usize]) -> Vec<usize> {
    let sizes: Vec<usize> = t.dimensions.iter().map(|d| d.categories.len()).collect();
    let inner: usize = sizes[dim + 1..].iter().product();
    (0..t.cells.len())
        .filter(|i| cats.contains(&((i / inner) % sizes[dim])))
        .collect()
}

fn dim_of(t: &ProtectedTable, name: &str) -> Option<usize> {
    t.dimensions.iter().position(|d| d.name == name)
}

/// Linked quantities: for a key (`sex:F`, `age:0_17`, `total`), the cells of each table
/// that sum to it.
fn quantities(t: &ProtectedTable) -> Vec<(String, Vec<usize>)> {
    let mut out = vec![("total".to_owned(), (0..t.cells.len()).collect())];
    if let Some(d) = dim_of(t, "glotip_sex") {
        for (c, code) in t.dimensions[d].categories.iter().enumerate() {
            out.push((format!("sex:{code}"), cells_where(t, d, &[c])));
        }
    }
    if let Some(d) = dim_of(t, "glotip_age_band") {
        for (c, code) in t.dimensions[d].categories.iter().enumerate() {
            out.push((format!("age:{code}"), cells_where(t, d, &[c])));
        }
    }
    if let Some(d) = dim_of(t, "ctdc_age_band") {
        let cats = &t.dimensions[d].categories;
        let group = |codes: &[&str]| -> Vec<usize> {
            cats.iter()
                .enumerate()
                .filter(|(_, c)| codes.contains(&c.as_str()))
                .map(|(i, _)| i)
                .collect()
        };
        let minors = group(&["0_8", "9_17"]);
        let unknown = group(&["UNKNOWN"]);
        let adults: Vec<usize> = (0..cats.len())
            .filter(|i| !minors.contains(i) && !unknown.contains(i))
            .collect();
        out.push(("age:0_17".into(), cells_where(t, d, &minors)));
        out.push(("age:18_PLUS".into(), cells_where(t, d, &adults)));
        out.push(("age:UNKNOWN".into(), cells_where(t, d, &unknown)));
    }
    out
}

/// Whether anything suppressed in `tables` is recoverable from the linked system.
fn leaks(tables: &[&ProtectedTable]) -> AppResult<bool> {
    // Unknown columns: the suppressed cells.
    let mut col: Vec<Vec<Option<usize>>> = Vec::new();
    let mut n = 0;
    for t in tables {
        col.push(
            t.cells
                .iter()
                .map(|c| {
                    c.count().is_none().then(|| {
                        n += 1;
                        n - 1
                    })
                })
                .collect(),
        );
    }
    let indicator = |ti: usize, cells: &[usize], sign: i128, v: &mut Vec<i128>| {
        for c in cells {
            if let Some(j) = col[ti][*c] {
                v[j] += sign;
            }
        }
    };
    let mut basis = Basis::new();
    let mut targets: Vec<Vec<i128>> = Vec::new();
    for (ti, t) in tables.iter().enumerate() {
        let view = t
            .constraint_view()
            .map_err(|e| AppError::internal(format!("linked check: {e}")))?;
        for (tv, value) in view.totals.iter().zip(t.totals()) {
            let mut v = vec![0i128; n];
            indicator(ti, &tv.cells, 1, &mut v);
            if tv.published {
                basis.insert(v)?;
            } else if matches!(value, Cell::Suppressed(Reason::Primary | Reason::Group)) {
                // A total under k (or hiding a group): must stay hidden. A total suppressed
                // only as a complement is at least k; it may be known from another table as
                // long as no cell becomes recoverable.
                targets.push(v);
            }
        }
        for j in col[ti].iter().flatten() {
            let mut v = vec![0i128; n];
            v[*j] = 1;
            targets.push(v);
        }
    }
    // Linking equations between every pair of tables holding the same quantity.
    let qs: Vec<Vec<(String, Vec<usize>)>> = tables.iter().map(|t| quantities(t)).collect();
    for a in 0..tables.len() {
        for b in a + 1..tables.len() {
            for (ka, ca) in &qs[a] {
                for (kb, cb) in &qs[b] {
                    if ka == kb {
                        let mut v = vec![0i128; n];
                        indicator(a, ca, 1, &mut v);
                        indicator(b, cb, -1, &mut v);
                        basis.insert(v)?;
                    }
                }
            }
        }
    }
    for t in targets {
        if t.iter().all(|x| *x == 0) {
            // A suppressed total whose cells are all published: recoverable.
            return Ok(true);
        }
        if basis.spans(t)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Every cell and total of `t` suppressed.
pub fn withhold(t: &mut ProtectedTable) {
    let s = Cell::Suppressed(Reason::Complementary);
    t.cells.iter_mut().for_each(|c| *c = s);
    t.margins.iter_mut().flatten().for_each(|c| *c = s);
    t.total = s;
}

/// Admits the linked tables in [`LINKED`] order, withholding any that would make a suppressed
/// value recoverable; returns the ids withheld.
pub fn secure(tables: &mut [ProtectedTable]) -> AppResult<Vec<String>> {
    let mut admitted: Vec<usize> = Vec::new();
    let mut withheld = Vec::new();
    for id in LINKED {
        let Some(i) = tables.iter().position(|t| t.id == id) else {
            continue;
        };
        let mut set: Vec<&ProtectedTable> = admitted.iter().map(|j| &tables[*j]).collect();
        set.push(&tables[i]);
        if leaks(&set)? {
            withhold(&mut tables[i]);
            withheld.push(id.to_owned());
        }
        admitted.push(i);
    }
    Ok(withheld)
}

/// Whether the linked tables of a release leak (for tests: `false` after [`secure`]).
pub fn linked_leak(tables: &[ProtectedTable]) -> AppResult<bool> {
    let set: Vec<&ProtectedTable> = LINKED
        .iter()
        .filter_map(|id| tables.iter().find(|t| t.id == *id))
        .collect();
    leaks(&set)
}

#[cfg(test)]
mod tests {
    use puente_common::stats::{ComplementaryCheck, Dimension, Method};

    use super::*;

    fn dim(name: &str, cats: &[&str]) -> Dimension {
        Dimension {
            name: name.into(),
            categories: cats.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    const S: Cell = Cell::Suppressed(Reason::Complementary);
    const P: Cell = Cell::Suppressed(Reason::Primary);

    fn method() -> Method {
        Method {
            k: 5,
            rounding_base: None,
            dp: None,
            complementary: ComplementaryCheck::ExactRowspace,
        }
    }

    #[test]
    fn a_table_that_reveals_a_cell_of_another_is_withheld() {
        // T01: sex × age; F total 10 published, the rest suppressed, M under 0_17 a true 0.
        // Alone, nothing is recoverable (F0 + F1 = 10).
        let t01 = ProtectedTable {
            id: "T01".into(),
            dimensions: vec![
                dim("glotip_sex", &["F", "M"]),
                dim("glotip_age_band", &["0_17", "18_PLUS"]),
            ],
            cells: vec![P, S, Cell::Count(0), S],
            margins: vec![vec![Cell::Count(10), S], vec![S, S]],
            total: S,
            method: method(),
        };
        assert!(!leaks(&[&t01]).unwrap());
        // T06 publishes the age totals: 0_17 = 7 gives F0 = 7 away.
        let t06 = ProtectedTable {
            id: "T06".into(),
            dimensions: vec![
                dim("recruiter_relation", &["STRANGER"]),
                dim("glotip_age_band", &["0_17", "18_PLUS"]),
            ],
            cells: vec![Cell::Count(7), Cell::Count(13)],
            margins: vec![vec![Cell::Count(20)], vec![Cell::Count(7), Cell::Count(13)]],
            total: Cell::Count(20),
            method: method(),
        };
        assert!(!leaks(&[&t06]).unwrap());
        assert!(leaks(&[&t01, &t06]).unwrap());
        let mut tables = vec![t01, t06];
        assert_eq!(secure(&mut tables).unwrap(), vec!["T06".to_owned()]);
        assert!(tables[1].cells.iter().all(|c| c.count().is_none()));
        assert!(!linked_leak(&tables).unwrap());
    }

    #[test]
    fn ctdc_bands_link_to_glotip_ages() {
        let t02 = ProtectedTable {
            id: "T02".into(),
            dimensions: vec![
                dim("glotip_sex", &["F"]),
                dim("ctdc_age_band", &["0_8", "9_17", "18_20", "UNKNOWN"]),
            ],
            cells: vec![Cell::Count(0); 4],
            margins: vec![vec![Cell::Count(0)], vec![Cell::Count(0); 4]],
            total: Cell::Count(0),
            method: method(),
        };
        let q = quantities(&t02);
        let minors = q.iter().find(|(k, _)| k == "age:0_17").unwrap();
        assert_eq!(minors.1, vec![0, 1]);
        let adults = q.iter().find(|(k, _)| k == "age:18_PLUS").unwrap();
        assert_eq!(adults.1, vec![2]);
    }
}
