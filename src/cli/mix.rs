//! `samplemix mix`: draw a named mix, save its manifest, print its report and what changed
//! since the previous draw of the same name.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use samplemix::algo::mix::{Kernel, ShareBounds, DEFAULT_MAX_REPEAT};
use samplemix::pool::mixes::{self, MixSpec};
use samplemix::stages::mix::{self as mix_stage, MixDiff};
use samplemix::store::{MixRecord, Store};
use serde_json::json;

use super::output::print_json;
use super::JsonFlag;

/// Kernels of `mix --kernel`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelArg {
    /// Target joint density of (q, d): Olkin-Liu bivariate beta (--a, --b, --c).
    BivariateBeta,
    /// alpha d + (1 - alpha) q (--alpha).
    Linear,
    /// Uniform over samples: natural source shares.
    Natural,
    /// Given source token shares (--domain-weights or --domain-file).
    Domain,
    /// The best fraction of samples by quality (--fraction).
    QualityThreshold,
    /// Equal tokens per topic.
    TopicBalanced,
}

/// `samplemix mix`.
#[derive(clap::Args, Debug)]
pub struct MixArgs {
    /// The mix name. Drawing an existing name again reuses its saved parameters unless flags
    /// override them, and prints what changed.
    pub name: String,
    /// Token budget (suffixes k, M, G accepted: 250M). Required for a new mix.
    #[arg(long, value_parser = parse_tokens)]
    pub tokens: Option<u64>,
    /// Weighting kernel [default: bivariate-beta].
    #[arg(long, value_enum)]
    pub kernel: Option<KernelArg>,
    /// bivariate-beta: quality shape a [default: 2].
    #[arg(long)]
    pub a: Option<f64>,
    /// bivariate-beta: diversity shape b [default: 2].
    #[arg(long)]
    pub b: Option<f64>,
    /// bivariate-beta: coupling shape c [default: 2].
    #[arg(long)]
    pub c: Option<f64>,
    /// linear: weight of diversity [default: 0.8].
    #[arg(long)]
    pub alpha: Option<f64>,
    /// quality-threshold: fraction of samples kept [default: 0.8].
    #[arg(long)]
    pub fraction: Option<f64>,
    /// domain: token shares, src=share,...
    #[arg(long, value_name = "SRC=SHARE,...", conflicts_with = "domain_file")]
    pub domain_weights: Option<String>,
    /// domain: token shares from a JSON object or TOML table {source: share}.
    #[arg(long, value_name = "FILE.json|FILE.toml")]
    pub domain_file: Option<PathBuf>,
    /// domain: divide the shares by their sum instead of requiring a sum of 1.
    #[arg(long)]
    pub normalise: bool,
    /// Seed of the per-sample uniforms [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Most copies of one sample [default: 4].
    #[arg(long)]
    pub max_repeat: Option<u16>,
    /// Keep every source's token share within LOW,HIGH times its natural share (e.g. 0.5,2).
    #[arg(long, value_name = "LOW,HIGH")]
    pub source_bounds: Option<String>,
    /// Keep every topic's token share within LOW,HIGH times its natural share (e.g. 0.5,2; needs
    /// `samplemix topics`). A topic that cannot supply LOW even with every sample at the
    /// repetition cap gets what it can.
    #[arg(long, value_name = "LOW,HIGH")]
    pub topic_bounds: Option<String>,
    /// Absolute minimum token shares, src=share,...
    #[arg(long, value_name = "SRC=SHARE,...")]
    pub min_share: Option<String>,
    /// Absolute maximum token shares, src=share,...
    #[arg(long, value_name = "SRC=SHARE,...")]
    pub max_share: Option<String>,
    /// Ignore the saved parameters of a re-drawn mix: flags, config file and defaults only
    /// (the diff against the previous draw is still printed).
    #[arg(long)]
    pub fresh: bool,
    /// Drop every saved constraint (source and topic bounds, min and max shares) of a re-drawn
    /// mix.
    #[arg(long)]
    pub no_bounds: bool,
    /// Parameters from a TOML or JSON file (keys: tokens, kernel, a, b, c, alpha, fraction,
    /// seed, max_repeat, source_bounds = [low, high], topic_bounds = [low, high], normalise,
    /// and tables domain_weights,
    /// min_share, max_share of source = share). Flags win over the file, the file over the
    /// saved parameters of a re-drawn mix.
    #[arg(long, value_name = "FILE.toml|FILE.json")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub quality: super::quality::QualityFlags,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// A token count with an optional suffix k, M, G (or B), T: `250M`, `1.5G`. `mix --tokens` and
/// `export --shard-tokens` share it.
pub(super) fn parse_tokens(s: &str) -> Result<u64, String> {
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

fn parse_pairs(what: &str, s: &str) -> Result<Vec<(String, f64)>> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (k, v) = p
                .rsplit_once('=')
                .with_context(|| format!("{what}: {p:?} is not SOURCE=SHARE"))?;
            let v: f64 = v
                .trim()
                .parse()
                .with_context(|| format!("{what}: {v:?} in {p:?} is not a number"))?;
            Ok((k.trim().to_string(), v))
        })
        .collect()
}

