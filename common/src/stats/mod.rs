//! Disclosure control for aggregate releases (PRIVACY.md, "Aggregate releases: disclosure
//! control"): a pure library that turns a table of true counts into the table a node may
//! publish, and the checks the hub (or a test) runs as the adversary.
//!
//! ```text
//! Table (true counts) ──protect(&Protection, rng)──▶ ProtectedTable (cells, margins, total, method)
//!                                                      └─ constraint_view() ─▶ recoverable_cells() == []
//! ```
//!
//! # The pipeline, rule by rule
//!
//! [`protect`] runs these steps in order. "Items" are the cells and the published totals: for
//! each dimension, one total per category over all other dimensions (1-D margins; a 1-D table
//! has none, its cells *are* its margin), then the grand total. 2-D and 3-D sub-table totals
//! are not published.
//!
//! 0. **Values.** Without DP, every item's value is its true count; totals are computed from
//!    the true cells, never from published ones.
//!    **Rule 9, differential privacy (opt-in):** each cell *and* each total gets its own
//!    independent discrete Laplace noise ([`dlap`], the exact Canonne–Kamath–Steinke 2020
//!    sampler: integer/rational arithmetic only, Bernoulli(exp(−γ)) from uniform integers,
//!    randomness from a `CryptoRng`, `OsRng` in production), and is clamped at 0. A person
//!    touches one cell, one total per dimension and the grand total, i.e. `m = 1 + D + 1`
//!    measurement families (`m = 2` for a 1-D table), each with sensitivity
//!    `contribution_bound`. *Decision:* `epsilon_milli` is the ε of the **whole table** (what
//!    the ledger must charge), so each family gets ε/m and the noise scale is
//!    `contribution_bound · m / ε`, kept exact as the fraction
//!    `(1000 · contribution_bound · m) / epsilon_milli` (the brief's `contribution_bound / ε` is
//!    the per-family formula). The release states the mechanism, ε, δ = 0 (pure DP), the bound,
//!    `m` and the scale. Everything below then runs on the noisy values, which is
//!    post-processing and costs no privacy. OpenDP is the reference for the mechanism; it is
//!    *not* a dependency (far too heavy to build here), the ~60 lines in [`dlap`] follow the
//!    paper's algorithms 1 and 2 and are tested against the exact pmf.
//! 1. **Rule 3, primary suppression.** An item whose value is in `1..k` is
//!    [`Cell::Suppressed`]`(`[`Reason::Primary`]`)`; a margin under k too. `k ≥ 5` is enforced
//!    ([`StatsError::KTooSmall`]). *Decision on zeros:* a true 0 is published as `0` (UNODC and
//!    CTDC practice: an empty cell identifies no person), and `0` is published *only* for a
//!    true 0 (or, under DP, a noisy 0); a small non-zero count is never shown as 0.
//! 2. **Rule 6, group disclosure.** A group is the set of cells obtained by fixing some
//!    dimensions (none: the whole table; one: a row/slice, whose total is a published margin;
//!    two in a 3-D table: a line of cells). When a group with `k ≤ n < 2k` (a group that is
//!    published: its total is not primary-suppressed) has all its `n` in one category of
//!    another dimension (with at least two categories), its breakdown is suppressed:
//!    all cells of the group, zeros included (published zeros would reveal the same thing),
//!    [`Reason::Group`]; for the whole-table group also the margins of that dimension. The
//!    group's own total stays published. *Decision:* the rule runs before the single
//!    complementary pass, on every group with a large enough total, whether or not
//!    complementary suppression later hides that total; this can only suppress more than
//!    "primary → complementary → group → complementary again", never less.
//! 3. **Rule 4, complementary suppression with an exact check.** Repeat: build the published
//!    constraints (each published total, with the published cells substituted, is a linear
//!    equation over the suppressed cells); look for a suppressed item (cell or total) whose
//!    indicator vector lies in their row space (exact fraction-free integer elimination, no
//!    floats; see [`recoverable_cells`]), preferring one given away by a single total, then
//!    one recoverable without the grand total, then any, shortest proof first; take the
//!    published totals of that proof and suppress, in this order of preference, the smallest
//!    published non-zero cell they (or the recovered total itself) contain, else the smallest
//!    published total of the proof (the grand total last), else a published zero cell there
//!    — [`Reason::Complementary`]. *Decision:* a total goes before a zero cell because
//!    dropping an equation never helps an adversary, while a suppressed zero is an unknown
//!    sitting at its lower bound (see Limits); on random small tables this order suppressed
//!    12 % fewer cells and 2 % more totals than "zero cells before totals". Every round suppresses one more item, so it
//!    ends (worst case: everything suppressed, which is trivially safe); at the end the check
//!    is run once more and an error is returned rather than an unsafe table. Every suppressed
//!    value is protected, not only the primary ones, and suppressed totals like cells: a
//!    margin under k that the other margins would give away is covered too.
//! 4. **Rule 5, rounding (optional).** Published counts — cells and totals — are rounded to
//!    `rounding_base`, [`round_count`]: round half up (base 5: 7 → 5, 8 → 10, 12 → 10,
//!    13 → 15; base 10: 15 → 20); zero stays zero; suppressed stays suppressed; and since a
//!    published non-zero count is at least k, it is never rounded below k: the result is at
//!    least k rounded *up* to the base
//!    (k = 11, base 5: 11 → 15, not 10; k = 7: 7 → 10). Totals are rounded from their own true
//!    (or noisy) value, never summed from rounded cells.
//!
//! Rules 1, 2 (unit is the person, consent), 7 (fixed periods, corrections as versions),
//! 8 (rare categories merged before tabulation) and 10 (signing, chaining) belong to the
//! code that builds and publishes tables; this module takes the counts as given.
//!
//! The [`EpsilonLedger`] (rule 9) sums ε per calendar year and refuses a spend past the
//! yearly cap.
//!
//! # Limits (stated, not hidden)
//! - The recoverability check is *linear*: it proves that no suppressed value is determined
//!   by the published equations. It does not model non-negativity. With non-negative integers
//!   an adversary can sometimes pin a suppressed value to one integer when some suppressed
//!   cells are true zeros (group disclosure suppresses whole breakdowns, zeros included; zero
//!   cells are the complements of last resort). Example: 3×3 `[5,1,5; 0,5,1; 0,0,5]`, k = 5:
//!   linearly safe, but the integer completion is unique. On 2,000 random small 2-D tables
//!   with many small cells this happened in 2 of the ~1,780 the brute force could search
//!   (~0.1 %), both with zeros suppressed by the group rule. When no suppressed cell is a true
//!   zero a 2-D release is provably safe against that adversary too (the margin matrix is
//!   totally unimodular: an undetermined cell lies on a ±1 cycle of suppressed cells, all
//!   ≥ 1, so the table ± the cycle is another solution); tested.
//!   Closing the gap needs protection intervals (an LP/ILP per suppressed cell, as τ-ARGUS
//!   does); not done.
//! - Exact integer elimination uses checked `i128`; an overflow (not seen on tables of this
//!   size) is an error ([`StatsError::Overflow`]), never a wrong answer.
//! - Tables are limited to [`MAX_CELLS`] cells (a 64 × 64 table protects in about 0.2 s in a
//!   debug build).

