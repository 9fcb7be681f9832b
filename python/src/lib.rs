//! The Python module `samplemix`: a thin layer over the samplemix library, calling the same
//! functions as the command line (`src/cli`) and returning what its `--json` output holds as
//! Python dicts. No logic lives here beyond converting arguments and results; library errors
//! become `samplemix.SamplemixError` with the library's message.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use samplemix::index::{QuerySpec, SortBy};
use samplemix::ingest::{FieldNames, Input};
use samplemix::pool::ranks::{QualityChoice, QualitySignal, RankScope};
use samplemix::pool::Pool;
use samplemix::stages::append::{self, AppendObserver, AppendOptions, Reject};
use samplemix::stages::mix::params::{self as mix_params, KernelKind, MixParams};
use samplemix::stages::{quality, score, topics};

pyo3::create_exception!(
    samplemix,
    SamplemixError,
    PyException,
    "An error of the samplemix library (bad input, a missing or damaged store, ...); the \
     message is the library's, as the command line prints it."
);

/// A library error as a Python exception.
fn err(e: samplemix::Error) -> PyErr {
    SamplemixError::new_err(e.to_string())
}

/// A serialisable value as the Python object its JSON decodes to (dicts, lists, numbers).
fn to_py<T: serde::Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let text = serde_json::to_string(value).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

/// Collects rejected records (the command line prints them to stderr instead).
#[derive(Default)]
struct Rejects(Mutex<Vec<Reject>>);

impl AppendObserver for Rejects {
    fn rejected(&self, reject: &Reject) {
        if let Ok(mut r) = self.0.lock() {
            r.push(reject.clone());
        }
    }
}

/// A name as the library spells the value in its stored JSON (`lm`, `topic`, ...).
fn named<T: serde::de::DeserializeOwned>(what: &str, name: Option<&str>) -> PyResult<Option<T>> {
    name.map(|n| {
        serde_json::from_value(serde_json::Value::String(n.to_string()))
            .map_err(|e| PyValueError::new_err(format!("{what} {n:?}: {e}")))
    })
    .transpose()
}

fn signal_of(name: Option<&str>) -> PyResult<Option<QualitySignal>> {
    named("quality", name)
}

fn scope_of(name: Option<&str>) -> PyResult<Option<RankScope>> {
    named("rank_within", name)
}

/// `source=share` pairs from a dict, or `None`.
fn pairs_of(value: Option<&Bound<'_, PyDict>>) -> PyResult<Option<Vec<(String, f64)>>> {
    value
        .map(|d| {
            d.iter()
                .map(|(k, v)| Ok((k.extract::<String>()?, v.extract::<f64>()?)))
                .collect()
        })
        .transpose()
}

/// A store folder. Each call opens the store as the matching command does (a writer for
/// append, score, quality, topics and mix; a reader for stats, get and query) and closes it
/// before returning, so the writer lock is never held between calls.
#[pyclass(module = "samplemix", frozen)]
struct Store {
    path: PathBuf,
}

#[pymethods]
impl Store {
    /// Names the store folder at `path`; `append` creates it, the other calls need it.
    #[new]
    fn new(path: PathBuf) -> Self {
        Store { path }
    }