/// The text of a parameter file and whether it is TOML (by its `.toml` extension; else JSON).
fn read_toml_or_json(path: &Path) -> Result<(String, bool)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let is_toml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    Ok((text, is_toml))
}

fn read_domain_file(path: &Path) -> Result<Vec<(String, f64)>> {
    let (text, is_toml) = read_toml_or_json(path)?;
    let value: serde_json::Value = if is_toml {
        let t: toml::Table =
            toml::from_str(&text).with_context(|| format!("{}: not TOML", path.display()))?;
        serde_json::to_value(t)?
    } else {
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?
    };
    let obj = match value.get("weights") {
        Some(w) if w.is_object() => w.clone(),
        _ => value,
    };
    let Some(map) = obj.as_object() else {
        bail!(
            "{}: expected an object of source = share (optionally under \"weights\")",
            path.display()
        );
    };
    map.iter()
        .map(|(k, v)| {
            let share = v.as_f64().with_context(|| {
                format!("{}: share of {k:?} is not a number: {v}", path.display())
            })?;
            Ok((k.clone(), share))
        })
        .collect()
}

/// The parameters a `--config` file may hold.
#[derive(serde::Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct MixConfig {
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
    domain_weights: Option<std::collections::BTreeMap<String, f64>>,
    min_share: Option<std::collections::BTreeMap<String, f64>>,
    max_share: Option<std::collections::BTreeMap<String, f64>>,
}

/// The parameters of a draw as given: the flags, with what `--config` fills in where a flag is
/// absent. A plain value built from the clap arguments, which stay as parsed.
#[derive(Debug, Default, Clone, PartialEq)]
struct Given {
    tokens: Option<u64>,
    kernel: Option<KernelArg>,
    a: Option<f64>,
    b: Option<f64>,
    c: Option<f64>,
    alpha: Option<f64>,
    fraction: Option<f64>,
    seed: Option<u64>,
    max_repeat: Option<u16>,
    normalise: bool,
    /// `--source-bounds` as written (or the file's pair, written the same way).
    source_bounds: Option<String>,
    /// `--topic-bounds` as written (or the file's pair).
    topic_bounds: Option<String>,
    /// `--domain-weights`, `--domain-file` (flags only: read when the kernel is domain).
    domain_weights: Option<String>,
    domain_file: Option<PathBuf>,
    min_share: Option<String>,
    max_share: Option<String>,
    /// Tables of the config file, used where the flag is absent.
    cfg_domain: Option<Vec<(String, f64)>>,
    cfg_min_share: Option<Vec<(String, f64)>>,
    cfg_max_share: Option<Vec<(String, f64)>>,
    no_bounds: bool,
    /// `--quality`, `--rank-within`.
    quality: super::quality::QualityFlags,
}

