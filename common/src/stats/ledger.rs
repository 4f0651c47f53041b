//! The ε budget ledger (rule 9): what each differentially private release spent, summed by
//! calendar year against the node's yearly cap. Pure data; the node persists it.

use serde::{Deserialize, Serialize};

use super::StatsError;

/// A closed release period. Written `2025`, `2025-Q2` or `2025-07`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Period {
    /// A calendar year.
    Year(u16),
    /// A quarter (1–4) of a year.
    Quarter(u16, u8),
    /// A month (1–12) of a year.
    Month(u16, u8),
}

impl Period {
    /// The calendar year the period lies in (periods never straddle years).
    pub fn year(&self) -> u16 {
        match *self {
            Period::Year(y) | Period::Quarter(y, _) | Period::Month(y, _) => y,
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Period::Year(y) => write!(f, "{y:04}"),
            Period::Quarter(y, q) => write!(f, "{y:04}-Q{q}"),
            Period::Month(y, m) => write!(f, "{y:04}-{m:02}"),
        }
    }
}

impl std::str::FromStr for Period {
    type Err = StatsError;
    fn from_str(s: &str) -> Result<Self, StatsError> {
        let bad = || StatsError::Period(s.to_string());
        let year = |y: &str| -> Result<u16, StatsError> {
            if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) {
                y.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        match s.split_once('-') {
            None => Ok(Period::Year(year(s)?)),
            Some((y, rest)) => {
                let y = year(y)?;
                if let Some(q) = rest.strip_prefix('Q') {
                    match q {
                        "1" | "2" | "3" | "4" => {
                            Ok(Period::Quarter(y, q.parse().map_err(|_| bad())?))
                        }
                        _ => Err(bad()),
                    }
                } else if rest.len() == 2 && rest.bytes().all(|b| b.is_ascii_digit()) {
                    let m: u8 = rest.parse().map_err(|_| bad())?;
                    if (1..=12).contains(&m) {
                        Ok(Period::Month(y, m))
                    } else {
                        Err(bad())
                    }
                } else {
                    Err(bad())
                }
            }
        }
    }
}

impl TryFrom<String> for Period {
    type Error = StatsError;
    fn try_from(s: String) -> Result<Self, StatsError> {
        s.parse()
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

/// One recorded spend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerEntry {
    /// The period of the release that spent it.
    pub period: Period,
    /// ε spent, in thousandths.
    pub epsilon_milli: u32,
}

/// The node's ε ledger: every spend, and the cap per calendar year (thousandths of ε).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpsilonLedger {
    /// Yearly cap, in thousandths of ε.
    pub yearly_cap_milli: u32,
    /// Every spend so far, in the order recorded. Corrections are new releases and spend again.
    pub entries: Vec<LedgerEntry>,
}

impl EpsilonLedger {
    /// An empty ledger with a yearly cap.
    pub fn new(yearly_cap_milli: u32) -> Self {
        EpsilonLedger {
            yearly_cap_milli,
            entries: Vec::new(),
        }
    }

    /// ε spent in a calendar year (thousandths; `u64`, so it cannot overflow).
    pub fn spent(&self, year: u16) -> u64 {
        self.entries
            .iter()
            .filter(|e| e.period.year() == year)
            .map(|e| u64::from(e.epsilon_milli))
            .sum()
    }

    /// Would a release spending `epsilon_milli` in `year` stay within the cap?
    pub fn check(&self, year: u16, epsilon_milli: u32) -> Result<(), StatsError> {
        let spent = self.spent(year);
        let cap = u64::from(self.yearly_cap_milli);
        if spent + u64::from(epsilon_milli) > cap {
            return Err(StatsError::BudgetExceeded {
                year,
                spent,
                requested: epsilon_milli,
                cap: self.yearly_cap_milli,
            });
        }
        Ok(())
    }

    /// Records a spend after [`EpsilonLedger::check`]; refuses (and records nothing) past the cap.
    pub fn record(&mut self, period: Period, epsilon_milli: u32) -> Result<(), StatsError> {
        self.check(period.year(), epsilon_milli)?;
        self.entries.push(LedgerEntry {
            period,
            epsilon_milli,
        });
        Ok(())
    }
}
