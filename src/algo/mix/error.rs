//! The one error type of the mix module.

use thiserror::Error;

/// What can go wrong when weighting and drawing a mix. Every variant says what to do.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum MixError {
    /// A token budget of zero.
    #[error("the token budget is 0: ask for at least one token (--tokens)")]
    ZeroBudget,
    /// The pool cannot supply the budget within the repetition cap.
    #[error(
        "the pool cannot reach {requested} tokens with at most {max_repeat} repeats per sample: \
         the largest reachable budget is {reachable} tokens ({eligible} eligible samples); \
         lower --tokens, raise --max-repeat, or add data"
    )]
    BudgetUnreachable {
        /// Tokens asked for.
        requested: u64,
        /// The largest budget the pool can reach under the constraints.
        reachable: u64,
        /// The repetition cap.
        max_repeat: u16,
        /// Samples with a positive weight.
        eligible: u64,
    },
    /// A source reachable only below what a constraint demands of it.
    #[error(
        "source {source_name} must supply {required} tokens but can supply at most {reachable} \
         with at most {max_repeat} repeats per sample: loosen its share, lower --tokens or \
         raise --max-repeat"
    )]
    SourceUnreachable {
        /// The source.
        source_name: String,
        /// Tokens its share requires.
        required: u64,
        /// Its largest reachable token count.
        reachable: u64,
        /// The repetition cap.
        max_repeat: u16,
    },
    /// A source named in weights or bounds that the pool does not have.
    #[error("unknown source {name:?}: the pool's sources are {known}")]
    UnknownSource {
        /// The name given.
        name: String,
        /// The pool's sources, comma-separated.
        known: String,
    },
    /// Domain weights that do not sum to one.
    #[error(
        "domain weights sum to {sum}, not 1 (tolerance 1e-6): fix them, or ask to normalise \
         (--normalise)"
    )]
    WeightsDoNotSumToOne {
        /// Their sum.
        sum: f64,
    },
    /// A parameter outside its range.
    #[error("{what} = {value} is invalid: {expected}")]
    BadParameter {
        /// The parameter.
        what: &'static str,
        /// The value given, printed.
        value: String,
        /// What it must be.
        expected: &'static str,
    },
    /// The kernel needs a score that no sample has.
    #[error(
        "kernel {kernel} needs {what} but no sample of the pool has one: run `{run}` first, or \
         choose a kernel that does not need it (natural, domain{alt})"
    )]
    MissingScore {
        /// The kernel.
        kernel: &'static str,
        /// The missing score, e.g. "a quality score q(x)".
        what: &'static str,
        /// The command that computes it.
        run: &'static str,
        /// Other kernels that work without it.
        alt: &'static str,
    },
    /// Share constraints that no mix can satisfy.
    #[error("the source share constraints cannot all hold: {reason}")]
    InfeasibleBounds {
        /// Why.
        reason: String,
    },
    /// Topic share bounds (`--topic-bounds`) that no mix can satisfy.
    #[error("the topic share bounds cannot all hold: {reason}")]
    TopicBoundsInfeasible {
        /// Why, and what to loosen.
        reason: String,
    },
    /// A budget so small that the draw holds no sample.
    #[error(
        "a budget of {requested} tokens draws no sample (the smallest sample the kernel weighs \
         has {smallest} tokens): a mix must hold at least one sample; raise --tokens"
    )]
    NothingDrawn {
        /// Tokens asked for.
        requested: u64,
        /// Tokens of the smallest sample with a positive weight.
        smallest: u64,
    },
    /// No sample has a positive weight.
    #[error("no sample of the pool has a positive weight under kernel {kernel}: nothing to draw")]
    NothingToDraw {
        /// The kernel.
        kernel: &'static str,
    },
}

/// Result type of the mix module.
pub type Result<T, E = MixError> = std::result::Result<T, E>;