pub mod dlap;
mod ledger;
mod linalg;
pub mod release;
#[cfg(test)]
mod tests;

use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

pub use ledger::{EpsilonLedger, LedgerEntry, Period};
pub use linalg::{
    analyse, recoverable_cells, recoverable_totals, ConstraintView, Recoverable, TotalView,
};

/// The smallest threshold a node may set (UNODC publishes "<5").
pub const MIN_K: u32 = 5;
/// The most cells a table may have (bounds the cost of the exact check).
pub const MAX_CELLS: usize = 4096;

/// Why something could not be protected, published or spent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatsError {
    /// k below [`MIN_K`].
    #[error("k must be at least {MIN_K}, got {0}")]
    KTooSmall(u32),
    /// Other invalid protection parameters.
    #[error("invalid protection parameters: {0}")]
    InvalidProtection(String),
    /// A table whose dimensions and counts do not fit together.
    #[error("malformed table: {0}")]
    Shape(String),
    /// Exact arithmetic would overflow.
    #[error("exact arithmetic overflowed")]
    Overflow,
    /// A published table that fails the publisher's own protection (hub-side check).
    #[error("unsafe release: {0}")]
    Unsafe(String),
    /// Not a period.
    #[error("not a period (YYYY, YYYY-Qn or YYYY-MM): {0:?}")]
    Period(String),
    /// The release would pass the yearly ε cap.
    #[error("ε budget exceeded for {year}: spent {spent}, requested {requested}, cap {cap} (thousandths)")]
    BudgetExceeded {
        /// Calendar year.
        year: u16,
        /// Already spent that year, thousandths of ε.
        spent: u64,
        /// The refused spend, thousandths of ε.
        requested: u32,
        /// The yearly cap, thousandths of ε.
        cap: u32,
    },
}