impl Given {
    /// The flags of `args`, filled in from its `--config` file.
    fn of(args: &MixArgs) -> Result<Given> {
        let given = Given {
            tokens: args.tokens,
            kernel: args.kernel,
            a: args.a,
            b: args.b,
            c: args.c,
            alpha: args.alpha,
            fraction: args.fraction,
            seed: args.seed,
            max_repeat: args.max_repeat,
            normalise: args.normalise,
            source_bounds: args.source_bounds.clone(),
            topic_bounds: args.topic_bounds.clone(),
            domain_weights: args.domain_weights.clone(),
            domain_file: args.domain_file.clone(),
            min_share: args.min_share.clone(),
            max_share: args.max_share.clone(),
            cfg_domain: None,
            cfg_min_share: None,
            cfg_max_share: None,
            no_bounds: args.no_bounds,
            quality: args.quality,
        };
        match &args.config {
            Some(path) => given.with_config(path, read_config(path)?),
            None => Ok(given),
        }
    }

    /// Fills what the flags did not give from a `--config` file's values.
    fn with_config(mut self, path: &Path, cfg: MixConfig) -> Result<Given> {
        if self.tokens.is_none() {
            if let Some(t) = cfg.tokens {
                let s = match t {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                self.tokens = Some(
                    parse_tokens(&s)
                        .map_err(|e| anyhow::anyhow!("{}: tokens: {e}", path.display()))?,
                );
            }
        }
        if self.kernel.is_none() {
            if let Some(k) = cfg.kernel {
                self.kernel = Some(KernelArg::from_str(&k, true).map_err(|_| {
                    anyhow::anyhow!(
                        "{}: unknown kernel {k:?} (bivariate-beta, linear, natural, domain, \
                         quality-threshold, topic-balanced)",
                        path.display()
                    )
                })?);
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
            self.source_bounds = cfg.source_bounds.map(|(a, b)| format!("{a},{b}"));
        }
        if self.topic_bounds.is_none() {
            self.topic_bounds = cfg.topic_bounds.map(|(a, b)| format!("{a},{b}"));
        }
        let pairs = |m: std::collections::BTreeMap<String, f64>| m.into_iter().collect::<Vec<_>>();
        self.cfg_domain = cfg.domain_weights.map(pairs);
        self.cfg_min_share = cfg.min_share.map(pairs);
        self.cfg_max_share = cfg.max_share.map(pairs);
        Ok(self)
    }
}

/// Reads a `--config` file (TOML by its extension, else JSON).
fn read_config(path: &Path) -> Result<MixConfig> {
    let (text, is_toml) = read_toml_or_json(path)?;
    Ok(if is_toml {
        toml::from_str(&text).with_context(|| format!("{}: bad mix config", path.display()))?
    } else {
        serde_json::from_str(&text)
            .with_context(|| format!("{}: bad mix config", path.display()))?
    })
}

/// The spec of this draw: what was given, else the saved mix's values, else the defaults.
fn resolve(name: &str, given: &Given, saved: Option<&MixSpec>) -> Result<MixSpec> {
    let tokens = match (given.tokens, saved) {
        (Some(t), _) => t,
        (None, Some(s)) => s.tokens,
        (None, None) => bail!("mix {name:?} does not exist yet: give its budget with --tokens"),
    };
    let saved_kernel = saved.map(|s| &s.kernel);
    let kind = given.kernel.unwrap_or_else(|| kernel_kind(saved_kernel));
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
        bounds: resolve_bounds(given, saved)?,
        density_grid: saved.and_then(|s| s.density_grid),
        quality: given
            .quality
            .signal()
            .or(saved.map(|s| s.quality))
            .unwrap_or_default(),
        rank_within: given
            .quality
            .scope()
            .or(saved.map(|s| s.rank_within))
            .unwrap_or_default(),
    })
}

