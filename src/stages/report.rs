//! The report of a stored mix: `report.json`, `sources.csv` (per-source natural and mixed
//! tokens, shares and average repetition, readable by domain-mixing tools) and `report.html`
//! (self-contained: inline SVG, no script, no network).
//!
//! q(x) and d(x) are read from the pool as it is now (ranks among today's samples); samples
//! appended after the draw appear in the pool distributions but not in the mix.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::algo::mix::{ln_gamma, Kernel};
use crate::error::{Error, Result};
use crate::pool::mixes::{self, LoadedPool, MixSpec, SourceShare};
use crate::store::{MixExclusions, MixRecord};

/// Bins of the q and d histograms.
pub const BINS: usize = 20;

/// A histogram on `[0, 1]`: the fraction of the pool and of the mix (by copies) per bin, and
/// the target density's mass per bin when the kernel has one.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Distribution {
    /// Fraction of the pool's samples (that have the score) per bin.
    pub pool: Vec<f64>,
    /// Fraction of the mix's copies per bin.
    pub mix: Vec<f64>,
    /// The target marginal's mass per bin (bivariate-beta only).
    pub target: Option<Vec<f64>>,
}

/// Samples drawn k times, for k = 1..=max_repeat.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Repetition {
    /// Times drawn.
    pub count: u16,
    /// Samples drawn that many times.
    pub samples: u64,
}

/// Topic coverage of the mix.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TopicCoverage {
    /// Topics with at least one sample in the pool.
    pub pool_topics: u64,
    /// Topics with at least one copy in the mix.
    pub mix_topics: u64,
    /// (topic, pool tokens, mix tokens), by topic id.
    pub topics: Vec<(u32, u64, u64)>,
    /// Topics whose share of the mix is under half their natural share, by topic id.
    pub under_half: Vec<u32>,
    /// A readable name of each topic of `topics`, in the same order (its first terms,
    /// `pool::topic_views::topic_name`); empty until [`name_topics`] fills it.
    pub names: Vec<String>,
}

/// Names the report's topics (`names` by topic id; a topic without one is `topic N`).
pub fn name_topics(report: &mut MixReport, names: &std::collections::HashMap<u32, String>) {
    report.topics.names = report
        .topics
        .topics
        .iter()
        .map(|t| {
            names
                .get(&t.0)
                .cloned()
                .unwrap_or_else(|| format!("topic {}", t.0))
        })
        .collect();
}

/// The report of a mix.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MixReport {
    /// The mix name.
    pub name: String,
    /// Its parameters.
    pub params: serde_json::Value,
    /// Tokens asked for and drawn.
    pub tokens_requested: u64,
    /// Tokens drawn.
    pub tokens_drawn: u64,
    /// Distinct samples drawn.
    pub samples_drawn: u64,
    /// Samples excluded, by reason.
    pub excluded: MixExclusions,
    /// Per source.
    pub sources: Vec<SourceShare>,
    /// Per source, tokens.
    pub source_tokens: Vec<(String, u64, u64)>,
    /// Sources whose share moved by more than 2x from natural; many samples at the cap.
    pub warnings: Vec<String>,
    /// q distributions.
    pub quality: Distribution,
    /// d distributions.
    pub diversity: Distribution,
    /// The repetition histogram.
    pub repetition: Vec<Repetition>,
    /// Topic coverage.
    pub topics: TopicCoverage,
}

fn beta_mass(a: f64, b: f64) -> Vec<f64> {
    // Midpoint rule on 50 sub-intervals per bin.
    let ln_b = ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
    let sub = 50;
    (0..BINS)
        .map(|i| {
            (0..sub)
                .map(|j| {
                    let x = (i as f64 + (j as f64 + 0.5) / sub as f64) / BINS as f64;
                    ((a - 1.0) * x.ln() + (b - 1.0) * (1.0 - x).ln() - ln_b).exp()
                })
                .sum::<f64>()
                / (sub * BINS) as f64
        })
        .collect()
}

fn bin(v: f32) -> usize {
    ((v.clamp(0.0, 1.0) * BINS as f32) as usize).min(BINS - 1)
}

fn normalised(v: Vec<f64>) -> Vec<f64> {
    let s: f64 = v.iter().sum();
    v.into_iter().map(|x| x / s.max(1e-300)).collect()
}

