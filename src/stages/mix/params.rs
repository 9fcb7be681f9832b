//! The parameters of a named draw as a user gives them (flags, a config file, keyword arguments
//! of the Python API), resolved against the saved parameters of a re-drawn mix and the defaults
//! into a [`MixSpec`], and [`draw_named`]: resolve, load, draw, save and compare with the
//! previous draw, the whole of `samplemix mix` short of printing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;

use crate::algo::mix::{Kernel, ShareBounds, UniformKey, DEFAULT_MAX_REPEAT};
use crate::error::{Error, Result};
use crate::pool::mixes::{self, MixSpec, TopicShares};
use crate::pool::ranks::{QualityChoice, QualitySignal, RankScope};
use crate::store::{MixRecord, Store};

use super::MixDiff;

fn invalid(msg: String) -> Error {
    Error::Invalid(msg)
}

/// The kinds of kernel a draw can ask for (`--kernel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelKind {
    /// Target joint density of (q, d): Olkin-Liu bivariate beta (a, b, c).
    BivariateBeta,
    /// alpha d + (1 - alpha) q.
    Linear,
    /// Uniform over samples: natural source shares.
    Natural,
    /// Given source token shares.
    Domain,
    /// The best fraction of samples by quality.
    QualityThreshold,
    /// Equal tokens per topic.
    TopicBalanced,
}

impl KernelKind {
    /// Every kind with its name.
    pub const ALL: [(KernelKind, &'static str); 6] = [
        (KernelKind::BivariateBeta, "bivariate-beta"),
        (KernelKind::Linear, "linear"),
        (KernelKind::Natural, "natural"),
        (KernelKind::Domain, "domain"),
        (KernelKind::QualityThreshold, "quality-threshold"),
        (KernelKind::TopicBalanced, "topic-balanced"),
    ];

    /// The kind called `name` (case-insensitive).
    pub fn from_name(name: &str) -> Option<KernelKind> {
        Self::ALL
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(k, _)| *k)
    }

    /// The kind named `name`, or an error listing the names (`what` says where it came from).
    pub fn parse(what: &str, name: &str) -> Result<KernelKind> {
        Self::from_name(name).ok_or_else(|| {
            invalid(format!(
                "{what}unknown kernel {name:?} (bivariate-beta, linear, natural, domain, \
                 quality-threshold, topic-balanced)"
            ))
        })
    }
}

/// The kernel of a new mix when none is given: the best fraction by quality, which the
/// evaluation on held-out text chose (BENCHMARKS.md, "The defaults").
pub const DEFAULT_KERNEL: KernelKind = KernelKind::QualityThreshold;

/// The quality signal of a new mix when none is given: the mean of the sample's q's among the
/// signals it has (`lm`, `repetition`, `classifier`). Mixes saved before the signal was recorded
/// read as `lm` ([`QualitySignal::default`]), so their re-draws do not change.
pub const DEFAULT_QUALITY: QualitySignal = QualitySignal::Combined;

/// The topic bounds of a new mix of a weighting kernel (bivariate-beta, linear,
/// quality-threshold) when none are given and the pool has topics; `--topic-bounds off` drops
/// them.
pub const DEFAULT_TOPIC_BOUNDS: (f64, f64) = (0.5, 2.0);

/// Whether a kernel of kind `kind` weighs samples by quality and diversity (and so gets the
/// default topic bounds).
pub fn is_weighting(kind: KernelKind) -> bool {
    matches!(
        kind,
        KernelKind::BivariateBeta | KernelKind::Linear | KernelKind::QualityThreshold
    )
}

/// A token count with an optional suffix k, M, G (or B), T: `250M`, `1.5G`.
pub fn parse_tokens(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim().replace('_', "");
    let (num, mul) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1e3),
        Some('m' | 'M') => (&t[..t.len() - 1], 1e6),
        Some('g' | 'G' | 'b' | 'B') => (&t[..t.len() - 1], 1e9),
        Some('t' | 'T') => (&t[..t.len() - 1], 1e12),
        _ => (t.as_str(), 1.0),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a token count (e.g. 1000000, 250M, 1.5G)"))?;
    if !(v >= 0.0 && v.is_finite()) {
        return Err(format!("{s:?} is not a token count"));
    }
    Ok((v * mul).round() as u64)
}