/// One dimension: its name and its category codes, in publication order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    /// e.g. `sex`, `age`, `form`.
    pub name: String,
    /// Banded codes, never free text.
    pub categories: Vec<String>,
}

/// A table of true counts: 1 to 3 dimensions, counts dense in row-major order (the last
/// dimension varies fastest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// `T01` … `T08`.
    pub id: String,
    /// 1 to 3 dimensions.
    pub dimensions: Vec<Dimension>,
    /// One count per cell, row-major.
    pub counts: Vec<u64>,
}

impl Table {
    /// Builds and validates a table.
    pub fn new(
        id: impl Into<String>,
        dimensions: Vec<Dimension>,
        counts: Vec<u64>,
    ) -> Result<Self, StatsError> {
        let t = Table {
            id: id.into(),
            dimensions,
            counts,
        };
        t.validate()?;
        Ok(t)
    }

    /// Checks id, dimensions and the number of counts.
    pub fn validate(&self) -> Result<(), StatsError> {
        validate_id(&self.id)?;
        let layout = Layout::new(&self.dimensions)?;
        if self.counts.len() != layout.len {
            return Err(StatsError::Shape(format!(
                "{} counts for {} cells",
                self.counts.len(),
                layout.len
            )));
        }
        Ok(())
    }

    /// The row-major index of a cell from its category positions.
    pub fn cell_index(&self, coords: &[usize]) -> Option<usize> {
        Layout::new(&self.dimensions).ok()?.index(coords)
    }
}

fn validate_id(id: &str) -> Result<(), StatsError> {
    let ok = !id.is_empty()
        && id.len() <= 16
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(StatsError::Shape(format!("bad table id {id:?}")))
    }
}

/// Differential-privacy parameters (rule 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DpParams {
    /// ε of the whole table release, in thousandths (`1000` = ε 1.0).
    pub epsilon_milli: u32,
    /// The most any one person adds to the cells (1 for a single-valued table).
    pub contribution_bound: u32,
}

/// How a node protects its releases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protection {
    /// Threshold: counts in `1..k` are suppressed. At least 5.
    pub k: u32,
    /// Round published counts to this base (e.g. 5).
    pub rounding_base: Option<u32>,
    /// Opt-in differential privacy.
    pub dp: Option<DpParams>,
}

impl Default for Protection {
    fn default() -> Self {
        Protection {
            k: MIN_K,
            rounding_base: None,
            dp: None,
        }
    }
}

impl Protection {
    /// Refuses k < 5, a zero rounding base and zero DP parameters.
    pub fn validate(&self) -> Result<(), StatsError> {
        if self.k < MIN_K {
            return Err(StatsError::KTooSmall(self.k));
        }
        if self.rounding_base == Some(0) {
            return Err(StatsError::InvalidProtection(
                "the rounding base must be at least 1".into(),
            ));
        }
        if let Some(dp) = self.dp {
            if dp.epsilon_milli == 0 || dp.contribution_bound == 0 {
                return Err(StatsError::InvalidProtection(
                    "ε and the contribution bound must be positive".into(),
                ));
            }
        }
        Ok(())
    }
}

/// Why a value is not published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Its own count is in `1..k` (rule 3).
    Primary,
    /// It would give away another suppressed value (rule 4).
    Complementary,
    /// It belongs to the breakdown of a small group that falls in one category (rule 6).
    Group,
}

/// A published value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cell {
    /// A count: 0 or at least k, rounded if the release rounds.
    Count(u64),
    /// Suppressed, shown as "<k" or "suppressed", never as 0.
    Suppressed(Reason),
}

impl Cell {
    /// The published count, if any.
    pub fn count(&self) -> Option<u64> {
        match *self {
            Cell::Count(n) => Some(n),
            Cell::Suppressed(_) => None,
        }
    }
}