/// Builds the report of `record` over the pool as loaded now.
pub fn build(name: &str, record: &MixRecord, pool: &LoadedPool) -> Result<MixReport> {
    let spec = MixSpec::of(record)?;
    let mut counts = record.counts.iter().peekable();
    let (mut qp, mut qm, mut dp, mut dm) = (
        vec![0.0; BINS],
        vec![0.0; BINS],
        vec![0.0; BINS],
        vec![0.0; BINS],
    );
    let mut topics: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    for s in &pool.samples {
        while counts.peek().is_some_and(|c| c.0 < s.key) {
            counts.next();
        }
        let c = match counts.peek() {
            Some(&&(k, c)) if k == s.key => c as f64,
            _ => 0.0,
        };
        if let Some(q) = s.q {
            qp[bin(q)] += 1.0;
            qm[bin(q)] += c;
        }
        if let Some(d) = s.d {
            dp[bin(d)] += 1.0;
            dm[bin(d)] += c;
        }
        if let Some(t) = s.topic {
            let e = topics.entry(t).or_default();
            e.0 += s.tokens as u64;
            e.1 += (c * s.tokens as f64) as u64;
        }
    }
    let (tq, td) = match spec.kernel {
        Kernel::BivariateBeta { a, b, c } => (Some(beta_mass(a, c)), Some(beta_mass(b, c))),
        _ => (None, None),
    };
    let mut repetition: Vec<Repetition> = (1..=spec.max_repeat)
        .map(|count| Repetition { count, samples: 0 })
        .collect();
    for &(_, c) in &record.counts {
        if let Some(r) = repetition.get_mut(c as usize - 1) {
            r.samples += 1;
        }
    }
    Ok(MixReport {
        name: name.to_string(),
        params: serde_json::from_str(&record.params).unwrap_or_default(),
        tokens_requested: record.tokens_requested,
        tokens_drawn: record.tokens_drawn,
        samples_drawn: record.counts.len() as u64,
        excluded: record.exclusions,
        sources: mixes::shares(record),
        source_tokens: record
            .sources
            .iter()
            .map(|s| (s.name.clone(), s.natural_tokens, s.mixed_tokens))
            .collect(),
        warnings: mixes::share_warnings(record)
            .into_iter()
            .chain(mixes::cap_warning(record))
            .collect(),
        quality: Distribution {
            pool: normalised(qp),
            mix: normalised(qm),
            target: tq,
        },
        diversity: Distribution {
            pool: normalised(dp),
            mix: normalised(dm),
            target: td,
        },
        repetition,
        topics: {
            let topics: Vec<(u32, u64, u64)> =
                topics.into_iter().map(|(k, (p, m))| (k, p, m)).collect();
            TopicCoverage {
                pool_topics: topics.iter().filter(|t| t.1 > 0).count() as u64,
                mix_topics: topics.iter().filter(|t| t.2 > 0).count() as u64,
                under_half: mixes::topics_under(&topics, 0.5),
                topics,
                names: Vec::new(),
            }
        },
    })
}

