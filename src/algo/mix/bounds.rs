//! Share constraints that contradict each other, refused before the solve tries them.

use super::error::{MixError, Result};

/// Refuses a source whose lower token bound is above its upper one (from `--min-share` and
/// `--max-share`, or either with `--source-bounds`): no mix can satisfy it, whatever the pool.
/// `lo` and `hi` are the per-source bounds in tokens of a budget of `budget` tokens.
pub(super) fn check_intervals(
    sources: &[String],
    lo: &[f64],
    hi: &[f64],
    budget: f64,
) -> Result<()> {
    for ((name, &lo), &hi) in sources.iter().zip(lo).zip(hi) {
        if lo > hi * (1.0 + 1e-12) {
            return Err(MixError::InfeasibleBounds {
                reason: format!(
                    "source {name} must have at least {} and at most {} of the mix's tokens: \
                     its minimum (--min-share, or LOW of --source-bounds times its natural \
                     share) is above its maximum (--max-share, or HIGH of --source-bounds times \
                     its natural share); loosen one of them",
                    lo / budget,
                    hi / budget
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimum_above_the_maximum_is_refused() {
        let names = ["web".to_string(), "wiki".to_string()];
        let inf = f64::INFINITY;
        assert_eq!(
            check_intervals(&names, &[0.0, 10.0], &[inf, 10.0], 100.0),
            Ok(())
        );
        let msg = check_intervals(&names, &[90.0, 0.0], &[10.0, inf], 100.0)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("cannot all hold: source web must have at least 0.9 and at most 0.1"),
            "{msg}"
        );
        let err = check_intervals(&names, &[0.0, 50.0], &[inf, 40.0], 100.0).unwrap_err();
        assert!(matches!(err, MixError::InfeasibleBounds { .. }));
        assert!(err
            .to_string()
            .contains("source wiki must have at least 0.5 and at most 0.4"));
    }
}