/// The noise mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mechanism {
    /// Discrete Laplace (CKS 2020), pure ε-DP.
    DiscreteLaplace,
}

/// The DP part of a release's method statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DpMethod {
    /// Always `discrete_laplace`.
    pub mechanism: Mechanism,
    /// ε of the whole table, thousandths.
    pub epsilon_milli: u32,
    /// δ: always 0 (discrete Laplace is pure ε-DP); stated because rule 9 asks for it.
    pub delta: u32,
    /// Per-person contribution bound.
    pub contribution_bound: u32,
    /// Independently noised measurement families (cells, each dimension's margins, the grand
    /// total); each gets ε / `measurements`.
    pub measurements: u32,
    /// Noise scale numerator: scale = `scale_num / scale_den`
    /// = contribution_bound · measurements / ε.
    pub scale_num: u64,
    /// Noise scale denominator.
    pub scale_den: u64,
}

/// How the complementary suppression was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplementaryCheck {
    /// Exact row-space test over the rationals ([`recoverable_cells`]).
    ExactRowspace,
}

/// What every release states about its protection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Method {
    /// Threshold.
    pub k: u32,
    /// Rounding base, if rounded.
    pub rounding_base: Option<u32>,
    /// Noise, if any.
    pub dp: Option<DpMethod>,
    /// Always `exact_rowspace`.
    pub complementary: ComplementaryCheck,
}

/// A table as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtectedTable {
    /// Table id.
    pub id: String,
    /// Its dimensions, as in the [`Table`].
    pub dimensions: Vec<Dimension>,
    /// Cells, row-major.
    pub cells: Vec<Cell>,
    /// `margins[d][c]`: the total of the cells whose dimension `d` is category `c`. Empty for a
    /// 1-D table (its cells are its margin).
    pub margins: Vec<Vec<Cell>>,
    /// The grand total.
    pub total: Cell,
    /// Method and parameters.
    pub method: Method,
}

impl ProtectedTable {
    /// What an adversary sees (structure only), for [`recoverable_cells`].
    pub fn constraint_view(&self) -> Result<ConstraintView, StatsError> {
        let layout = Layout::new(&self.dimensions)?;
        if self.cells.len() != layout.len {
            return Err(StatsError::Shape(
                "cell count does not match the dimensions".into(),
            ));
        }
        let sets = layout.total_sets();
        let values = self.totals();
        if values.len() != sets.len() {
            return Err(StatsError::Shape(
                "margins do not match the dimensions".into(),
            ));
        }
        Ok(ConstraintView {
            cell_published: self.cells.iter().map(|c| c.count().is_some()).collect(),
            totals: sets
                .into_iter()
                .zip(values)
                .map(|(cells, v)| TotalView {
                    cells,
                    published: v.count().is_some(),
                })
                .collect(),
        })
    }

    /// Every total in constraint order: margins by dimension and category, then the grand total.
    pub fn totals(&self) -> Vec<Cell> {
        let mut out: Vec<Cell> = self.margins.iter().flatten().copied().collect();
        out.push(self.total);
        out
    }

    /// The hub's check of a received table: valid method, no published count in `1..k`, and no
    /// suppressed value recoverable from what is published.
    pub fn check(&self) -> Result<(), StatsError> {
        let p = Protection {
            k: self.method.k,
            rounding_base: self.method.rounding_base,
            dp: self.method.dp.map(|d| DpParams {
                epsilon_milli: d.epsilon_milli,
                contribution_bound: d.contribution_bound,
            }),
        };
        p.validate()?;
        validate_id(&self.id)?;
        let k = u64::from(self.method.k);
        let small = self
            .cells
            .iter()
            .chain(self.totals().iter())
            .any(|c| matches!(c.count(), Some(n) if n > 0 && n < k));
        if small {
            return Err(StatsError::Unsafe(format!(
                "a published count is under k = {k}"
            )));
        }
        let r = analyse(&self.constraint_view()?)?;
        if !r.cells.is_empty() || !r.totals.is_empty() {
            return Err(StatsError::Unsafe(
                "a suppressed value is recoverable".into(),
            ));
        }
        Ok(())
    }
}