/// The kind of a saved kernel; bivariate-beta without one.
fn kernel_kind(saved: Option<&Kernel>) -> KernelArg {
    match saved {
        Some(Kernel::BivariateBeta { .. }) | None => KernelArg::BivariateBeta,
        Some(Kernel::Linear { .. }) => KernelArg::Linear,
        Some(Kernel::Natural) => KernelArg::Natural,
        Some(Kernel::Domain { .. }) => KernelArg::Domain,
        Some(Kernel::QualityThreshold { .. }) => KernelArg::QualityThreshold,
        Some(Kernel::TopicBalanced) => KernelArg::TopicBalanced,
    }
}

/// The kernel of kind `kind`: each parameter given, else the saved kernel's (same kind), else
/// the default.
fn resolve_kernel(kind: KernelArg, given: &Given, saved: Option<&Kernel>) -> Result<Kernel> {
    Ok(match kind {
        KernelArg::BivariateBeta => {
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
        KernelArg::Linear => Kernel::Linear {
            alpha: given.alpha.unwrap_or(match saved {
                Some(&Kernel::Linear { alpha }) => alpha,
                _ => Kernel::DEFAULT_LINEAR_ALPHA,
            }),
        },
        KernelArg::Natural => Kernel::Natural,
        KernelArg::TopicBalanced => Kernel::TopicBalanced,
        KernelArg::QualityThreshold => Kernel::QualityThreshold {
            fraction: given.fraction.unwrap_or(match saved {
                Some(&Kernel::QualityThreshold { fraction }) => fraction,
                _ => Kernel::DEFAULT_QUALITY_FRACTION,
            }),
        },
        KernelArg::Domain => resolve_domain(given, saved)?,
    })
}

/// The domain kernel: shares from `--domain-weights`, `--domain-file` or the config file, else
/// the saved ones.
fn resolve_domain(given: &Given, saved: Option<&Kernel>) -> Result<Kernel> {
    let shares = if let Some(w) = &given.domain_weights {
        Some(parse_pairs("--domain-weights", w)?)
    } else if let Some(f) = &given.domain_file {
        Some(read_domain_file(f)?)
    } else {
        given.cfg_domain.clone()
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
        (None, _) => bail!(
            "kernel domain needs source shares: --domain-weights src=share,... or \
             --domain-file FILE.json|FILE.toml"
        ),
    })
}

/// Parameters of another kernel than the one drawn are refused.
fn check_kernel_parameters(kind: KernelArg, given: &Given) -> Result<()> {
    if kind != KernelArg::BivariateBeta
        && (given.a.is_some() || given.b.is_some() || given.c.is_some())
    {
        bail!("--a, --b and --c are parameters of --kernel bivariate-beta");
    }
    if kind != KernelArg::Linear && given.alpha.is_some() {
        bail!("--alpha is a parameter of --kernel linear");
    }
    if kind != KernelArg::QualityThreshold && given.fraction.is_some() {
        bail!("--fraction is a parameter of --kernel quality-threshold");
    }
    if kind != KernelArg::Domain && (given.domain_weights.is_some() || given.domain_file.is_some())
    {
        bail!("--domain-weights and --domain-file are parameters of --kernel domain");
    }
    Ok(())
}