    /// The store folder.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    fn __repr__(&self) -> String {
        format!("samplemix.Store({:?})", self.path.display().to_string())
    }

    /// Appends JSONL files (plain, gzip or zstd), as `samplemix append FILES --json`.
    #[pyo3(signature = (files, *, text_field="text", id_field="id", source_field="source", source=None, strict=false))]
    #[allow(clippy::too_many_arguments)]
    fn append_files(
        &self,
        py: Python<'_>,
        files: Vec<PathBuf>,
        text_field: &str,
        id_field: &str,
        source_field: &str,
        source: Option<String>,
        strict: bool,
    ) -> PyResult<Py<PyAny>> {
        let opts = append_options(text_field, id_field, source_field, source, strict)?;
        let inputs: Vec<Input> = files.into_iter().map(Input::File).collect();
        self.run_append(py, &inputs, &opts)
    }

    /// Appends records from an iterable of dicts (`text`, optional `id`, `source`,
    /// `metadata`, as in a JSONL line). They are written as JSONL to a temporary file
    /// `python.jsonl` and appended from it, so a record without a source gets `source`, else
    /// `python`, and a reject's line is the record's 1-based position.
    #[pyo3(signature = (records, *, text_field="text", id_field="id", source_field="source", source=None, strict=false))]
    #[allow(clippy::too_many_arguments)]
    fn append(
        &self,
        py: Python<'_>,
        records: &Bound<'_, PyAny>,
        text_field: &str,
        id_field: &str,
        source_field: &str,
        source: Option<String>,
        strict: bool,
    ) -> PyResult<Py<PyAny>> {
        let opts = append_options(text_field, id_field, source_field, source, strict)?;
        let dir = tempfile::tempdir().map_err(|e| SamplemixError::new_err(e.to_string()))?;
        let file = dir.path().join("python.jsonl");
        write_jsonl(py, records, &file)?;
        self.run_append(py, &[Input::File(file)], &opts)
    }

    /// Quality-scores the samples without a score under the model, as `samplemix score
    /// --json`: `model` (GGUF; default: $SAMPLEMIX_MODEL, else the cached default),
    /// `max_tokens` scored per sample, `threads` (default: all cores).
    #[pyo3(signature = (*, model=None, max_tokens=score::LlamaSettings::DEFAULT_MAX_TOKENS, threads=None, batch_tokens=score::LlamaSettings::DEFAULT_BATCH_TOKENS, gpu_layers=None))]
    fn score(
        &self,
        py: Python<'_>,
        model: Option<PathBuf>,
        max_tokens: usize,
        threads: Option<usize>,
        batch_tokens: usize,
        gpu_layers: Option<u32>,
    ) -> PyResult<Py<PyAny>> {
        let mut settings = score::LlamaSettings {
            max_tokens,
            batch_tokens,
            ..score::LlamaSettings::default()
        };
        if let Some(t) = threads {
            settings.threads = t;
        }
        if let Some(g) = gpu_layers {
            settings.gpu_layers = g;
        }
        let model = model.unwrap_or_else(score::default_model_path);
        let path = self.path.clone();
        let outcome = py
            .detach(move || -> samplemix::Result<score::ScoreOutcome> {
                use score::QualityScorer;
                let mut pool = Pool::open_existing_writer(&path)?;
                let mut scorer = score::LlamaScorer::load(&model, settings.clone())?;
                let description =
                    score::llama_description(&model, settings.max_tokens, scorer.fingerprint());
                let opts = score::ScoreOptions::default();
                let out = score::score_pending(&mut pool, &mut scorer, &description, &opts, &())?;
                pool.close()?;
                Ok(out)
            })
            .map_err(err)?;
        to_py(py, &outcome)
    }

    /// Computes a quality signal (`repetition`, or `classifier` with the stored model) for the
    /// samples lacking it, as `samplemix quality compute SIGNAL --json`.
    #[pyo3(signature = (signal="repetition"))]
    fn quality(&self, py: Python<'_>, signal: &str) -> PyResult<Py<PyAny>> {
        let path = self.path.clone();
        let signal = signal.to_string();
        let outcome = py
            .detach(move || -> samplemix::Result<quality::SignalOutcome> {
                let mut pool = Pool::open_existing_writer(&path)?;
                let out = quality::compute_named(&mut pool, &signal, &Default::default(), &())?;
                pool.close()?;
                Ok(out)
            })
            .map_err(err)?;
        to_py(py, &outcome)
    }

    /// Novelty and topics for the samples that need them, as `samplemix topics --json`:
    /// `refit` re-clusters everything, `topics` a number of topics or `"auto"`, `keep_topics`
    /// never refits because of drift.
    #[pyo3(signature = (*, refit=false, topics=None, keep_topics=false))]
    fn topics(
        &self,
        py: Python<'_>,
        refit: bool,
        topics: Option<&Bound<'_, PyAny>>,
        keep_topics: bool,
    ) -> PyResult<Py<PyAny>> {
        let count = match topics {
            None => None,
            Some(t) if t.extract::<String>().is_ok_and(|s| s == "auto") => {
                Some(topics::TopicCount::Default)
            }
            Some(t) => match t.extract::<usize>() {
                Ok(k) if k >= 1 => Some(topics::TopicCount::Fixed(k)),
                _ => {
                    return Err(PyValueError::new_err(
                        "topics is neither a number of topics (1 or more) nor \"auto\"",
                    ))
                }
            },
        };
        let opts = topics::TopicsOptions {
            refit,
            topics: count,
            keep_topics,
            ..topics::TopicsOptions::default()
        };
        let path = self.path.clone();
        let report = py
            .detach(move || -> samplemix::Result<topics::TopicsReport> {
                let mut pool = Pool::open_existing_writer(&path)?;
                let report = topics::run(&mut pool, &opts, &())?;
                pool.close()?;
                Ok(report)
            })
            .map_err(err)?;
        to_py(py, &report)
    }

    /// The pool's summary, as `samplemix stats --json`.
    fn stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let path = self.path.clone();
        let stats = py
            .detach(move || Pool::open_reader(&path)?.stats())
            .map_err(err)?;
        to_py(py, &stats)
    }

    /// One sample with its stored fields and scores, as `samplemix get ID --json`.
    fn get(&self, py: Python<'_>, id: String) -> PyResult<Py<PyAny>> {
        let path = self.path.clone();
        let view = py
            .detach(move || Pool::open_reader(&path)?.get(&id))
            .map_err(err)?;
        to_py(py, &view)
    }

    /// Searches the pool, as `samplemix query`: a list of hit dicts (one JSONL line of the
    /// command each). `text` is a query over the text; `sort` is relevance, quality or
    /// diversity; `full` returns whole texts instead of snippets.
    #[pyo3(signature = (text=None, *, source=None, topic=None, min_quality=None, max_quality=None, min_diversity=None, sort="relevance", limit=10, full=false, quality=None, rank_within=None))]
    #[allow(clippy::too_many_arguments)]
    fn query(
        &self,
        py: Python<'_>,
        text: Option<String>,
        source: Option<String>,
        topic: Option<u64>,
        min_quality: Option<f64>,
        max_quality: Option<f64>,
        min_diversity: Option<f64>,
        sort: &str,
        limit: usize,
        full: bool,
        quality: Option<&str>,
        rank_within: Option<&str>,
    ) -> PyResult<Py<PyAny>> {
        let sort = match sort {
            "relevance" => SortBy::Relevance,
            "quality" => SortBy::Quality,
            "diversity" => SortBy::Diversity,
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown sort {other:?} (relevance, quality, diversity)"
                )))
            }
        };
        let spec = QuerySpec {
            text,
            source,
            topic,
            min_quality,
            max_quality,
            min_diversity,
            sort,
            limit,
            ..QuerySpec::default()
        };
        let fallback = QualityChoice::default();
        let choice = QualityChoice {
            signal: signal_of(quality)?.unwrap_or(fallback.signal),
            scope: scope_of(rank_within)?.unwrap_or(fallback.scope),
        };
        let path = self.path.clone();
        let result = py
            .detach(move || {
                spec.check_bounds()?;
                Pool::open_reader(&path)?.query_with(&spec, full, choice)
            })
            .map_err(err)?;
        to_py(py, &result.hits)
    }

    /// `query` as a `pyarrow.Table` (needs pyarrow).
    #[pyo3(signature = (text=None, **kwargs))]
    fn query_arrow(
        slf: &Bound<'_, Self>,
        text: Option<String>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let hits = slf.call_method("query", (text,), kwargs)?;
        let table = py.import("pyarrow")?.getattr("Table")?;
        Ok(table.call_method1("from_pylist", (hits,))?.unbind())
    }

    /// Draws the mix `name` and saves it in the store, as `samplemix mix NAME` with the same
    /// options (keyword arguments named as the flags: `tokens` a number or `"250M"`, `kernel`,
    /// `a`, `b`, `c`, `alpha`, `fraction`, `domain_weights` a dict or `"web=0.6,wiki=0.4"`,
    /// `domain_file`, `normalise`, `seed`, `max_repeat`, `source_bounds` and `topic_bounds` a
    /// `(low, high)` pair or `"0.5,2"`, `min_share` and `max_share` a dict or text, `fresh`,
    /// `no_bounds`, `config`, `quality`, `rank_within`). Returns the drawn `Mix`.
    #[pyo3(signature = (name, *, tokens=None, kernel=None, a=None, b=None, c=None, alpha=None, fraction=None, domain_weights=None, domain_file=None, normalise=false, seed=None, max_repeat=None, source_bounds=None, topic_bounds=None, min_share=None, max_share=None, fresh=false, no_bounds=false, config=None, quality=None, rank_within=None))]
    #[allow(clippy::too_many_arguments)]
    fn mix(
        &self,
        py: Python<'_>,
        name: String,
        tokens: Option<&Bound<'_, PyAny>>,
        kernel: Option<&str>,
        a: Option<f64>,
        b: Option<f64>,
        c: Option<f64>,
        alpha: Option<f64>,
        fraction: Option<f64>,
        domain_weights: Option<&Bound<'_, PyAny>>,
        domain_file: Option<PathBuf>,
        normalise: bool,
        seed: Option<u64>,
        max_repeat: Option<u16>,
        source_bounds: Option<&Bound<'_, PyAny>>,
        topic_bounds: Option<&Bound<'_, PyAny>>,
        min_share: Option<&Bound<'_, PyAny>>,
        max_share: Option<&Bound<'_, PyAny>>,
        fresh: bool,
        no_bounds: bool,
        config: Option<PathBuf>,
        quality: Option<&str>,
        rank_within: Option<&str>,
    ) -> PyResult<Mix> {
        let (domain_weights, domain_table) = text_or_table(domain_weights)?;
        let (min_share, min_share_table) = text_or_table(min_share)?;
        let (max_share, max_share_table) = text_or_table(max_share)?;
        let given = MixParams {
            tokens: tokens.map(tokens_of).transpose()?,
            kernel: kernel
                .map(|k| KernelKind::parse("", k))
                .transpose()
                .map_err(err)?,
            a,
            b,
            c,
            alpha,
            fraction,
            seed,
            max_repeat,
            normalise,
            source_bounds: source_bounds.map(bounds_of).transpose()?,
            topic_bounds: topic_bounds.map(bounds_of).transpose()?,
            domain_weights,
            domain_file,
            min_share,
            max_share,
            domain_table,
            min_share_table,
            max_share_table,
            no_bounds,
            quality: signal_of(quality)?,
            rank_within: scope_of(rank_within)?,
        };
        let path = self.path.clone();
        let drawn = py
            .detach(
                move || -> samplemix::Result<(mix_params::Drawn, Vec<(String, u16)>)> {
                    let given = match &config {
                        Some(c) => given.with_config_file(c)?,
                        None => given,
                    };
                    let drawn = mix_params::draw_named(&path, &name, &given, fresh)?;
                    let store = samplemix::store::Store::open_reader(&path)?;
                    let counts = mix_params::id_counts(&store, &drawn.record)?;
                    Ok((drawn, counts))
                },
            )
            .map_err(err)?;
        let (drawn, counts) = drawn;
        Ok(Mix {
            name: drawn.name.clone(),
            counts,
            report: to_py(py, &drawn.report_json())?,
            warnings: drawn.warnings,
        })
    }

    /// The (sample id, count) pairs of the stored mix `name` (drawn here or by the command
    /// line), in the order of its manifest.
    fn mix_counts(&self, py: Python<'_>, name: String) -> PyResult<Vec<(String, u16)>> {
        let path = self.path.clone();
        py.detach(move || -> samplemix::Result<Vec<(String, u16)>> {
            let store = samplemix::store::Store::open_reader(&path)?;
            let record = store.mix(&name)?.ok_or_else(|| {
                samplemix::Error::Invalid(format!("no mix {name:?} in the store"))
            })?;
            mix_params::id_counts(&store, &record)
        })
        .map_err(err)
    }
}