/// `SOURCE=SHARE,...` (`what` names the option in messages).
pub fn parse_pairs(what: &str, s: &str) -> Result<Vec<(String, f64)>> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (k, v) = p
                .rsplit_once('=')
                .ok_or_else(|| invalid(format!("{what}: {p:?} is not SOURCE=SHARE")))?;
            let v: f64 = v
                .trim()
                .parse()
                .map_err(|e| invalid(format!("{what}: {v:?} in {p:?} is not a number: {e}")))?;
            Ok((k.trim().to_string(), v))
        })
        .collect()
}

/// `LOW,HIGH` as the bounds options write it.
pub fn bounds_text(low: f64, high: f64) -> String {
    format!("{low},{high}")
}

/// The text of a parameter file and whether it is TOML (by its `.toml` extension; else JSON).
fn read_toml_or_json(path: &Path) -> Result<(String, bool)> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let is_toml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    Ok((text, is_toml))
}

/// Source shares from a JSON object or TOML table {source: share} (optionally under `weights`).
pub fn read_domain_file(path: &Path) -> Result<Vec<(String, f64)>> {
    let (text, is_toml) = read_toml_or_json(path)?;
    let value: serde_json::Value = if is_toml {
        let t: toml::Table = toml::from_str(&text)
            .map_err(|e| invalid(format!("{}: not TOML: {e}", path.display())))?;
        serde_json::to_value(t).map_err(|e| invalid(format!("{}: {e}", path.display())))?
    } else {
        serde_json::from_str(&text)
            .map_err(|e| invalid(format!("{}: not JSON: {e}", path.display())))?
    };
    let obj = match value.get("weights") {
        Some(w) if w.is_object() => w.clone(),
        _ => value,
    };
    let Some(map) = obj.as_object() else {
        return Err(invalid(format!(
            "{}: expected an object of source = share (optionally under \"weights\")",
            path.display()
        )));
    };
    map.iter()
        .map(|(k, v)| {
            let share = v.as_f64().ok_or_else(|| {
                invalid(format!(
                    "{}: share of {k:?} is not a number: {v}",
                    path.display()
                ))
            })?;
            Ok((k.clone(), share))
        })
        .collect()
}

/// The parameters a config file may hold.
#[derive(serde::Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct MixConfig {
    tokens: Option<serde_json::Value>,
    kernel: Option<String>,
    a: Option<f64>,
    b: Option<f64>,
    c: Option<f64>,
    alpha: Option<f64>,
    fraction: Option<f64>,
    seed: Option<u64>,
    max_repeat: Option<u16>,
    source_bounds: Option<(f64, f64)>,
    topic_bounds: Option<(f64, f64)>,
    normalise: Option<bool>,
    domain_weights: Option<BTreeMap<String, f64>>,
    min_share: Option<BTreeMap<String, f64>>,
    max_share: Option<BTreeMap<String, f64>>,
}

impl MixConfig {
    /// Reads a config file (TOML by its extension, else JSON).
    pub fn read(path: &Path) -> Result<MixConfig> {
        let (text, is_toml) = read_toml_or_json(path)?;
        let bad = |e: String| invalid(format!("{}: bad mix config: {e}", path.display()));
        if is_toml {
            toml::from_str(&text).map_err(|e| bad(e.to_string()))
        } else {
            serde_json::from_str(&text).map_err(|e| bad(e.to_string()))
        }
    }
}