/// The share bounds: the saved ones (unless `--no-bounds`), each kind replaced where given.
fn resolve_bounds(given: &Given, saved: Option<&MixSpec>) -> Result<ShareBounds> {
    let mut bounds = if given.no_bounds {
        ShareBounds::default()
    } else {
        saved.map(|s| s.bounds.clone()).unwrap_or_default()
    };
    if let Some(b) = &given.source_bounds {
        bounds.relative = Some(parse_low_high("--source-bounds", b)?);
    }
    if let Some(b) = &given.topic_bounds {
        bounds.topic_relative = Some(parse_low_high("--topic-bounds", b)?);
    }
    if let Some(m) = &given.min_share {
        bounds.min_share = parse_pairs("--min-share", m)?;
    } else if let Some(m) = &given.cfg_min_share {
        bounds.min_share = m.clone();
    }
    if let Some(m) = &given.max_share {
        bounds.max_share = parse_pairs("--max-share", m)?;
    } else if let Some(m) = &given.cfg_max_share {
        bounds.max_share = m.clone();
    }
    Ok(bounds)
}

/// `LOW,HIGH` of `--source-bounds` and `--topic-bounds`.
fn parse_low_high(flag: &str, b: &str) -> Result<(f64, f64)> {
    let (lo, hi) = b
        .split_once(',')
        .with_context(|| format!("{flag} {b:?}: expected LOW,HIGH such as 0.5,2"))?;
    let lo: f64 = lo
        .trim()
        .parse()
        .with_context(|| format!("{flag}: LOW is not a number"))?;
    let hi: f64 = hi
        .trim()
        .parse()
        .with_context(|| format!("{flag}: HIGH is not a number"))?;
    Ok((lo, hi))
}