/// A drawn mix: its name, (sample id, count) pairs, the report `samplemix mix --json` prints,
/// and its warnings.
#[pyclass(module = "samplemix", frozen, get_all)]
struct Mix {
    /// The mix name.
    name: String,
    /// (sample id, count) pairs, in the order of the manifest.
    counts: Vec<(String, u16)>,
    /// The report as a dict.
    report: Py<PyAny>,
    /// Share and repetition-cap warnings.
    warnings: Vec<String>,
}

#[pymethods]
impl Mix {
    fn __repr__(&self) -> String {
        format!(
            "samplemix.Mix(name={:?}, samples={})",
            self.name,
            self.counts.len()
        )
    }
}

fn append_options(
    text_field: &str,
    id_field: &str,
    source_field: &str,
    source: Option<String>,
    strict: bool,
) -> PyResult<AppendOptions> {
    if let Some(s) = &source {
        samplemix::names::check_source_name(s).map_err(PyValueError::new_err)?;
    }
    Ok(AppendOptions {
        fields: FieldNames {
            text: text_field.to_string(),
            id: id_field.to_string(),
            source: source_field.to_string(),
            ..FieldNames::default()
        },
        source,
        strict,
        ..AppendOptions::default()
    })
}

impl Store {
    /// The append of `inputs`: the report of `append --json` (with `rejects_file` null) plus
    /// `rejected_records`, each `{file, line, reason}`.
    fn run_append(
        &self,
        py: Python<'_>,
        inputs: &[Input],
        opts: &AppendOptions,
    ) -> PyResult<Py<PyAny>> {
        let path = self.path.clone();
        let rejects = Rejects::default();
        let report = py
            .detach(|| -> samplemix::Result<append::AppendReport> {
                let mut pool = Pool::open_writer(&path)?;
                let report = append::append(&mut pool, inputs, opts, &rejects)?;
                pool.close()?;
                Ok(report)
            })
            .map_err(err)?;
        #[derive(serde::Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            report: &'a append::AppendReport,
            rejects_file: Option<String>,
            rejected_records: Vec<Reject>,
        }
        let rejected_records = rejects.0.into_inner().unwrap_or_default();
        to_py(
            py,
            &Out {
                report: &report,
                rejects_file: None,
                rejected_records,
            },
        )
    }
}

