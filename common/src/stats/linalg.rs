//! Exact recoverability check (rule 4): is a suppressed value determined by what is published?
//!
//! The adversary knows every published cell and every published total. Substituting the
//! published cells, each published total becomes a linear equation over the *unknown*
//! (suppressed) cells. A suppressed cell or total is recoverable exactly when its indicator
//! vector, restricted to the unknown cells, lies in the row space of those equations. The test
//! is done with fraction-free integer Gaussian elimination (`i128`, every row divided by the gcd
//! of its entries after each step, all arithmetic checked): no floating point, no rounding, so a
//! "not recoverable" answer is a proof, not an estimate.

use serde::{Deserialize, Serialize};

use super::StatsError;

/// A published total, seen as a constraint: the cells it sums and whether it is published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotalView {
    /// Indices (row-major) of the cells this total sums.
    pub cells: Vec<usize>,
    /// Whether its value is published (a suppressed total is not a constraint, but is itself a
    /// value that must not be recoverable).
    pub published: bool,
}

/// What an adversary sees of a protected table, values aside: which cells are published and
/// which totals (sums of cells) are published. Values do not matter to the row-space test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstraintView {
    /// One flag per cell (row-major): `true` when its count is published.
    pub cell_published: Vec<bool>,
    /// Every total of the table (1-D margins, then the grand total).
    pub totals: Vec<TotalView>,
}

/// Suppressed cells (indices) whose value follows from the published cells and totals.
/// Empty for every table [`super::protect`] returns.
pub fn recoverable_cells(view: &ConstraintView) -> Result<Vec<usize>, StatsError> {
    Ok(analyse(view)?.cells)
}

/// Suppressed totals (indices into `view.totals`) whose value follows from what is published.
/// Empty for every table [`super::protect`] returns.
pub fn recoverable_totals(view: &ConstraintView) -> Result<Vec<usize>, StatsError> {
    Ok(analyse(view)?.totals)
}

/// Both lists at once, with one elimination.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recoverable {
    /// Recoverable suppressed cells.
    pub cells: Vec<usize>,
    /// Recoverable suppressed totals.
    pub totals: Vec<usize>,
}

/// Runs the adversary on a view.
pub fn analyse(view: &ConstraintView) -> Result<Recoverable, StatsError> {
    let n = view.cell_published.len();
    for t in &view.totals {
        if t.cells.iter().any(|&c| c >= n) {
            return Err(StatsError::Shape(
                "a total refers to a cell outside the table".into(),
            ));
        }
    }
    let system = System::build(view)?;
    let mut out = Recoverable::default();
    for (cell, published) in view.cell_published.iter().enumerate() {
        if !published && system.witness(&[cell])?.is_some() {
            out.cells.push(cell);
        }
    }
    for (i, t) in view.totals.iter().enumerate() {
        if !t.published && system.witness(&t.cells)?.is_some() {
            out.totals.push(i);
        }
    }
    Ok(out)
}

/// The published totals restricted to the unknown cells, in integer row-echelon form. Each
/// echelon row also carries the combination of published totals it is made of, so a
/// recoverability proof names the totals that give a value away.
pub(crate) struct System {
    /// Column of each unknown cell (`None` for a published cell).
    column: Vec<Option<usize>>,
    /// Number of unknown cells.
    width: usize,
    /// Indices (into the view's totals) of the published totals, in constraint order.
    constraints: Vec<usize>,
    /// Echelon rows: (values over unknown columns, combination over constraints, pivot column).
    rows: Vec<(Vec<i128>, Vec<i128>, usize)>,
}