/// The report of a draw as JSON.
pub fn report_json(
    name: &str,
    record: &MixRecord,
    diff: Option<&MixDiff>,
    topics: &mixes::TopicShares,
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

pub fn run(store: &Path, args: MixArgs) -> Result<ExitCode> {
    samplemix::names::check_mix_name(&args.name).map_err(anyhow::Error::msg)?;
    let given = Given::of(&args)?;
    if samplemix::store::format::read(store)?.is_none() {
        return Err(samplemix::Error::NoStore {
            path: store.to_path_buf(),
        }
        .into());
    }
    let st = Store::open_existing_writer(store)?;
    let previous = st.mix(&args.name)?;
    let saved = match &previous {
        Some(p) if !args.fresh => Some(MixSpec::of(p)?),
        _ => None,
    };
    let spec = resolve(&args.name, &given, saved.as_ref())?;
    let pool = mixes::load_with(&st, spec.quality_choice())?;
    if pool.samples.is_empty() {
        bail!(
            "the store {} holds no samples: run `samplemix append` first",
            store.display()
        );
    }
    let started = std::time::Instant::now();
    let needs_q = matches!(
        spec.kernel,
        Kernel::BivariateBeta { .. } | Kernel::Linear { .. } | Kernel::QualityThreshold { .. }
    );
    if needs_q && pool.samples.iter().all(|s| s.q.is_none()) {
        if let Some(hint) = super::quality::missing_q_hint(spec.quality_choice()) {
            bail!(hint);
        }
    }
    let record = mix_stage::draw(&pool, &spec)?;
    let draw_seconds = started.elapsed().as_secs_f64();
    let topics = mixes::topic_shares(&pool, &record.counts);
    drop(pool);
    mix_stage::save(&st, &args.name, &record)?;
    let diff = previous.as_ref().map(|old| mix_stage::diff(old, &record));
    let mut warnings = mixes::share_warnings(&record);
    warnings.extend(mixes::cap_warning(&record));
    if args.json.json {
        let mut report = report_json(&args.name, &record, diff.as_ref(), &topics);
        report["draw_seconds"] = json!(draw_seconds);
        print_json(&report)?;
    } else {
        print_text(&args.name, &spec, &record, diff.as_ref());
        print_topics(&topics);
    }
    for w in &warnings {
        eprintln!("samplemix: warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The topic coverage line of a draw (nothing when the pool has no topics).
fn print_topics(t: &mixes::TopicShares) {
    if t.pool_topics == 0 {
        return;
    }
    let ids: Vec<String> = t.under_half.iter().map(u32::to_string).collect();
    println!(
        "topics: {} of {} in the mix; {} under half their natural share{}",
        t.mix_topics,
        t.pool_topics,
        t.under_half.len(),
        if ids.is_empty() {
            String::new()
        } else {
            format!(" ({})", ids.join(", "))
        }
    );
}

fn print_text(name: &str, spec: &MixSpec, r: &MixRecord, diff: Option<&MixDiff>) {
    let err = (r.tokens_drawn as f64 - r.tokens_requested as f64) / r.tokens_requested as f64;
    println!(
        "mix {name}: {} tokens drawn for {} requested ({:+.3}%), {} distinct samples, kernel {}, \
         seed {}, max repeat {}",
        r.tokens_drawn,
        r.tokens_requested,
        100.0 * err,
        r.counts.len(),
        serde_json::to_string(&spec.kernel).unwrap_or_default(),
        spec.seed,
        spec.max_repeat
    );
    let choice = spec.quality_choice();
    if !choice.is_default() {
        println!("q(x) from {}", choice.describe());
    }
    let ex = &r.exclusions;
    if ex.no_quality + ex.no_diversity + ex.no_topic + ex.zero_tokens > 0 {
        println!(
            "excluded: {} without quality score, {} without diversity score, {} without topic, \
             {} empty; {} eligible",
            ex.no_quality, ex.no_diversity, ex.no_topic, ex.zero_tokens, ex.eligible
        );
    }
    println!(
        "{:<24} {:>14} {:>9} {:>14} {:>9} {:>7} {:>7}",
        "source", "pool tokens", "share", "mix tokens", "share", "ratio", "repeat"
    );
    for (s, t) in mixes::shares(r).iter().zip(&r.sources) {
        println!(
            "{:<24} {:>14} {:>9.4} {:>14} {:>9.4} {:>7.2} {:>7.2}{}",
            s.name,
            t.natural_tokens,
            s.natural_share,
            t.mixed_tokens,
            s.mixed_share,
            s.ratio,
            s.average_repetition,
            t.pinned
                .as_deref()
                .map(|p| format!("  (at its {p} share)"))
                .unwrap_or_default()
        );
    }
    if let Some(d) = diff {
        println!(
            "changes since the previous draw{}: {} new pool samples; {} samples added, {} \
             removed, {} with a new count, {} unchanged ({:.3}% of the previous pool changed); \
             tokens {} -> {}",
            if d.params_changed {
                " (parameters changed)"
            } else {
                ""
            },
            d.new_pool_samples,
            d.samples_added,
            d.samples_removed,
            d.count_changes,
            d.unchanged,
            100.0 * d.old_samples_changed_fraction,
            d.tokens_before,
            d.tokens_after
        );
        for s in &d.sources {
            if s.tokens_before != s.tokens_after {
                println!(
                    "  {:<24} {:>14} -> {:<14} share {:.4} -> {:.4}",
                    s.name, s.tokens_before, s.tokens_after, s.share_before, s.share_after
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        }
    }

    #[test]
    fn the_config_file_fills_only_what_the_flags_left_out() {
        let flags = Given {
            alpha: Some(0.9),
            ..Given::default()
        };
        let cfg: MixConfig = toml::from_str(
            "tokens = \"2k\"\nkernel = \"linear\"\nalpha = 0.1\nseed = 4\n\
             source_bounds = [0.25, 4.0]\n[min_share]\nweb = 0.2\n",
        )
        .unwrap();
        let given = flags.with_config(Path::new("c.toml"), cfg).unwrap();
        assert_eq!(given.tokens, Some(2000));
        assert_eq!(given.kernel, Some(KernelArg::Linear));
        assert_eq!(given.alpha, Some(0.9), "the flag wins");
        assert_eq!(given.seed, Some(4));
        assert_eq!(given.source_bounds.as_deref(), Some("0.25,4"));
        assert_eq!(given.cfg_min_share, Some(vec![("web".to_string(), 0.2)]));
        let bad: MixConfig = toml::from_str("kernel = \"cubic\"").unwrap();
        let err = Given::default()
            .with_config(Path::new("c.toml"), bad)
            .unwrap_err();
        assert!(
            err.to_string().contains("unknown kernel \"cubic\""),
            "{err}"
        );
    }

    #[test]
    fn resolve_takes_flags_then_the_saved_spec_then_the_defaults() {
        let err = resolve("m", &Given::default(), None).unwrap_err();
        assert!(err.to_string().contains("give its budget with --tokens"));
        let fresh = resolve(
            "m",
            &Given {
                tokens: Some(5),
                ..Given::default()
            },
            None,
        )
        .unwrap();
        assert_eq!(fresh.kernel, Kernel::DEFAULT_BIVARIATE_BETA);
        assert_eq!((fresh.seed, fresh.max_repeat), (0, DEFAULT_MAX_REPEAT));
        assert!(fresh.bounds.is_empty());
        let again = resolve(
            "m",
            &Given {
                seed: Some(1),
                ..Given::default()
            },
            Some(&saved()),
        )
        .unwrap();
        assert_eq!(again.kernel, Kernel::Linear { alpha: 0.3 });
        assert_eq!((again.tokens, again.seed, again.max_repeat), (1000, 1, 2));
        assert_eq!(again.bounds.relative, Some((0.5, 2.0)));
    }

    #[test]
    fn kernel_steps_keep_saved_parameters_of_the_same_kind_only() {
        assert_eq!(kernel_kind(None), KernelArg::BivariateBeta);
        assert_eq!(kernel_kind(Some(&Kernel::Natural)), KernelArg::Natural);
        let linear = Kernel::Linear { alpha: 0.3 };
        let given = Given::default();
        assert_eq!(
            resolve_kernel(KernelArg::Linear, &given, Some(&linear)).unwrap(),
            linear
        );
        assert_eq!(
            resolve_kernel(KernelArg::QualityThreshold, &given, Some(&linear)).unwrap(),
            Kernel::QualityThreshold {
                fraction: Kernel::DEFAULT_QUALITY_FRACTION
            }
        );
        assert!(resolve_domain(&given, None).is_err());
        let domain = Given {
            domain_weights: Some("a=0.25, b=0.75".into()),
            ..Given::default()
        };
        assert_eq!(
            resolve_domain(&domain, None).unwrap(),
            Kernel::Domain {
                shares: vec![("a".into(), 0.25), ("b".into(), 0.75)],
                normalise: false
            }
        );
        assert!(check_kernel_parameters(KernelArg::Natural, &domain).is_err());
        assert!(check_kernel_parameters(KernelArg::Domain, &domain).is_ok());
        let alpha = Given {
            alpha: Some(0.5),
            ..Given::default()
        };
        let err = check_kernel_parameters(KernelArg::BivariateBeta, &alpha).unwrap_err();
        assert_eq!(err.to_string(), "--alpha is a parameter of --kernel linear");
    }

    #[test]
    fn bounds_replace_the_saved_ones_kind_by_kind() {
        let s = saved();
        let given = Given {
            max_share: Some("web=0.5".into()),
            ..Given::default()
        };
        let b = resolve_bounds(&given, Some(&s)).unwrap();
        assert_eq!(b.relative, Some((0.5, 2.0)));
        assert_eq!(b.max_share, vec![("web".to_string(), 0.5)]);
        let dropped = Given {
            no_bounds: true,
            source_bounds: Some("0.1, 3".into()),
            ..Given::default()
        };
        let b = resolve_bounds(&dropped, Some(&s)).unwrap();
        assert_eq!(b.relative, Some((0.1, 3.0)));
        assert!(b.max_share.is_empty());
        let bad = Given {
            source_bounds: Some("2".into()),
            ..Given::default()
        };
        assert!(resolve_bounds(&bad, None).is_err());
    }
}