/// Rounds a published count (0 or at least k) to `base`, half up, never below k: 0 stays 0;
/// otherwise `max(round_half_up(n), k rounded up to the base)`.
pub fn round_count(n: u64, base: u32, k: u32) -> u64 {
    if n == 0 || base <= 1 {
        return n;
    }
    let b = u128::from(base);
    let half_up = (2 * u128::from(n) + b) / (2 * b) * b;
    let floor_k = u128::from(k).div_ceil(b) * b;
    u64::try_from(half_up.max(floor_k)).unwrap_or(u64::MAX)
}

/// Shape arithmetic of a table.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) shape: Vec<usize>,
    pub(crate) len: usize,
}

impl Layout {
    pub(crate) fn new(dimensions: &[Dimension]) -> Result<Self, StatsError> {
        if dimensions.is_empty() || dimensions.len() > 3 {
            return Err(StatsError::Shape("a table has 1 to 3 dimensions".into()));
        }
        let mut len: usize = 1;
        for (i, d) in dimensions.iter().enumerate() {
            if d.name.is_empty() || dimensions[..i].iter().any(|o| o.name == d.name) {
                return Err(StatsError::Shape(format!(
                    "bad or repeated dimension name {:?}",
                    d.name
                )));
            }
            if d.categories.is_empty() {
                return Err(StatsError::Shape(format!(
                    "dimension {:?} has no categories",
                    d.name
                )));
            }
            for (j, c) in d.categories.iter().enumerate() {
                if c.is_empty() || d.categories[..j].contains(c) {
                    return Err(StatsError::Shape(format!(
                        "bad or repeated category {c:?} in {:?}",
                        d.name
                    )));
                }
            }
            len = len.saturating_mul(d.categories.len());
        }
        if len > MAX_CELLS {
            return Err(StatsError::Shape(format!("more than {MAX_CELLS} cells")));
        }
        Ok(Layout {
            shape: dimensions.iter().map(|d| d.categories.len()).collect(),
            len,
        })
    }

    pub(crate) fn coords(&self, mut index: usize) -> Vec<usize> {
        let mut out = vec![0; self.shape.len()];
        for (d, &n) in self.shape.iter().enumerate().rev() {
            out[d] = index % n;
            index /= n;
        }
        out
    }

    pub(crate) fn index(&self, coords: &[usize]) -> Option<usize> {
        if coords.len() != self.shape.len() {
            return None;
        }
        let mut i = 0;
        for (&c, &n) in coords.iter().zip(&self.shape) {
            if c >= n {
                return None;
            }
            i = i * n + c;
        }
        Some(i)
    }

    /// Cell sets of the published totals: 1-D margins (none for a 1-D table), then the grand total.
    pub(crate) fn total_sets(&self) -> Vec<Vec<usize>> {
        let mut sets = Vec::new();
        if self.shape.len() >= 2 {
            for (d, &n) in self.shape.iter().enumerate() {
                let mut by_cat = vec![Vec::new(); n];
                for i in 0..self.len {
                    by_cat[self.coords(i)[d]].push(i);
                }
                sets.extend(by_cat);
            }
        }
        sets.push((0..self.len).collect());
        sets
    }

    /// Number of margins of each dimension (0 for a 1-D table).
    fn margin_counts(&self) -> Vec<usize> {
        if self.shape.len() >= 2 {
            self.shape.clone()
        } else {
            Vec::new()
        }
    }
}