/// The parameters of a draw as given; `None` (or empty) where not given, so that the saved
/// parameters of a re-drawn mix, then the defaults, fill in. The texts are as the options write
/// them (`0.5,2`, `web=0.6,wiki=0.4`); the tables are used where their text is absent.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MixParams {
    /// Token budget (required for a new mix).
    pub tokens: Option<u64>,
    /// The kernel [default: [`DEFAULT_KERNEL`]; a re-drawn mix: its saved one].
    pub kernel: Option<KernelKind>,
    /// bivariate-beta: quality shape a.
    pub a: Option<f64>,
    /// bivariate-beta: diversity shape b.
    pub b: Option<f64>,
    /// bivariate-beta: coupling shape c.
    pub c: Option<f64>,
    /// linear: weight of diversity.
    pub alpha: Option<f64>,
    /// quality-threshold: fraction of samples kept.
    pub fraction: Option<f64>,
    /// Seed of the per-sample uniforms.
    pub seed: Option<u64>,
    /// Most copies of one sample.
    pub max_repeat: Option<u16>,
    /// domain: divide the shares by their sum instead of requiring a sum of 1.
    pub normalise: bool,
    /// Source bounds `LOW,HIGH` as written.
    pub source_bounds: Option<String>,
    /// Topic bounds `LOW,HIGH` (or `off`) as written.
    pub topic_bounds: Option<String>,
    /// domain: shares as written (`src=share,...`).
    pub domain_weights: Option<String>,
    /// domain: a file of shares (JSON or TOML).
    pub domain_file: Option<PathBuf>,
    /// Absolute minimum shares as written.
    pub min_share: Option<String>,
    /// Absolute maximum shares as written.
    pub max_share: Option<String>,
    /// domain: shares as a table, used where `domain_weights` and `domain_file` are absent.
    pub domain_table: Option<Vec<(String, f64)>>,
    /// Minimum shares as a table, used where `min_share` is absent.
    pub min_share_table: Option<Vec<(String, f64)>>,
    /// Maximum shares as a table, used where `max_share` is absent.
    pub max_share_table: Option<Vec<(String, f64)>>,
    /// Drop every saved constraint of a re-drawn mix.
    pub no_bounds: bool,
    /// The quality signal q(x) is read from.
    pub quality: Option<QualitySignal>,
    /// Where q(x) is ranked.
    pub rank_within: Option<RankScope>,
}

impl MixParams {
    /// Fills what is not given from a config file.
    pub fn with_config_file(self, path: &Path) -> Result<MixParams> {
        let cfg = MixConfig::read(path)?;
        self.with_config(path, cfg)
    }

