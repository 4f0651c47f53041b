//! Property and example tests of the disclosure-control rules.

use std::collections::BTreeSet;

use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::*;

fn dims(shape: &[usize]) -> Vec<Dimension> {
    shape
        .iter()
        .enumerate()
        .map(|(d, &n)| Dimension {
            name: format!("d{d}"),
            categories: (0..n).map(|c| format!("c{c}")).collect(),
        })
        .collect()
}

fn table(shape: &[usize], counts: Vec<u64>) -> Table {
    Table::new("T01", dims(shape), counts).unwrap()
}

fn no_rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(0)
}

/// Counts with many small cells: a third zeros, a third in 1..5, the rest up to 40.
fn small_count() -> impl Strategy<Value = u64> {
    prop_oneof![3 => Just(0u64), 4 => 1u64..5, 3 => 5u64..40]
}

fn shape_strategy() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        prop::collection::vec(1usize..8, 1),
        prop::collection::vec(1usize..6, 2),
        prop::collection::vec(1usize..5, 3),
    ]
}

fn table_strategy() -> impl Strategy<Value = Table> {
    shape_strategy().prop_flat_map(|shape| {
        let n: usize = shape.iter().product();
        prop::collection::vec(small_count(), n).prop_map(move |c| table(&shape, c))
    })
}

fn protection_strategy() -> impl Strategy<Value = Protection> {
    (
        5u32..12,
        prop::option::of(prop_oneof![Just(3u32), Just(5), Just(10)]),
    )
        .prop_map(|(k, rounding_base)| Protection {
            k,
            rounding_base,
            dp: None,
        })
}

/// True totals in constraint order.
fn true_totals(t: &Table) -> Vec<u64> {
    let layout = Layout::new(&t.dimensions).unwrap();
    layout
        .total_sets()
        .iter()
        .map(|s| s.iter().map(|&c| t.counts[c]).sum())
        .collect()
}