/// Writes each record of `records` (dicts) as one JSON line.
fn write_jsonl(py: Python<'_>, records: &Bound<'_, PyAny>, file: &Path) -> PyResult<()> {
    let io = |e: std::io::Error| SamplemixError::new_err(format!("{}: {e}", file.display()));
    let dumps = py.import("json")?.getattr("dumps")?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(file).map_err(io)?);
    for record in records.try_iter()? {
        let line: String = dumps.call1((record?,))?.extract()?;
        out.write_all(line.as_bytes()).map_err(io)?;
        out.write_all(b"\n").map_err(io)?;
    }
    out.flush().map_err(io)
}

/// A token count given as a number or as text with a suffix (`"250M"`).
fn tokens_of(v: &Bound<'_, PyAny>) -> PyResult<u64> {
    if let Ok(n) = v.extract::<u64>() {
        return Ok(n);
    }
    let s: String = v.extract()?;
    mix_params::parse_tokens(&s).map_err(PyValueError::new_err)
}

/// `LOW,HIGH` from a `(low, high)` pair or text.
fn bounds_of(v: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(t) = v.cast::<PyTuple>() {
        let (lo, hi): (f64, f64) = t.extract()?;
        return Ok(mix_params::bounds_text(lo, hi));
    }
    if let Ok(l) = v.cast::<PyList>() {
        let (lo, hi): (f64, f64) = l.extract()?;
        return Ok(mix_params::bounds_text(lo, hi));
    }
    v.extract()
}

/// Shares given as text (`"web=0.6,wiki=0.4"`) or as a dict.
type TextOrTable = (Option<String>, Option<Vec<(String, f64)>>);

fn text_or_table(v: Option<&Bound<'_, PyAny>>) -> PyResult<TextOrTable> {
    let Some(v) = v else {
        return Ok((None, None));
    };
    if let Ok(d) = v.cast::<PyDict>() {
        return Ok((None, pairs_of(Some(d))?));
    }
    Ok((Some(v.extract()?), None))
}

/// The samplemix library: open a store, append, score, compute quality signals and topics,
/// query, and draw mixes, with the same code and results as the `samplemix` command line.
#[pymodule(name = "samplemix")]
fn samplemix_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("SamplemixError", m.py().get_type::<SamplemixError>())?;
    m.add_class::<Store>()?;
    m.add_class::<Mix>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
