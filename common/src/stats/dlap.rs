//! Exact discrete Laplace sampling (rule 9), after Canonne, Kamath and Steinke, "The Discrete
//! Gaussian for Differential Privacy" (NeurIPS 2020), Algorithms 1 and 2.
//!
//! Everything is integer or rational arithmetic on uniform integers drawn from a
//! cryptographically secure generator (`R: RngCore + CryptoRng`, `OsRng` in production): no
//! floating point anywhere, so there is no floating-point Laplace attack (Mironov 2012) and the
//! output distribution is exactly
//!
//! `P(Z = z) = (1 − q)/(1 + q) · q^|z|`, with `q = exp(−1/scale)` and `scale = t/s`.

use rand::{CryptoRng, Rng, RngCore};

use super::StatsError;

/// Bernoulli(num/den): one exact uniform integer below `den` (rand's `gen_range` rejects, it
/// does not round).
fn bernoulli_rational<R: RngCore + CryptoRng>(rng: &mut R, num: u128, den: u128) -> bool {
    if num >= den {
        return true;
    }
    rng.gen_range(0..den) < num
}

/// Bernoulli(exp(−num/den)) for `num/den ≥ 0` (CKS Algorithm 1).
pub(crate) fn bernoulli_exp<R: RngCore + CryptoRng>(
    rng: &mut R,
    num: u64,
    den: u64,
) -> Result<bool, StatsError> {
    if den == 0 {
        return Err(StatsError::InvalidProtection(
            "zero denominator in the noise parameter".into(),
        ));
    }
    let (num, den) = (u128::from(num), u128::from(den));
    if num <= den {
        // exp(−γ) for γ ∈ [0, 1]: count the run of Bernoulli(γ/k) successes.
        let mut k: u128 = 1;
        loop {
            let kden = den.checked_mul(k).ok_or(StatsError::Overflow)?;
            if !bernoulli_rational(rng, num, kden) {
                break;
            }
            k += 1;
        }
        Ok(k % 2 == 1)
    } else {
        // exp(−γ) = exp(−1)^⌊γ⌋ · exp(−(γ − ⌊γ⌋)).
        let whole = num / den;
        for _ in 0..whole {
            if !bernoulli_exp(rng, 1, 1)? {
                return Ok(false);
            }
        }
        let rest = u64::try_from(num % den).map_err(|_| StatsError::Overflow)?;
        let den = u64::try_from(den).map_err(|_| StatsError::Overflow)?;
        bernoulli_exp(rng, rest, den)
    }
}

/// One sample of the discrete Laplace distribution with scale `t/s` (CKS Algorithm 2):
/// `P(z) ∝ exp(−|z|·s/t)`.
pub fn sample_discrete_laplace<R: RngCore + CryptoRng>(
    rng: &mut R,
    t: u64,
    s: u64,
) -> Result<i64, StatsError> {
    if t == 0 || s == 0 {
        return Err(StatsError::InvalidProtection(
            "the noise scale must be positive".into(),
        ));
    }
    loop {
        let u = rng.gen_range(0..t);
        if !bernoulli_exp(rng, u, t)? {
            continue;
        }
        let mut v: u64 = 0;
        while bernoulli_exp(rng, 1, 1)? {
            v = v.checked_add(1).ok_or(StatsError::Overflow)?;
        }
        // x ~ Geometric(1 − exp(−1/t)), then y = ⌊x/s⌋ ~ Geometric(1 − exp(−s/t)).
        let x = t
            .checked_mul(v)
            .and_then(|tv| tv.checked_add(u))
            .ok_or(StatsError::Overflow)?;
        let y = i64::try_from(x / s).map_err(|_| StatsError::Overflow)?;
        let negative: bool = rng.gen();
        if negative && y == 0 {
            continue;
        }
        return Ok(if negative { -y } else { y });
    }
}

/// `count + Z`, clamped at 0 (post-processing: it costs no privacy).
pub(crate) fn noisy_count<R: RngCore + CryptoRng>(
    rng: &mut R,
    count: u64,
    t: u64,
    s: u64,
) -> Result<u64, StatsError> {
    let z = sample_discrete_laplace(rng, t, s)?;
    let noisy = i128::from(count) + i128::from(z);
    Ok(u64::try_from(noisy.max(0)).unwrap_or(u64::MAX))
}