/// Protects a table for publication (see the module documentation for each step).
///
/// `rng` is only used in DP mode; pass `&mut rand::rngs::OsRng` in production.
pub fn protect<R: RngCore + CryptoRng>(
    table: &Table,
    protection: &Protection,
    rng: &mut R,
) -> Result<ProtectedTable, StatsError> {
    protection.validate()?;
    table.validate()?;
    let layout = Layout::new(&table.dimensions)?;
    let sets = layout.total_sets();
    let n_cells = layout.len;
    let k = u64::from(protection.k);

    // Step 0: values (true, or noisy under DP). Totals from the true cells.
    let mut totals = Vec::with_capacity(sets.len());
    for set in &sets {
        let mut sum: u64 = 0;
        for &c in set {
            sum = sum
                .checked_add(table.counts[c])
                .ok_or(StatsError::Overflow)?;
        }
        totals.push(sum);
    }
    let mut cells = table.counts.clone();
    let dp_method = match protection.dp {
        None => None,
        Some(dp) => {
            let measurements: u32 = if layout.shape.len() >= 2 {
                2 + u32::try_from(layout.shape.len()).map_err(|_| StatsError::Overflow)?
            } else {
                2
            };
            let num = 1000u64 * u64::from(dp.contribution_bound) * u64::from(measurements);
            let den = u64::from(dp.epsilon_milli);
            let g = gcd_u64(num, den);
            let (t, s) = (num / g, den / g);
            for v in cells.iter_mut().chain(totals.iter_mut()) {
                *v = dlap::noisy_count(rng, *v, t, s)?;
            }
            Some(DpMethod {
                mechanism: Mechanism::DiscreteLaplace,
                epsilon_milli: dp.epsilon_milli,
                delta: 0,
                contribution_bound: dp.contribution_bound,
                measurements,
                scale_num: t,
                scale_den: s,
            })
        }
    };
    // Item i < n_cells is a cell; n_cells + j is total j.
    let values: Vec<u64> = cells.iter().chain(totals.iter()).copied().collect();
    let mut status: Vec<Option<Reason>> = vec![None; values.len()];

    // Step 1: primary suppression.
    for (st, &v) in status.iter_mut().zip(&values) {
        if v > 0 && v < k {
            *st = Some(Reason::Primary);
        }
    }

    // Step 2: group disclosure.
    group_disclosure(&layout, &cells, k, &mut status);

    // Step 3: complementary suppression until nothing suppressed is recoverable.
    let item_sets: Vec<Vec<usize>> = (0..n_cells)
        .map(|i| vec![i])
        .chain(sets.iter().cloned())
        .collect();
    let grand = values.len() - 1;
    loop {
        let view = view_of(&status, &sets, n_cells);
        let Some((item, proof)) = find_recoverable(&view, &status, &item_sets)? else {
            break;
        };
        // Cells in the proof's totals (and in the recovered total itself).
        let mut region: Vec<usize> = proof
            .iter()
            .flat_map(|&t| sets[t].iter().copied())
            .collect();
        if item >= n_cells {
            region.extend(item_sets[item].iter().copied());
        }
        // Non-zero cells first; then totals of the proof (removing an equation never helps an
        // adversary, while a suppressed zero is an unknown pinned at its lower bound); zero
        // cells last.
        let open_cells = || region.iter().copied().filter(|&c| status[c].is_none());
        let choice = open_cells()
            .filter(|&c| values[c] > 0)
            .min_by_key(|&c| (values[c], c))
            .or_else(|| {
                proof
                    .iter()
                    .map(|&t| n_cells + t)
                    .filter(|&i| status[i].is_none())
                    .min_by_key(|&i| (i == grand, values[i], i))
            })
            .or_else(|| open_cells().min());
        match choice {
            Some(i) => status[i] = Some(Reason::Complementary),
            None => {
                // Cannot happen (a proof always involves a published item); stay safe anyway.
                match status.iter().position(|s| s.is_none()) {
                    Some(i) => status[i] = Some(Reason::Complementary),
                    None => break,
                }
            }
        }
    }
    let left = analyse(&view_of(&status, &sets, n_cells))?;
    if !left.cells.is_empty() || !left.totals.is_empty() {
        return Err(StatsError::Unsafe(
            "complementary suppression did not converge".into(),
        ));
    }

    // Step 4: publish, rounding if asked.
    let publish = |i: usize| -> Cell {
        match status[i] {
            Some(r) => Cell::Suppressed(r),
            None => Cell::Count(match protection.rounding_base {
                Some(b) => round_count(values[i], b, protection.k),
                None => values[i],
            }),
        }
    };
    let mut margins = Vec::new();
    let mut next = n_cells;
    for n in layout.margin_counts() {
        margins.push((next..next + n).map(publish).collect());
        next += n;
    }
    Ok(ProtectedTable {
        id: table.id.clone(),
        dimensions: table.dimensions.clone(),
        cells: (0..n_cells).map(publish).collect(),
        margins,
        total: publish(grand),
        method: Method {
            k: protection.k,
            rounding_base: protection.rounding_base,
            dp: dp_method,
            complementary: ComplementaryCheck::ExactRowspace,
        },
    })
}