/// The per-source CSV: source, natural_tokens, mixed_tokens, natural_share, mixed_share, ratio,
/// average_repetition.
pub fn sources_csv(r: &MixReport) -> String {
    let mut out = String::from(
        "source,natural_tokens,mixed_tokens,natural_share,mixed_share,ratio,average_repetition\n",
    );
    for (s, (_, nat, mixed)) in r.sources.iter().zip(&r.source_tokens) {
        let name = if s.name.contains([',', '"', '\n']) {
            format!("\"{}\"", s.name.replace('"', "\"\""))
        } else {
            s.name.clone()
        };
        let _ = writeln!(
            out,
            "{name},{nat},{mixed},{:.6},{:.6},{:.4},{:.4}",
            s.natural_share, s.mixed_share, s.ratio, s.average_repetition
        );
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const COLORS: [&str; 3] = ["#8da0cb", "#fc8d62", "#66c2a5"];

/// A grouped bar chart; the third series, when given as a line, is drawn as a polyline.
/// Characters of an axis label before it is cut.
const AXIS_LABEL_CHARS: usize = 14;

fn bars(
    title: &str,
    labels: &[String],
    series: &[(&str, &[f64])],
    line: Option<(&str, &[f64])>,
) -> String {
    let (w, h, left, bottom, top) = (720.0, 260.0, 50.0, 40.0, 30.0);
    let n = labels.len().max(1);
    let max = series
        .iter()
        .flat_map(|s| s.1.iter())
        .chain(line.iter().flat_map(|l| l.1.iter()))
        .fold(0.0f64, |a, &b| a.max(b))
        .max(1e-12);
    let plot_w = w - left - 10.0;
    let plot_h = h - bottom - top;
    let group = plot_w / n as f64;
    let bw = group * 0.8 / series.len().max(1) as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"11\">\
         <text x=\"{left}\" y=\"18\" font-size=\"14\">{}</text>",
        esc(title)
    );
    let y0 = top + plot_h;
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{y0}\" x2=\"{}\" y2=\"{y0}\" stroke=\"#333\"/>\
         <text x=\"4\" y=\"{}\">{:.3}</text>",
        w - 10.0,
        top + 4.0,
        max
    );
    for (si, (name, vals)) in series.iter().enumerate() {
        for (i, v) in vals.iter().enumerate() {
            let bh = v / max * plot_h;
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\">\
                 <title>{}: {} {:.4}</title></rect>",
                left + i as f64 * group + group * 0.1 + si as f64 * bw,
                y0 - bh,
                bw,
                bh,
                COLORS[si % 3],
                esc(name),
                esc(&labels[i]),
                v
            );
        }
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"{}\">{}</text>",
            w - 200.0,
            8.0 + si as f64 * 14.0,
            COLORS[si % 3],
            w - 185.0,
            17.0 + si as f64 * 14.0,
            esc(name)
        );
    }
    if let Some((name, vals)) = line {
        let pts: Vec<String> = vals
            .iter()
            .enumerate()
            .map(|(i, v)| {
                format!(
                    "{:.1},{:.1}",
                    left + (i as f64 + 0.5) * group,
                    y0 - v / max * plot_h
                )
            })
            .collect();
        let k = series.len() as f64;
        let _ = write!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#222\" stroke-width=\"2\"/>\
             <line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#222\" stroke-width=\"2\"/>\
             <text x=\"{}\" y=\"{}\">{}</text>",
            pts.join(" "),
            w - 200.0,
            13.0 + k * 14.0,
            w - 190.0,
            13.0 + k * 14.0,
            w - 185.0,
            17.0 + k * 14.0,
            esc(name)
        );
    }
    let step = (n / 20).max(1);
    for (i, l) in labels.iter().enumerate().step_by(step) {
        // Long labels (topic names) are cut on the axis; the bars' tooltips hold them whole.
        let short: String = if l.chars().count() > AXIS_LABEL_CHARS {
            l.chars().take(AXIS_LABEL_CHARS - 1).chain(['…']).collect()
        } else {
            l.clone()
        };
        let x = left + (i as f64 + 0.5) * group;
        let _ = write!(
            svg,
            "<text x=\"{x:.1}\" y=\"{}\" text-anchor=\"end\" \
             transform=\"rotate(-25 {x:.1} {})\">{}</text>",
            y0 + 14.0,
            y0 + 14.0,
            esc(&short)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The HTML page.
pub fn html(r: &MixReport) -> String {
    let mut page = html_head(r);
    html_sources(&mut page, r);
    html_distributions(&mut page, r);
    html_topics(&mut page, r);
    page.push_str("</body></html>\n");
    page
}

/// The page's head: title, totals, exclusions and warnings.
fn html_head(r: &MixReport) -> String {
    let mut page = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>mix {0}</title>\
         <style>body{{font-family:sans-serif;max-width:760px;margin:2em auto}}\
         table{{border-collapse:collapse}}td,th{{padding:2px 8px;text-align:right}}\
         .warn{{color:#b00}}</style></head><body><h1>mix {0}</h1>\
         <p>{1} tokens drawn for {2} requested; {3} distinct samples. Parameters: \
         <code>{4}</code></p>",
        esc(&r.name),
        r.tokens_drawn,
        r.tokens_requested,
        r.samples_drawn,
        esc(&r.params.to_string())
    );
    let ex = &r.excluded;
    let _ = write!(
        page,
        "<p>Excluded: {} without quality score, {} without diversity score, {} without topic, \
         {} empty; {} eligible.</p>",
        ex.no_quality, ex.no_diversity, ex.no_topic, ex.zero_tokens, ex.eligible
    );
    for w in &r.warnings {
        let _ = write!(page, "<p class=\"warn\">Warning: {}</p>", esc(w));
    }
    page
}

/// The sources table and their token-share chart.
fn html_sources(page: &mut String, r: &MixReport) {
    page.push_str(
        "<h2>Sources</h2><table><tr><th>source</th><th>pool share</th><th>mix share</th>\
         <th>ratio</th><th>average repetition</th></tr>",
    );
    for s in &r.sources {
        let _ = write!(
            page,
            "<tr><td style=\"text-align:left\">{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.2}</td>\
             <td>{:.2}</td></tr>",
            esc(&s.name),
            s.natural_share,
            s.mixed_share,
            s.ratio,
            s.average_repetition
        );
    }
    page.push_str("</table>");
    let names: Vec<String> = r.sources.iter().map(|s| s.name.clone()).collect();
    let nat: Vec<f64> = r.sources.iter().map(|s| s.natural_share).collect();
    let mix: Vec<f64> = r.sources.iter().map(|s| s.mixed_share).collect();
    page.push_str(&bars(
        "Token share per source",
        &names,
        &[("pool", &nat), ("mix", &mix)],
        None,
    ));
}

/// The q(x) and d(x) histograms and the repetition chart.
fn html_distributions(page: &mut String, r: &MixReport) {
    let bins: Vec<String> = (0..BINS)
        .map(|i| format!("{:.2}", (i as f64 + 0.5) / BINS as f64))
        .collect();
    for (title, d) in [
        ("Quality q(x)", &r.quality),
        ("Diversity d(x)", &r.diversity),
    ] {
        let _ = write!(page, "<h2>{title}</h2>");
        page.push_str(&bars(
            &format!("{title}: fraction per bin"),
            &bins,
            &[("pool", &d.pool), ("mix", &d.mix)],
            d.target.as_deref().map(|t| ("target", t)),
        ));
    }
    page.push_str("<h2>Repetition</h2>");
    let rl: Vec<String> = r
        .repetition
        .iter()
        .map(|x| format!("{}x", x.count))
        .collect();
    let rv: Vec<f64> = r.repetition.iter().map(|x| x.samples as f64).collect();
    page.push_str(&bars(
        "Samples drawn k times",
        &rl,
        &[("samples", &rv)],
        None,
    ));
}

/// The topics line and the token-share-per-topic chart.
fn html_topics(page: &mut String, r: &MixReport) {
    let _ = write!(
        page,
        "<h2>Topics</h2><p>{} of {} topics of the pool are in the mix; {} under half their \
         natural share{}.</p>",
        r.topics.mix_topics,
        r.topics.pool_topics,
        r.topics.under_half.len(),
        if r.topics.under_half.is_empty() {
            String::new()
        } else {
            let ids: Vec<String> = r
                .topics
                .under_half
                .iter()
                .map(|&t| match topic_label(r, t) {
                    Some(name) => format!("{t} ({name})"),
                    None => t.to_string(),
                })
                .collect();
            format!(" (topics {})", ids.join(", "))
        }
    );
    if !r.topics.topics.is_empty() {
        let tl: Vec<String> = r
            .topics
            .topics
            .iter()
            .map(|t| match topic_label(r, t.0) {
                Some(name) => format!("{} {name}", t.0),
                None => t.0.to_string(),
            })
            .collect();
        let pt: f64 = r
            .topics
            .topics
            .iter()
            .map(|t| t.1 as f64)
            .sum::<f64>()
            .max(1.0);
        let mt: f64 = r
            .topics
            .topics
            .iter()
            .map(|t| t.2 as f64)
            .sum::<f64>()
            .max(1.0);
        let tp: Vec<f64> = r.topics.topics.iter().map(|t| t.1 as f64 / pt).collect();
        let tm: Vec<f64> = r.topics.topics.iter().map(|t| t.2 as f64 / mt).collect();
        page.push_str(&bars(
            "Token share per topic",
            &tl,
            &[("pool", &tp), ("mix", &tm)],
            None,
        ));
    }
}

/// The name of `topic` in the report, if it was named.
fn topic_label(r: &MixReport, topic: u32) -> Option<&str> {
    let i = r.topics.topics.iter().position(|t| t.0 == topic)?;
    r.topics.names.get(i).map(String::as_str)
}

/// Writes `report.json`, `sources.csv` and `report.html` into `out` (created if missing).
pub fn write(out: &Path, r: &MixReport) -> Result<()> {
    if out.exists() && !out.is_dir() {
        return Err(Error::Invalid(format!(
            "{} is a file, not a folder: give a folder for the report",
            out.display()
        )));
    }
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut json = serde_json::to_vec_pretty(r).expect("a report serialises");
    json.push(b'\n');
    for (file, bytes) in [
        ("report.json", json),
        ("sources.csv", sources_csv(r).into_bytes()),
        ("report.html", html(r).into_bytes()),
    ] {
        let p = out.join(file);
        std::fs::write(&p, bytes).map_err(|e| Error::io(&p, e))?;
    }
    Ok(())
}