fn published(p: &ProtectedTable) -> Vec<Cell> {
    p.cells.iter().copied().chain(p.totals()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// (a) no published cell or margin in 1..k; small true counts suppressed, zeros published
    /// as 0 unless suppressed for another reason; (b, linear) nothing recoverable;
    /// (c) published totals are round(true total), never a sum of rounded cells.
    #[test]
    fn protected_tables_are_safe(t in table_strategy(), p in protection_strategy()) {
        let out = protect(&t, &p, &mut no_rng()).unwrap();
        let k = u64::from(p.k);
        for c in published(&out) {
            if let Some(n) = c.count() {
                prop_assert!(n == 0 || n >= k, "published {n} under k = {k}");
            }
        }
        let truth: Vec<u64> = t.counts.iter().copied().chain(true_totals(&t)).collect();
        for (c, &v) in published(&out).iter().zip(&truth) {
            if v > 0 && v < k {
                prop_assert_eq!(*c, Cell::Suppressed(Reason::Primary));
            }
            if let Some(n) = c.count() {
                let expect = match p.rounding_base { Some(b) => round_count(v, b, p.k), None => v };
                prop_assert_eq!(n, expect);
                prop_assert_eq!(n == 0, v == 0);
            }
        }
        let view = out.constraint_view().unwrap();
        prop_assert_eq!(recoverable_cells(&view).unwrap(), Vec::<usize>::new());
        prop_assert_eq!(recoverable_totals(&view).unwrap(), Vec::<usize>::new());
        prop_assert!(out.check().is_ok());
        // The release states its method.
        prop_assert_eq!(out.method.k, p.k);
        prop_assert_eq!(out.method.rounding_base, p.rounding_base);
        prop_assert_eq!(out.method.complementary, ComplementaryCheck::ExactRowspace);
        // Wire round trip.
        let json = serde_json::to_string(&out).unwrap();
        prop_assert_eq!(serde_json::from_str::<ProtectedTable>(&json).unwrap(), out);
    }

    /// DP mode: same guarantees on the noisy counts; the method states the mechanism.
    #[test]
    fn dp_tables_are_safe(t in table_strategy(), seed in any::<u64>(), eps in 100u32..3000) {
        let p = Protection { k: 5, rounding_base: Some(5), dp: Some(DpParams { epsilon_milli: eps, contribution_bound: 1 }) };
        let out = protect(&t, &p, &mut ChaCha20Rng::seed_from_u64(seed)).unwrap();
        for c in published(&out) {
            if let Some(n) = c.count() {
                prop_assert!(n == 0 || n >= 5);
            }
        }
        prop_assert!(out.check().is_ok());
        let dp = out.method.dp.unwrap();
        prop_assert_eq!(dp.mechanism, Mechanism::DiscreteLaplace);
        prop_assert_eq!(dp.delta, 0);
        let m = if t.dimensions.len() == 1 { 2 } else { 2 + t.dimensions.len() as u64 };
        // scale = bound · m / ε, exactly.
        prop_assert_eq!(u128::from(dp.scale_num) * u128::from(eps), 1000 * u128::from(m) * u128::from(dp.scale_den));
    }

    /// (d) the ledger sums per calendar year and refuses past the cap, recording nothing then.
    #[test]
    fn ledger_sums_and_refuses(cap in 0u32..5000, spends in prop::collection::vec((2024u16..2027, 1u8..13, 0u32..1500), 0..30)) {
        let mut ledger = EpsilonLedger::new(cap);
        let mut expected = std::collections::BTreeMap::<u16, u64>::new();
        for (y, m, eps) in spends {
            let before = *expected.get(&y).unwrap_or(&0);
            let res = ledger.record(Period::Month(y, m), eps);
            if before + u64::from(eps) <= u64::from(cap) {
                prop_assert!(res.is_ok());
                *expected.entry(y).or_default() += u64::from(eps);
            } else {
                prop_assert_eq!(res, Err(StatsError::BudgetExceeded { year: y, spent: before, requested: eps, cap }));
            }
            for year in 2024u16..2027 {
                prop_assert_eq!(ledger.spent(year), *expected.get(&year).unwrap_or(&0));
                prop_assert!(ledger.spent(year) <= u64::from(cap));
            }
        }
    }
}

/// Brute-force integer adversary for a small 2-D release: every non-negative integer
/// completion of the suppressed cells consistent with the published cells and totals
/// (unrounded). Returns, per suppressed cell, the set of values it takes over all completions,
/// or `None` when the search is too large.
fn completions(out: &ProtectedTable, limit: u64) -> Option<Vec<(usize, BTreeSet<u64>)>> {
    let view = out.constraint_view().unwrap();
    let unknown: Vec<usize> = (0..out.cells.len())
        .filter(|&c| !view.cell_published[c])
        .collect();
    // Constraints: (unknown positions, remaining sum).
    let totals = out.totals();
    let mut cons: Vec<(Vec<usize>, u64)> = Vec::new();
    for (tv, v) in view.totals.iter().zip(&totals) {
        if let Some(v) = v.count() {
            let known: u64 = tv.cells.iter().filter_map(|&c| out.cells[c].count()).sum();
            let vars: Vec<usize> = tv
                .cells
                .iter()
                .filter_map(|c| unknown.iter().position(|u| u == c))
                .collect();
            cons.push((vars, v.checked_sub(known)?));
        }
    }
    // Unknowns outside every published constraint are free: skip them (any value fits).
    let bounded: Vec<usize> = (0..unknown.len())
        .filter(|&j| cons.iter().any(|(vs, _)| vs.contains(&j)))
        .collect();
    let ub: Vec<u64> = (0..unknown.len())
        .map(|j| {
            cons.iter()
                .filter(|(vs, _)| vs.contains(&j))
                .map(|(_, r)| *r)
                .min()
                .unwrap_or(0)
        })
        .collect();
    let mut seen: Vec<BTreeSet<u64>> = vec![BTreeSet::new(); unknown.len()];
    let mut x = vec![0u64; unknown.len()];
    let mut nodes = 0u64;
    #[allow(clippy::too_many_arguments)]
    fn dfs(
        pos: usize,
        bounded: &[usize],
        ub: &[u64],
        cons: &[(Vec<usize>, u64)],
        x: &mut Vec<u64>,
        seen: &mut Vec<BTreeSet<u64>>,
        nodes: &mut u64,
        limit: u64,
    ) -> bool {
        *nodes += 1;
        if *nodes > limit {
            return false;
        }
        let assigned = |j: usize| bounded[..pos].contains(&j);
        for (vs, r) in cons {
            let s: u64 = vs.iter().filter(|&&j| assigned(j)).map(|&j| x[j]).sum();
            if s > *r {
                return true;
            }
            if vs.iter().all(|&j| assigned(j)) && s != *r {
                return true;
            }
        }
        if pos == bounded.len() {
            for &j in bounded {
                seen[j].insert(x[j]);
            }
            return true;
        }
        let j = bounded[pos];
        for v in 0..=ub[j] {
            x[j] = v;
            if !dfs(pos + 1, bounded, ub, cons, x, seen, nodes, limit) {
                return false;
            }
        }
        x[j] = 0;
        true
    }
    if !dfs(
        0, &bounded, &ub, &cons, &mut x, &mut seen, &mut nodes, limit,
    ) {
        return None;
    }
    Some(
        bounded
            .iter()
            .map(|&j| (unknown[j], std::mem::take(&mut seen[j])))
            .collect(),
    )
}

fn small_2d_few_zeros() -> impl Strategy<Value = Table> {
    (2usize..4, 2usize..4).prop_flat_map(|(r, c)| {
        prop::collection::vec(
            prop_oneof![1 => Just(0u64), 5 => 1u64..5, 4 => 5u64..9],
            r * c,
        )
        .prop_map(move |v| table(&[r, c], v))
    })
}

fn small_2d() -> impl Strategy<Value = Table> {
    (2usize..4, 2usize..4).prop_flat_map(|(r, c)| {
        prop::collection::vec(
            prop_oneof![3 => Just(0u64), 4 => 1u64..5, 3 => 5u64..9],
            r * c,
        )
        .prop_map(move |v| table(&[r, c], v))
    })
}

/// Runs the brute-force adversary; returns the first suppressed cell it pins to a single
/// value in 1..k, if any.
fn pinned_small_cell(t: &Table, out: &ProtectedTable) -> Result<(), TestCaseError> {
    if let Some(found) = completions(out, 200_000) {
        for (cell, values) in found {
            prop_assert!(values.contains(&t.counts[cell]));
            if values.len() == 1 {
                let v = t.counts[cell];
                prop_assert!(
                    v == 0 || v >= 5,
                    "cell {cell} (true {v}) pinned by non-negativity; table {:?} published {:?}",
                    t.counts,
                    out.cells
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// (b, integer, proven case) when no suppressed cell is a true zero, a brute-force
    /// adversary that knows counts are non-negative integers never pins a suppressed cell.
    /// (In a 2-D table with all 1-D margins the constraint matrix is totally unimodular, so a
    /// suppressed cell that is not linearly determined lies on a ±1 cycle of suppressed cells;
    /// with every one of them ≥ 1 the table plus or minus that cycle is another non-negative
    /// solution.)
    #[test]
    fn brute_force_adversary_without_suppressed_zeros(t in small_2d_few_zeros()) {
        let p = Protection { k: 5, rounding_base: None, dp: None };
        let out = protect(&t, &p, &mut no_rng()).unwrap();
        let zero_suppressed = (0..t.counts.len()).any(|c| t.counts[c] == 0 && out.cells[c].count().is_none());
        prop_assume!(!zero_suppressed);
        pinned_small_cell(&t, &out)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// (b, integer, general) the same adversary on every table. KNOWN TO FAIL: when zeros are
    /// suppressed (group disclosure suppresses whole breakdowns, zeros included; zero cells are
    /// the complements of last resort), non-negativity can pin a suppressed small cell that the
    /// linear check proves undetermined, e.g. 3×3 [5,1,5; 0,5,1; 0,0,5], k = 5 (see
    /// `nonnegativity_gap_example`). It hits about 0.1 % of these tables, hence 3,000 cases
    /// (about 1.5 min) so that a run reliably finds one. Closing it needs protection intervals
    /// (an LP/ILP per suppressed cell, as τ-ARGUS does), not done yet.
    #[test]
    #[ignore = "known gap: non-negativity attack when zeros are suppressed; see doc comment"]
    fn brute_force_adversary_finds_no_small_cell(t in small_2d()) {
        let p = Protection { k: 5, rounding_base: None, dp: None };
        let out = protect(&t, &p, &mut no_rng()).unwrap();
        pinned_small_cell(&t, &out)?;
    }
}

/// The gap, pinned down so that a fix shows up as this test failing.
#[test]
fn nonnegativity_gap_example() {
    let t = table(&[3, 3], vec![5, 1, 5, 0, 5, 1, 0, 0, 5]);
    let out = protect(&t, &Protection::default(), &mut no_rng()).unwrap();
    assert!(out.check().is_ok()); // linearly safe
    let found = completions(&out, 2_000_000).unwrap();
    let pinned: Vec<usize> = found
        .iter()
        .filter(|(c, v)| v.len() == 1 && (1..5).contains(&t.counts[*c]))
        .map(|(c, _)| *c)
        .collect();
    assert_eq!(
        pinned,
        vec![1, 5],
        "the known non-negativity gap changed: {found:?}"
    );
}

/// The adversary does find what a naive release gives away.
#[test]
fn adversary_recovers_a_lone_suppressed_cell() {
    // 2×2 with only the 3 suppressed and every margin published: 3 = row total − 10.
    let view = ConstraintView {
        cell_published: vec![false, true, true, true],
        totals: vec![
            TotalView {
                cells: vec![0, 1],
                published: true,
            },
            TotalView {
                cells: vec![2, 3],
                published: true,
            },
            TotalView {
                cells: vec![0, 2],
                published: true,
            },
            TotalView {
                cells: vec![1, 3],
                published: true,
            },
            TotalView {
                cells: vec![0, 1, 2, 3],
                published: true,
            },
        ],
    };
    assert_eq!(recoverable_cells(&view).unwrap(), vec![0]);
    // A suppressed rectangle is safe; the grand total is then the only way in.
    let mut rect = view.clone();
    rect.cell_published = vec![false; 4];
    assert!(recoverable_cells(&rect).unwrap().is_empty());
    // A suppressed margin that the others give away is caught too.
    let mut m = view;
    m.cell_published = vec![true; 4];
    m.totals[0].published = false;
    assert_eq!(recoverable_totals(&m).unwrap(), vec![0]);
}

#[test]
fn one_small_cell_gets_three_complements() {
    let t = table(&[3, 3], vec![3, 10, 12, 20, 30, 40, 15, 25, 35]);
    let out = protect(&t, &Protection::default(), &mut no_rng()).unwrap();
    let suppressed: Vec<usize> = (0..9).filter(|&i| out.cells[i].count().is_none()).collect();
    // Smallest non-zero complements: 10 in row 0, 15 in column 0, then 25 closes the rectangle.
    assert_eq!(suppressed, vec![0, 1, 6, 7]);
    assert_eq!(out.cells[0], Cell::Suppressed(Reason::Primary));
    assert_eq!(out.cells[1], Cell::Suppressed(Reason::Complementary));
    assert!(out.totals().iter().all(|c| c.count().is_some()));
    assert_eq!(out.total, Cell::Count(190));
}

/// (c) rounding: totals are round(true total), not sums of rounded cells.
#[test]
fn totals_are_rounded_from_true_data() {
    let t = table(&[1, 3], vec![6, 6, 6]);
    let p = Protection {
        k: 5,
        rounding_base: Some(5),
        dp: None,
    };
    let out = protect(&t, &p, &mut no_rng()).unwrap();
    // Cells 6 → 5 each (sum 15), the true total 18 → 20.
    assert_eq!(out.cells, vec![Cell::Count(5); 3]);
    assert_eq!(out.total, Cell::Count(20));
    assert_eq!(round_count(0, 5, 5), 0);
    assert_eq!(round_count(7, 5, 5), 5);
    assert_eq!(round_count(8, 5, 5), 10);
    assert_eq!(round_count(15, 10, 5), 20); // half up
    assert_eq!(round_count(11, 5, 11), 15); // never below k
    assert_eq!(round_count(7, 5, 7), 10);
}

/// (f) group disclosure: 7 women, all in one form of exploitation.
#[test]
fn group_disclosure_suppresses_the_breakdown() {
    // sex (F, M) × form (sexual, labour, other)
    let t = table(&[2, 3], vec![7, 0, 0, 12, 9, 6]);
    let out = protect(&t, &Protection::default(), &mut no_rng()).unwrap();
    for c in 0..3 {
        assert_eq!(out.cells[c], Cell::Suppressed(Reason::Group), "cell {c}");
    }
    // The group's own total (7 women) stays published.
    assert_eq!(out.margins[0][0], Cell::Count(7));
    assert!(out.check().is_ok());
    // The same row with 10 = 2k is large enough to publish.
    let t = table(&[2, 3], vec![10, 0, 0, 12, 9, 6]);
    let out = protect(&t, &Protection::default(), &mut no_rng()).unwrap();
    assert_eq!(out.cells[0], Cell::Count(10));
    // The whole table as a group: 8 persons, all adults.
    let t = table(&[2, 2], vec![0, 5, 0, 3]);
    let out = protect(&t, &Protection::default(), &mut no_rng()).unwrap();
    assert!(out.cells.iter().all(|c| c.count().is_none()));
    assert!(out.margins[1].iter().all(|c| c.count().is_none()));
    assert!(out.check().is_ok());
}

/// (g) k below 5 is refused, by `protect` and by the hub-side check.
#[test]
fn k_below_five_is_refused() {
    let t = table(&[2], vec![3, 9]);
    for k in 0..5 {
        let p = Protection {
            k,
            rounding_base: None,
            dp: None,
        };
        assert_eq!(
            protect(&t, &p, &mut no_rng()),
            Err(StatsError::KTooSmall(k))
        );
    }
    let mut out = protect(&t, &Protection::default(), &mut no_rng()).unwrap();
    out.method.k = 3;
    assert_eq!(out.check(), Err(StatsError::KTooSmall(3)));
    // And a release with a small published cell is refused by the check.
    let mut out = protect(
        &table(&[2], vec![30, 9]),
        &Protection::default(),
        &mut no_rng(),
    )
    .unwrap();
    out.cells[1] = Cell::Count(4);
    assert!(matches!(out.check(), Err(StatsError::Unsafe(_))));
}

#[test]
fn bad_input_is_refused() {
    assert!(Table::new("T01", dims(&[2, 2]), vec![1, 2, 3]).is_err());
    assert!(Table::new("T01", dims(&[2, 2, 2, 2]), vec![0; 16]).is_err());
    assert!(Table::new("", dims(&[2]), vec![0; 2]).is_err());
    let p = Protection {
        k: 5,
        rounding_base: Some(0),
        dp: None,
    };
    assert!(p.validate().is_err());
    let p = Protection {
        k: 5,
        rounding_base: None,
        dp: Some(DpParams {
            epsilon_milli: 0,
            contribution_bound: 1,
        }),
    };
    assert!(p.validate().is_err());
    let json = r#"{"k":5,"rounding_base":null,"dp":null,"extra":1}"#;
    assert!(serde_json::from_str::<Protection>(json).is_err());
    let json = r#"{"k":5,"rounding_base":5,"dp":{"epsilon_milli":1000,"contribution_bound":1}}"#;
    assert!(serde_json::from_str::<Protection>(json).is_ok());
}

#[test]
fn periods_parse_and_print() {
    for s in ["2025", "2025-Q3", "2025-07"] {
        let p: Period = s.parse().unwrap();
        assert_eq!(p.to_string(), s);
        assert_eq!(p.year(), 2025);
        assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{s}\""));
    }
    for s in ["25", "2025-Q5", "2025-13", "2025-00", "2025-7", "x"] {
        assert!(s.parse::<Period>().is_err(), "{s}");
    }
}

/// (e) the sampler against the exact pmf: chi-square, symmetry and variance.
#[test]
fn discrete_laplace_matches_its_pmf() {
    let mut rng = ChaCha20Rng::seed_from_u64(20_20);
    for (t, s) in [(2u64, 1u64), (7, 3)] {
        let q = (-(s as f64) / t as f64).exp();
        let pmf = |z: i64| (1.0 - q) / (1.0 + q) * q.powi(z.unsigned_abs() as i32);
        const N: usize = 200_000;
        const B: i64 = 12; // bins -B..=B, tails pooled
        let mut counts = vec![0u64; (2 * B + 3) as usize];
        let (mut sum, mut sum_sq, mut pos, mut neg) = (0f64, 0f64, 0u64, 0u64);
        for _ in 0..N {
            let z = dlap::sample_discrete_laplace(&mut rng, t, s).unwrap();
            let bin = if z < -B {
                0
            } else if z > B {
                2 * B + 2
            } else {
                z + B + 1
            };
            counts[bin as usize] += 1;
            sum += z as f64;
            sum_sq += (z * z) as f64;
            pos += u64::from(z > 0);
            neg += u64::from(z < 0);
        }
        let tail: f64 = (B + 1..200).map(pmf).sum();
        let mut chi2 = 0.0;
        for (i, &o) in counts.iter().enumerate() {
            let p = match i as i64 {
                0 => tail,
                i if i == 2 * B + 2 => tail,
                i => pmf(i - B - 1),
            };
            let e = p * N as f64;
            chi2 += (o as f64 - e).powi(2) / e;
        }
        // 26 degrees of freedom: the 0.1 % critical value is 54.05.
        assert!(chi2 < 54.05, "scale {t}/{s}: chi² = {chi2}");
        // Symmetry: positives and negatives within 4 standard deviations.
        let n = (pos + neg) as f64;
        assert!(
            ((pos as f64) - n / 2.0).abs() < 4.0 * (n / 4.0).sqrt(),
            "{pos} vs {neg}"
        );
        // Mean 0 and variance 2q/(1−q)².
        let var = 2.0 * q / (1.0 - q).powi(2);
        let mean = sum / N as f64;
        assert!(mean.abs() < 4.0 * (var / N as f64).sqrt(), "mean {mean}");
        let emp = sum_sq / N as f64 - mean * mean;
        assert!((emp / var - 1.0).abs() < 0.03, "variance {emp} vs {var}");
    }
}

#[test]
fn bernoulli_exp_is_exact_enough() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    for (num, den) in [(1u64, 2u64), (3, 2), (5, 1)] {
        let p = (-(num as f64) / den as f64).exp();
        let n = 100_000;
        let hits = (0..n)
            .filter(|_| dlap::bernoulli_exp(&mut rng, num, den).unwrap())
            .count();
        let sd = (p * (1.0 - p) / n as f64).sqrt();
        assert!((hits as f64 / n as f64 - p).abs() < 4.5 * sd, "{num}/{den}");
    }
}

/// A T03-sized table (20 citizenships × 20 countries, sparse, many small cells) and a T01-shaped
/// 3-D table protect and pass the adversary's check.
#[test]
fn realistic_sizes() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let counts: Vec<u64> = (0..400)
        .map(|i| {
            let r = rand::Rng::gen_range(&mut rng, 0u64..100);
            if i % 21 == 0 {
                40 + r
            } else if r < 70 {
                0
            } else if r < 90 {
                r % 5
            } else {
                r % 30
            }
        })
        .collect();
    let t = table(&[20, 20], counts.clone());
    let start = std::time::Instant::now();
    let out = protect(&t, &Protection::default(), &mut no_rng()).unwrap();
    let took = start.elapsed();
    assert!(out.check().is_ok());
    let suppressed = out.cells.iter().filter(|c| c.count().is_none()).count();
    eprintln!("20×20: {suppressed} of 400 cells suppressed in {took:?}");
    // 64×64 = 4096 cells, the largest table accepted.
    let big: Vec<u64> = (0..4096).map(|i| counts[i % 400]).collect();
    let t = table(&[64, 64], big);
    let start = std::time::Instant::now();
    let out = protect(&t, &Protection::default(), &mut no_rng()).unwrap();
    let took = start.elapsed();
    assert!(out.check().is_ok());
    let suppressed = out.cells.iter().filter(|c| c.count().is_none()).count();
    eprintln!("64×64: {suppressed} of 4096 cells suppressed in {took:?}");
    let counts: Vec<u64> = (0..30).map(|i| [0, 3, 12, 7, 0, 25][i % 6]).collect();
    let t = table(&[3, 2, 5], counts);
    let out = protect(
        &t,
        &Protection {
            k: 5,
            rounding_base: Some(5),
            dp: None,
        },
        &mut no_rng(),
    )
    .unwrap();
    assert!(out.check().is_ok());
}

fn release_of(tables: Vec<ProtectedTable>) -> release::ReleaseBody {
    release::ReleaseBody {
        v: release::RELEASE_FORMAT,
        country: "GTM".parse().unwrap(),
        period: "2026-Q3".parse().unwrap(),
        version: 1,
        prev: "0".repeat(64),
        prepared_at: "2026-10-01T00:05:00Z".into(),
        published_at: "2026-10-02T10:00:00Z".into(),
        review: release::ReleaseReview::Reviewed,
        method: tables[0].method.clone(),
        withheld: Vec::new(),
        tables,
    }
}

fn protected(id: &str, shape: &[usize], counts: Vec<u64>) -> ProtectedTable {
    let t = Table::new(id, dims(shape), counts).unwrap();
    protect(&t, &Protection::default(), &mut no_rng()).unwrap()
}

/// The hub's checks of a release body: each refusal with its stable code.
#[test]
fn a_release_body_is_checked_before_it_is_stored() {
    use release::{PeriodKind, ReleaseRefusal};
    let gtm = "GTM".parse().unwrap();
    let good = release_of(vec![
        protected("T01", &[2, 2], vec![12, 3, 20, 30]),
        protected("T02", &[3], vec![9, 0, 14]),
    ]);
    assert_eq!(good.check(gtm, PeriodKind::Quarter), Ok(()));
    let code = |b: &release::ReleaseBody, kind| b.check(gtm, kind).unwrap_err().code();
    assert_eq!(code(&good, PeriodKind::Month), "release_wrong_period");
    assert_eq!(
        good.check("HND".parse().unwrap(), PeriodKind::Quarter),
        Err(ReleaseRefusal::WrongCountry)
    );
    // A published count under k edited in (the suppressed 3 of T01 made visible).
    let mut leaked = good.clone();
    leaked.tables[0].cells[1] = Cell::Count(3);
    assert_eq!(code(&leaked, PeriodKind::Quarter), "release_unsafe");
    // A suppressed cell whose complement was published: recoverable from the totals.
    let mut recoverable = good.clone();
    let i = recoverable.tables[0]
        .cells
        .iter()
        .rposition(|c| c.count().is_none())
        .unwrap();
    recoverable.tables[0].cells[i] = Cell::Count(20);
    assert_eq!(code(&recoverable, PeriodKind::Quarter), "release_unsafe");
    // k under 5, stated by the release and its tables.
    let mut low = good.clone();
    low.method.k = 3;
    for t in &mut low.tables {
        t.method.k = 3;
    }
    assert_eq!(code(&low, PeriodKind::Quarter), "release_unsafe");
    // A table stating another method than the release.
    let mut other = good.clone();
    other.tables[1].method.rounding_base = Some(5);
    assert_eq!(code(&other, PeriodKind::Quarter), "release_unsafe");
    // Shape: out of order, repeated, unknown, withheld and published, bad prev, version 0.
    let mut swapped = good.clone();
    swapped.tables.reverse();
    assert_eq!(code(&swapped, PeriodKind::Quarter), "release_malformed");
    let mut twice = good.clone();
    twice.withheld.push("T02".into());
    assert_eq!(code(&twice, PeriodKind::Quarter), "release_malformed");
    let mut unknown = good.clone();
    unknown.tables[1].id = "T99".into();
    assert_eq!(code(&unknown, PeriodKind::Quarter), "release_malformed");
    let mut prev = good.clone();
    prev.prev = "not a hash".into();
    assert_eq!(code(&prev, PeriodKind::Quarter), "release_malformed");
    let mut v0 = good;
    v0.version = 0;
    assert_eq!(code(&v0, PeriodKind::Quarter), "release_malformed");
}