/// A suppressed item that is recoverable, with a short proof (the published totals it uses):
/// a single total first (a total whose only unknowns are the item's), then a proof without
/// the grand total, then any proof; among proofs, the shortest.
fn find_recoverable(
    view: &ConstraintView,
    status: &[Option<Reason>],
    item_sets: &[Vec<usize>],
) -> Result<Option<(usize, Vec<usize>)>, StatsError> {
    let unknown = |set: &[usize]| -> Vec<usize> {
        set.iter()
            .copied()
            .filter(|&c| !view.cell_published[c])
            .collect()
    };
    let suppressed: Vec<usize> = (0..status.len()).filter(|&i| status[i].is_some()).collect();
    let grand = view.totals.len().saturating_sub(1);
    // Unknown cells of each published total; the grand total last, so others are preferred.
    let published: Vec<(usize, Vec<usize>)> = (0..view.totals.len())
        .filter(|&j| j != grand)
        .chain(std::iter::once(grand))
        .filter(|&j| view.totals.get(j).is_some_and(|t| t.published))
        .map(|j| (j, unknown(&view.totals[j].cells)))
        .collect();
    for &item in &suppressed {
        let u = unknown(&item_sets[item]);
        if u.is_empty() {
            return Ok(Some((item, Vec::new())));
        }
        if let Some((j, _)) = published.iter().find(|(_, tu)| *tu == u) {
            return Ok(Some((item, vec![*j])));
        }
    }
    let mut without_grand = view.clone();
    without_grand.totals[grand].published = false;
    for v in [&without_grand, view] {
        let system = linalg::System::build(v)?;
        let mut best: Option<(usize, Vec<usize>)> = None;
        for &item in &suppressed {
            if let Some(proof) = system.witness(&item_sets[item])? {
                if best.as_ref().is_none_or(|(_, p)| proof.len() < p.len()) {
                    best = Some((item, proof));
                }
            }
        }
        if best.is_some() {
            return Ok(best);
        }
    }
    Ok(None)
}

fn view_of(status: &[Option<Reason>], sets: &[Vec<usize>], n_cells: usize) -> ConstraintView {
    ConstraintView {
        cell_published: status[..n_cells].iter().map(Option::is_none).collect(),
        totals: sets
            .iter()
            .enumerate()
            .map(|(j, s)| TotalView {
                cells: s.clone(),
                published: status[n_cells + j].is_none(),
            })
            .collect(),
    }
}

/// Rule 6 on the cell values (true or noisy); marks cells (and, for the whole-table group,
/// the margins of the dimension concerned) as [`Reason::Group`].
fn group_disclosure(layout: &Layout, cells: &[u64], k: u64, status: &mut [Option<Reason>]) {
    let dims = layout.shape.len();
    let n_cells = layout.len;
    let coords: Vec<Vec<usize>> = (0..n_cells).map(|i| layout.coords(i)).collect();
    // Offsets of each dimension's margins among the items.
    let mut margin_start = Vec::new();
    let mut next = n_cells;
    for n in layout.margin_counts() {
        margin_start.push(next);
        next += n;
    }
    // Every set of fixed dimensions except "all fixed" (a single cell has no breakdown).
    for fixed in 0u32..(1 << dims) - 1 {
        let is_fixed = |d: usize| fixed & (1 << d) != 0;
        let mut groups: std::collections::BTreeMap<Vec<usize>, Vec<usize>> = Default::default();
        for (i, c) in coords.iter().enumerate() {
            let key: Vec<usize> = (0..dims).filter(|&d| is_fixed(d)).map(|d| c[d]).collect();
            groups.entry(key).or_default().push(i);
        }
        for members in groups.values() {
            let n: u64 = members
                .iter()
                .fold(0u64, |a, &i| a.saturating_add(cells[i]));
            if n < k || n >= 2 * k {
                continue;
            }
            for e in (0..dims).filter(|&d| !is_fixed(d) && layout.shape[d] >= 2) {
                let mut by_cat = vec![0u64; layout.shape[e]];
                for &i in members {
                    let x = &mut by_cat[coords[i][e]];
                    *x = x.saturating_add(cells[i]);
                }
                if by_cat.contains(&n) {
                    for &i in members {
                        status[i].get_or_insert(Reason::Group);
                    }
                    if fixed == 0 && dims >= 2 {
                        for j in 0..layout.shape[e] {
                            status[margin_start[e] + j].get_or_insert(Reason::Group);
                        }
                    }
                }
            }
        }
    }
}

fn gcd_u64(a: u64, b: u64) -> u64 {
    let (mut a, mut b) = (a, b);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}