impl System {
    pub(crate) fn build(view: &ConstraintView) -> Result<Self, StatsError> {
        let mut column = Vec::with_capacity(view.cell_published.len());
        let mut width = 0;
        for &published in &view.cell_published {
            if published {
                column.push(None);
            } else {
                column.push(Some(width));
                width += 1;
            }
        }
        let constraints: Vec<usize> = view
            .totals
            .iter()
            .enumerate()
            .filter(|(_, t)| t.published)
            .map(|(i, _)| i)
            .collect();
        let m = constraints.len();
        let mut pending: Vec<(Vec<i128>, Vec<i128>)> = Vec::with_capacity(m);
        for (j, &ti) in constraints.iter().enumerate() {
            let mut vals = vec![0i128; width];
            for &c in &view.totals[ti].cells {
                if let Some(col) = column[c] {
                    vals[col] = 1;
                }
            }
            let mut comb = vec![0i128; m];
            comb[j] = 1;
            pending.push((vals, comb));
        }
        // Gaussian elimination column by column; rows end sorted by pivot column.
        let mut rows: Vec<(Vec<i128>, Vec<i128>, usize)> = Vec::new();
        let mut col = 0;
        while col < width && !pending.is_empty() {
            if let Some(p) = pending.iter().position(|(v, _)| v[col] != 0) {
                let (pv, pc) = pending.swap_remove(p);
                for (v, c) in pending.iter_mut() {
                    if v[col] != 0 {
                        eliminate(v, c, None, &pv, &pc, col)?;
                    }
                }
                pending.retain(|(v, _)| v.iter().any(|&x| x != 0));
                rows.push((pv, pc, col));
            }
            col += 1;
        }
        Ok(System {
            column,
            width,
            constraints,
            rows,
        })
    }

    /// If the sum of `cells` is determined by the published values, returns the published
    /// totals (indices into the view's totals) used by one proof of it; `None` otherwise.
    /// A sum over published cells only is trivially determined (empty proof).
    pub(crate) fn witness(&self, cells: &[usize]) -> Result<Option<Vec<usize>>, StatsError> {
        let mut vals = vec![0i128; self.width];
        for &c in cells {
            if let Some(Some(col)) = self.column.get(c) {
                vals[*col] = 1;
            }
        }
        let mut comb = vec![0i128; self.constraints.len()];
        let mut scale: i128 = 1;
        for (rv, rc, pivot) in &self.rows {
            if vals[*pivot] != 0 {
                eliminate(&mut vals, &mut comb, Some(&mut scale), rv, rc, *pivot)?;
            }
        }
        if vals.iter().any(|&x| x != 0) {
            return Ok(None);
        }
        Ok(Some(
            comb.iter()
                .zip(&self.constraints)
                .filter(|(c, _)| **c != 0)
                .map(|(_, &t)| t)
                .collect(),
        ))
    }
}

/// `target := piv·target − target[col]·row`, then divide by the gcd of all entries (values,
/// combination and, when tracked, the scale of the target).
fn eliminate(
    vals: &mut [i128],
    comb: &mut [i128],
    scale: Option<&mut i128>,
    row_vals: &[i128],
    row_comb: &[i128],
    col: usize,
) -> Result<(), StatsError> {
    let a = row_vals[col];
    let b = vals[col];
    let step = |x: i128, y: i128| -> Result<i128, StatsError> {
        x.checked_mul(a)
            .and_then(|ax| y.checked_mul(b).and_then(|by| ax.checked_sub(by)))
            .ok_or(StatsError::Overflow)
    };
    for (x, y) in vals.iter_mut().zip(row_vals) {
        *x = step(*x, *y)?;
    }
    // Invariant: vals = scale·target + Σ comb·A (for echelon rows, scale 0 and target absent),
    // so the combination follows the same step.
    for (x, y) in comb.iter_mut().zip(row_comb) {
        *x = step(*x, *y)?;
    }
    let mut g = vals
        .iter()
        .chain(comb.iter())
        .fold(0i128, |g, &x| gcd(g, x));
    if let Some(s) = scale {
        *s = s.checked_mul(a).ok_or(StatsError::Overflow)?;
        g = gcd(g, *s);
        if g > 1 {
            *s /= g;
        }
    }
    if g > 1 {
        for x in vals.iter_mut().chain(comb.iter_mut()) {
            *x /= g;
        }
    }
    Ok(())
}

fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    // |a| ≤ max(|x|) ≤ i128::MAX for any entries we hold, except the pathological MIN.
    i128::try_from(a).unwrap_or(1)
}