    /// Fills what is not given from a config file's values (`path` names it in messages).
    pub fn with_config(mut self, path: &Path, cfg: MixConfig) -> Result<MixParams> {
        if self.tokens.is_none() {
            if let Some(t) = cfg.tokens {
                let s = match t {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                self.tokens = Some(
                    parse_tokens(&s)
                        .map_err(|e| invalid(format!("{}: tokens: {e}", path.display())))?,
                );
            }
        }
        if self.kernel.is_none() {
            if let Some(k) = cfg.kernel {
                self.kernel = Some(KernelKind::parse(&format!("{}: ", path.display()), &k)?);
            }
        }
        self.a = self.a.or(cfg.a);
        self.b = self.b.or(cfg.b);
        self.c = self.c.or(cfg.c);
        self.alpha = self.alpha.or(cfg.alpha);
        self.fraction = self.fraction.or(cfg.fraction);
        self.seed = self.seed.or(cfg.seed);
        self.max_repeat = self.max_repeat.or(cfg.max_repeat);
        self.normalise |= cfg.normalise.unwrap_or(false);
        if self.source_bounds.is_none() {
            self.source_bounds = cfg.source_bounds.map(|(a, b)| bounds_text(a, b));
        }
        if self.topic_bounds.is_none() {
            self.topic_bounds = cfg.topic_bounds.map(|(a, b)| bounds_text(a, b));
        }
        let pairs = |m: BTreeMap<String, f64>| m.into_iter().collect::<Vec<_>>();
        self.domain_table = cfg.domain_weights.map(pairs).or(self.domain_table);
        self.min_share_table = cfg.min_share.map(pairs).or(self.min_share_table);
        self.max_share_table = cfg.max_share.map(pairs).or(self.max_share_table);
        Ok(self)
    }
}

/// The spec of a draw of `name`: what was given, else the saved mix's values, else the defaults.
pub fn resolve(name: &str, given: &MixParams, saved: Option<&MixSpec>) -> Result<MixSpec> {
    let tokens = match (given.tokens, saved) {
        (Some(t), _) => t,
        (None, Some(s)) => s.tokens,
        (None, None) => {
            return Err(invalid(format!(
                "mix {name:?} does not exist yet: give its budget with --tokens"
            )))
        }
    };
    let saved_kernel = saved.map(|s| &s.kernel);
    let kind = given
        .kernel
        .unwrap_or_else(|| saved_kernel.map_or(DEFAULT_KERNEL, |k| kernel_kind(Some(k))));
    let kernel = resolve_kernel(kind, given, saved_kernel)?;
    check_kernel_parameters(kind, given)?;
    Ok(MixSpec {
        kernel,
        tokens,
        seed: given.seed.or(saved.map(|s| s.seed)).unwrap_or(0),
        max_repeat: given
            .max_repeat
            .or(saved.map(|s| s.max_repeat))
            .unwrap_or(DEFAULT_MAX_REPEAT),
        bounds: resolve_bounds(given, saved, is_weighting(kind))?,
        density_grid: saved.and_then(|s| s.density_grid),
        quality: given
            .quality
            .or(saved.map(|s| s.quality))
            .unwrap_or(DEFAULT_QUALITY),
        rank_within: given
            .rank_within
            .or(saved.map(|s| s.rank_within))
            .unwrap_or_default(),
        // A new mix is keyed by text; a saved one keeps the uniform it was drawn with.
        uniform: saved.map_or(UniformKey::TextKey, |s| s.uniform),
    })
}

/// The kind of a saved kernel; bivariate-beta without one.
pub fn kernel_kind(saved: Option<&Kernel>) -> KernelKind {
    match saved {
        Some(Kernel::BivariateBeta { .. }) | None => KernelKind::BivariateBeta,
        Some(Kernel::Linear { .. }) => KernelKind::Linear,
        Some(Kernel::Natural) => KernelKind::Natural,
        Some(Kernel::Domain { .. }) => KernelKind::Domain,
        Some(Kernel::QualityThreshold { .. }) => KernelKind::QualityThreshold,
        Some(Kernel::TopicBalanced) => KernelKind::TopicBalanced,
    }
}

/// The kernel of kind `kind`: each parameter given, else the saved kernel's (same kind), else
/// the default.
pub fn resolve_kernel(
    kind: KernelKind,
    given: &MixParams,
    saved: Option<&Kernel>,
) -> Result<Kernel> {
    Ok(match kind {
        KernelKind::BivariateBeta => {
            let (da, db, dc) = match (saved, Kernel::DEFAULT_BIVARIATE_BETA) {
                (Some(&Kernel::BivariateBeta { a, b, c }), _) => (a, b, c),
                (_, Kernel::BivariateBeta { a, b, c }) => (a, b, c),
                _ => unreachable!("the default is a bivariate beta"),
            };
            Kernel::BivariateBeta {
                a: given.a.unwrap_or(da),
                b: given.b.unwrap_or(db),
                c: given.c.unwrap_or(dc),
            }
        }
        KernelKind::Linear => Kernel::Linear {
            alpha: given.alpha.unwrap_or(match saved {
                Some(&Kernel::Linear { alpha }) => alpha,
                _ => Kernel::DEFAULT_LINEAR_ALPHA,
            }),
        },
        KernelKind::Natural => Kernel::Natural,
        KernelKind::TopicBalanced => Kernel::TopicBalanced,
        KernelKind::QualityThreshold => Kernel::QualityThreshold {
            fraction: given.fraction.unwrap_or(match saved {
                Some(&Kernel::QualityThreshold { fraction }) => fraction,
                _ => Kernel::DEFAULT_QUALITY_FRACTION,
            }),
        },
        KernelKind::Domain => resolve_domain(given, saved)?,
    })
}

/// The domain kernel: shares from the text, the file or the table, else the saved ones.
pub fn resolve_domain(given: &MixParams, saved: Option<&Kernel>) -> Result<Kernel> {
    let shares = if let Some(w) = &given.domain_weights {
        Some(parse_pairs("--domain-weights", w)?)
    } else if let Some(f) = &given.domain_file {
        Some(read_domain_file(f)?)
    } else {
        given.domain_table.clone()
    };
    Ok(match (shares, saved) {
        (Some(shares), _) => Kernel::Domain {
            shares,
            normalise: given.normalise,
        },
        (None, Some(Kernel::Domain { shares, normalise })) => Kernel::Domain {
            shares: shares.clone(),
            normalise: *normalise || given.normalise,
        },
        (None, _) => {
            return Err(invalid(
                "kernel domain needs source shares: --domain-weights src=share,... or \
                 --domain-file FILE.json|FILE.toml"
                    .into(),
            ))
        }
    })
}

/// Parameters of another kernel than the one drawn are refused.
pub fn check_kernel_parameters(kind: KernelKind, given: &MixParams) -> Result<()> {
    let refuse = |m: &str| Err(invalid(m.to_string()));
    if kind != KernelKind::BivariateBeta
        && (given.a.is_some() || given.b.is_some() || given.c.is_some())
    {
        return refuse("--a, --b and --c are parameters of --kernel bivariate-beta");
    }
    if kind != KernelKind::Linear && given.alpha.is_some() {
        return refuse("--alpha is a parameter of --kernel linear");
    }
    if kind != KernelKind::QualityThreshold && given.fraction.is_some() {
        return refuse("--fraction is a parameter of --kernel quality-threshold");
    }
    if kind != KernelKind::Domain && (given.domain_weights.is_some() || given.domain_file.is_some())
    {
        return refuse("--domain-weights and --domain-file are parameters of --kernel domain");
    }
    Ok(())
}

/// The share bounds: the saved ones (unless `no_bounds`), each kind replaced where given; a
/// new mix of a weighting kernel (`weighting`) gets [`DEFAULT_TOPIC_BOUNDS`] unless told
/// otherwise (`off`, or `no_bounds`).
pub fn resolve_bounds(
    given: &MixParams,
    saved: Option<&MixSpec>,
    weighting: bool,
) -> Result<ShareBounds> {
    let mut bounds = if given.no_bounds {
        ShareBounds::default()
    } else {
        saved.map(|s| s.bounds.clone()).unwrap_or_default()
    };
    if let Some(b) = &given.source_bounds {
        bounds.relative = parse_optional_low_high("--source-bounds", b)?;
    }
    if let Some(b) = &given.topic_bounds {
        bounds.topic_relative = parse_optional_low_high("--topic-bounds", b)?;
    } else if saved.is_none() && !given.no_bounds && weighting {
        bounds.topic_relative = Some(DEFAULT_TOPIC_BOUNDS);
    }
    // Topic bounds set now round by today's rule; saved ones keep theirs.
    if bounds.topic_relative.is_none() {
        bounds.held_topics_round_whole = false;
    } else if saved.is_none() || given.topic_bounds.is_some() {
        bounds.held_topics_round_whole = true;
    }
    if let Some(m) = &given.min_share {
        bounds.min_share = parse_pairs("--min-share", m)?;
    } else if let Some(m) = &given.min_share_table {
        bounds.min_share = m.clone();
    }
    if let Some(m) = &given.max_share {
        bounds.max_share = parse_pairs("--max-share", m)?;
    } else if let Some(m) = &given.max_share_table {
        bounds.max_share = m.clone();
    }
    Ok(bounds)
}

/// `LOW,HIGH`, or `None` for `off`.
fn parse_optional_low_high(flag: &str, b: &str) -> Result<Option<(f64, f64)>> {
    if b.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    parse_low_high(flag, b).map(Some)
}

/// `LOW,HIGH` of the source and topic bounds.
pub fn parse_low_high(flag: &str, b: &str) -> Result<(f64, f64)> {
    let (lo, hi) = b
        .split_once(',')
        .ok_or_else(|| invalid(format!("{flag} {b:?}: expected LOW,HIGH such as 0.5,2")))?;
    let lo: f64 = lo
        .trim()
        .parse()
        .map_err(|e| invalid(format!("{flag}: LOW is not a number: {e}")))?;
    let hi: f64 = hi
        .trim()
        .parse()
        .map_err(|e| invalid(format!("{flag}: HIGH is not a number: {e}")))?;
    Ok((lo, hi))
}

/// What to run when no sample has a q under `choice` (`None` for today's `lm` over the pool,
/// whose absence the draw itself explains).
pub fn missing_q_hint(choice: QualityChoice) -> Option<String> {
    if choice == QualityChoice::default() {
        return None;
    }
    let signal = match choice.signal {
        QualitySignal::Lm => "`samplemix score`",
        QualitySignal::Repetition => "`samplemix quality compute repetition`",
        QualitySignal::Classifier => "the classifier (train it, then apply it)",
        QualitySignal::Combined => {
            "a signal (`samplemix score`, `samplemix quality compute repetition`)"
        }
    };
    let topics = if choice.scope == RankScope::Topic {
        " and `samplemix topics`"
    } else {
        ""
    };
    Some(format!(
        "no sample has a quality q under {}: run {signal}{topics} first, or choose another \
         --quality or --rank-within",
        choice.describe()
    ))
}

/// A draw of a named mix, saved.
#[derive(Debug, Clone)]
pub struct Drawn {
    /// The mix name.
    pub name: String,
    /// The spec drawn.
    pub spec: MixSpec,
    /// The manifest saved.
    pub record: MixRecord,
    /// What changed since the previous draw of the same name, if there was one.
    pub diff: Option<MixDiff>,
    /// The mix's tokens per topic.
    pub topics: TopicShares,
    /// Wall time of the draw itself.
    pub draw_seconds: f64,
    /// Share and repetition-cap warnings.
    pub warnings: Vec<String>,
}

impl Drawn {
    /// The report `samplemix mix --json` prints.
    pub fn report_json(&self) -> serde_json::Value {
        let mut report = report_json(&self.name, &self.record, self.diff.as_ref(), &self.topics);
        report["draw_seconds"] = json!(self.draw_seconds);
        report
    }
}

/// Draws the mix `name` in the store at `store` from `given` (over the saved parameters of a
/// previous draw of the same name unless `fresh`), saves it, and compares it with the previous
/// draw.
pub fn draw_named(store: &Path, name: &str, given: &MixParams, fresh: bool) -> Result<Drawn> {
    crate::names::check_mix_name(name).map_err(invalid)?;
    if crate::store::format::read(store)?.is_none() {
        return Err(Error::NoStore {
            path: store.to_path_buf(),
        });
    }
    let st = Store::open_existing_writer(store)?;
    let previous = st.mix(name)?;
    let saved = match &previous {
        Some(p) if !fresh => Some(MixSpec::of(p)?),
        _ => None,
    };
    let mut spec = resolve(name, given, saved.as_ref())?;
    let pool = mixes::load_with(&st, spec.quality_choice())?;
    if pool.samples.is_empty() {
        return Err(invalid(format!(
            "the store {} holds no samples: run `samplemix append` first",
            store.display()
        )));
    }
    let mut warnings = Vec::new();
    let default_topic_bounds = saved.is_none() && given.topic_bounds.is_none() && !given.no_bounds;
    if default_topic_bounds
        && spec.bounds.topic_relative.is_some()
        && pool.samples.iter().all(|s| s.topic.is_none())
    {
        spec.bounds.topic_relative = None;
        warnings.push(format!(
            "the pool has no topics, so the default topic bounds {} are not applied (run \
             `samplemix topics`, then draw with --fresh)",
            bounds_text(DEFAULT_TOPIC_BOUNDS.0, DEFAULT_TOPIC_BOUNDS.1)
        ));
    }
    let started = Instant::now();
    if spec.kernel.needs().0 && pool.samples.iter().all(|s| s.q.is_none()) {
        if let Some(hint) = missing_q_hint(spec.quality_choice()) {
            return Err(invalid(hint));
        }
    }
    let record = super::draw(&pool, &spec)?;
    let draw_seconds = started.elapsed().as_secs_f64();
    let topics = mixes::topic_shares(&pool, &record.counts);
    drop(pool);
    super::save(&st, name, &record)?;
    let diff = previous.as_ref().map(|old| super::diff(old, &record));
    warnings.extend(mixes::share_warnings(&record));
    warnings.extend(mixes::cap_warning(&record));
    Ok(Drawn {
        name: name.to_string(),
        spec,
        record,
        diff,
        topics,
        draw_seconds,
        warnings,
    })
}

/// The report of a draw as JSON.
pub fn report_json(
    name: &str,
    record: &MixRecord,
    diff: Option<&MixDiff>,
    topics: &TopicShares,
) -> serde_json::Value {
    let spec: serde_json::Value = serde_json::from_str(&record.params).unwrap_or_default();
    json!({
        "name": name,
        "params": spec,
        "tokens_requested": record.tokens_requested,
        "tokens_drawn": record.tokens_drawn,
        "budget_error": (record.tokens_drawn as f64 - record.tokens_requested as f64)
            / record.tokens_requested.max(1) as f64,
        "samples_drawn": record.counts.len(),
        "copies": record.counts.iter().map(|c| c.1 as u64).sum::<u64>(),
        "pool": {
            "next_seq": record.counters.next_seq,
            "samples": record.counters.docs,
            "tokens": record.counters.tokens,
            "scorer": record.scorer,
        },
        "excluded": record.exclusions,
        "sources": mixes::shares(record),
        "topics": {
            "pool_topics": topics.pool_topics,
            "mix_topics": topics.mix_topics,
            "under_half_count": topics.under_half.len(),
            "under_half": topics.under_half,
        },
        "warnings": mixes::share_warnings(record)
            .into_iter()
            .chain(mixes::cap_warning(record))
            .collect::<Vec<_>>(),
        "changes": diff,
    })
}

/// The (sample id, count) pairs of a stored mix, in the order of its manifest (by sequence).
pub fn id_counts(store: &Store, record: &MixRecord) -> Result<Vec<(String, u16)>> {
    let seqs: Vec<u64> = record.counts.iter().map(|c| c.0).collect();
    let docs = store.docs(&seqs)?;
    record
        .counts
        .iter()
        .zip(docs)
        .map(|(&(seq, count), doc)| match doc {
            Some(d) => Ok((d.id, count)),
            None => Err(Error::CorruptRecord {
                what: "mix manifest".into(),
                reason: format!("sample {seq} of the mix is not in the store"),
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::mix::{Kernel, ShareBounds, UniformKey, DEFAULT_MAX_REPEAT};

    fn saved() -> MixSpec {
        MixSpec {
            kernel: Kernel::Linear { alpha: 0.3 },
            tokens: 1000,
            seed: 9,
            max_repeat: 2,
            bounds: ShareBounds {
                relative: Some((0.5, 2.0)),
                ..ShareBounds::default()
            },
            density_grid: None,
            quality: Default::default(),
            rank_within: Default::default(),
            uniform: UniformKey::TextKey,
        }
    }

    #[test]
    fn the_config_file_fills_only_what_the_flags_left_out() {
        let flags = MixParams {
            alpha: Some(0.9),
            ..MixParams::default()
        };
        let cfg: MixConfig = toml::from_str(
            "tokens = \"2k\"\nkernel = \"linear\"\nalpha = 0.1\nseed = 4\n\
             source_bounds = [0.25, 4.0]\n[min_share]\nweb = 0.2\n",
        )
        .unwrap();
        let given = flags.with_config(Path::new("c.toml"), cfg).unwrap();
        assert_eq!(given.tokens, Some(2000));
        assert_eq!(given.kernel, Some(KernelKind::Linear));
        assert_eq!(given.alpha, Some(0.9), "the flag wins");
        assert_eq!(given.seed, Some(4));
        assert_eq!(given.source_bounds.as_deref(), Some("0.25,4"));
        assert_eq!(given.min_share_table, Some(vec![("web".to_string(), 0.2)]));
        let bad: MixConfig = toml::from_str("kernel = \"cubic\"").unwrap();
        let err = MixParams::default()
            .with_config(Path::new("c.toml"), bad)
            .unwrap_err();
        assert!(
            err.to_string().contains("unknown kernel \"cubic\""),
            "{err}"
        );
    }

    #[test]
    fn resolve_takes_flags_then_the_saved_spec_then_the_defaults() {
        let err = resolve("m", &MixParams::default(), None).unwrap_err();
        assert!(err.to_string().contains("give its budget with --tokens"));
        let fresh = resolve(
            "m",
            &MixParams {
                tokens: Some(5),
                ..MixParams::default()
            },
            None,
        )
        .unwrap();
        assert_eq!(
            fresh.kernel,
            Kernel::QualityThreshold {
                fraction: Kernel::DEFAULT_QUALITY_FRACTION
            }
        );
        assert_eq!((fresh.seed, fresh.max_repeat), (0, DEFAULT_MAX_REPEAT));
        assert_eq!(fresh.quality, QualitySignal::Combined);
        assert_eq!(fresh.bounds.topic_relative, Some(DEFAULT_TOPIC_BOUNDS));
        assert_eq!(fresh.bounds.relative, None);
        let natural = MixParams {
            tokens: Some(5),
            kernel: Some(KernelKind::Natural),
            ..MixParams::default()
        };
        let natural = resolve("m", &natural, None).unwrap();
        assert!(natural.bounds.is_empty(), "no default bounds for natural");
        let off = MixParams {
            tokens: Some(5),
            topic_bounds: Some("off".into()),
            ..MixParams::default()
        };
        assert!(resolve("m", &off, None).unwrap().bounds.is_empty());
        let again = resolve(
            "m",
            &MixParams {
                seed: Some(1),
                ..MixParams::default()
            },
            Some(&saved()),
        )
        .unwrap();
        assert_eq!(again.kernel, Kernel::Linear { alpha: 0.3 });
        assert_eq!((again.tokens, again.seed, again.max_repeat), (1000, 1, 2));
        assert_eq!(again.bounds.relative, Some((0.5, 2.0)));
        assert_eq!(
            again.bounds.topic_relative, None,
            "a re-draw keeps its saved bounds"
        );
        assert_eq!(again.quality, QualitySignal::Lm, "and its saved signal");
    }

    #[test]
    fn kernel_steps_keep_saved_parameters_of_the_same_kind_only() {
        assert_eq!(kernel_kind(None), KernelKind::BivariateBeta);
        assert_eq!(kernel_kind(Some(&Kernel::Natural)), KernelKind::Natural);
        let linear = Kernel::Linear { alpha: 0.3 };
        let given = MixParams::default();
        assert_eq!(
            resolve_kernel(KernelKind::Linear, &given, Some(&linear)).unwrap(),
            linear
        );
        assert_eq!(
            resolve_kernel(KernelKind::QualityThreshold, &given, Some(&linear)).unwrap(),
            Kernel::QualityThreshold {
                fraction: Kernel::DEFAULT_QUALITY_FRACTION
            }
        );
        assert!(resolve_domain(&given, None).is_err());
        let domain = MixParams {
            domain_weights: Some("a=0.25, b=0.75".into()),
            ..MixParams::default()
        };
        assert_eq!(
            resolve_domain(&domain, None).unwrap(),
            Kernel::Domain {
                shares: vec![("a".into(), 0.25), ("b".into(), 0.75)],
                normalise: false
            }
        );
        assert!(check_kernel_parameters(KernelKind::Natural, &domain).is_err());
        assert!(check_kernel_parameters(KernelKind::Domain, &domain).is_ok());
        let alpha = MixParams {
            alpha: Some(0.5),
            ..MixParams::default()
        };
        let err = check_kernel_parameters(KernelKind::BivariateBeta, &alpha).unwrap_err();
        assert_eq!(err.to_string(), "--alpha is a parameter of --kernel linear");
    }

    #[test]
    fn bounds_replace_the_saved_ones_kind_by_kind() {
        let s = saved();
        let given = MixParams {
            max_share: Some("web=0.5".into()),
            ..MixParams::default()
        };
        let b = resolve_bounds(&given, Some(&s), true).unwrap();
        assert_eq!(b.relative, Some((0.5, 2.0)));
        assert_eq!(b.max_share, vec![("web".to_string(), 0.5)]);
        let dropped = MixParams {
            no_bounds: true,
            source_bounds: Some("0.1, 3".into()),
            ..MixParams::default()
        };
        let b = resolve_bounds(&dropped, Some(&s), true).unwrap();
        assert_eq!(b.relative, Some((0.1, 3.0)));
        assert!(b.max_share.is_empty());
        let bad = MixParams {
            source_bounds: Some("2".into()),
            ..MixParams::default()
        };
        assert!(resolve_bounds(&bad, None, true).is_err());
    }
}
