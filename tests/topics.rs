//! `samplemix topics` through the binary: planted structure, near-duplicates, incremental runs
//! against one run over the whole pool, append-order independence, query filters and sorts,
//! bad input, and SIGKILL at random moments. The measured figures are printed; run with
//! `--nocapture` to see them.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::Stdio;
use std::time::Instant;

use common::fixture::DEMO_MINI;
use common::{copy_dir, line, s, verify, Env};
use samplemix::algo::diversity::{jaccard, matching_accuracy, nmi, shingles};
use samplemix::pool::Pool;
use serde_json::{json, Value};

/// A fixture sample with its labels.
#[derive(Clone)]
struct Sample {
    id: String,
    text: String,
    source: String,
    /// Id of the original for labelled and injected near-copies and exact copies, else its id.
    family: String,
    line: String,
}

fn fixture() -> Vec<Sample> {
    std::fs::read_to_string(DEMO_MINI)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let m = &v["metadata"];
            let id = v["id"].as_str().unwrap().to_string();
            Sample {
                family: m["near_duplicate_of"]
                    .as_str()
                    .or(m["exact_duplicate_of"].as_str())
                    .map_or_else(|| id.clone(), str::to_owned),
                text: v["text"].as_str().unwrap().to_string(),
                source: v["source"].as_str().unwrap().to_string(),
                id,
                line: format!("{l}\n"),
            }
        })
        .collect()
}

/// xorshift64*, for reproducible edits and shuffles.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

/// A near-copy: two adjacent paragraphs swapped (when there are two) and a `rate` fraction of
/// the words (at least one) replaced.
fn near_copy(text: &str, rate: f64, rng: &mut Rng) -> String {
    let mut paras: Vec<Vec<String>> = text
        .split("\n\n")
        .map(|p| p.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter(|p| !p.is_empty())
        .collect();
    if paras.len() >= 2 {
        let i = rng.below(paras.len() - 1);
        paras.swap(i, i + 1);
    }
    let total: usize = paras.iter().map(Vec::len).sum();
    let changes = ((total as f64 * rate).round() as usize).max(1);
    for c in 0..changes {
        let mut at = rng.below(total);
        for p in paras.iter_mut() {
            if at < p.len() {
                p[at] = format!("edit{c}x{}", rng.below(1000));
                break;
            }
            at -= p.len();
        }
    }
    paras
        .iter()
        .map(|p| p.join(" "))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The fixture plus, for every fifth original of at least 60 words, a near-copy with 1% and one
/// with 3% of its words changed (and two paragraphs swapped).
fn pool_with_copies() -> Vec<Sample> {
    let mut pool = fixture();
    let mut rng = Rng(42);
    let originals: Vec<usize> = (0..pool.len())
        .filter(|&i| pool[i].family == pool[i].id && pool[i].text.split_whitespace().count() >= 60)
        .step_by(5)
        .collect();
    for i in originals {
        for (tag, rate) in [("light", 0.01), ("heavy", 0.03)] {
            let text = near_copy(&pool[i].text, rate, &mut rng);
            let id = format!("{}#injected-{tag}", pool[i].id);
            let line = line(json!({"id": id, "text": text, "source": pool[i].source}));
            pool.push(Sample {
                id,
                text,
                source: pool[i].source.clone(),
                family: pool[i].family.clone(),
                line,
            });
        }
    }
    pool
}

fn write_jsonl(env: &Env, name: &str, samples: &[Sample]) -> std::path::PathBuf {
    let body: String = samples.iter().map(|s| s.line.as_str()).collect();
    env.write(name, body.as_bytes())
}

/// What `query` says of every sample, by id.
#[derive(Clone, Debug, PartialEq)]
struct Hit {
    source: String,
    topic: Option<u64>,
    novelty: Option<f64>,
    diversity: Option<f64>,
}

fn all_hits(env: &Env, extra: &[&str]) -> (u64, Vec<(String, Hit)>) {
    let mut args = vec!["query", "--limit", "100000", "--json"];
    args.extend_from_slice(extra);
    let r = env.run(&args).ok().json();
    let hits = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["id"].as_str().unwrap().to_string(),
                Hit {
                    source: h["source"].as_str().unwrap().to_string(),
                    topic: h["topic"].as_u64(),
                    novelty: h["novelty"].as_f64(),
                    diversity: h["diversity"].as_f64(),
                },
            )
        })
        .collect();
    (r["total"].as_u64().unwrap(), hits)
}

fn by_id(env: &Env) -> BTreeMap<String, Hit> {
    all_hits(env, &[]).1.into_iter().collect()
}

fn codes<T: std::hash::Hash + Eq + Clone>(labels: impl Iterator<Item = T>) -> Vec<usize> {
    let mut map: HashMap<T, usize> = HashMap::new();
    labels
        .map(|l| {
            let n = map.len();
            *map.entry(l).or_insert(n)
        })
        .collect()
}

/// The topics recover the fixture's sources (8 kinds of real text) far better than a broken
/// clustering could.
#[test]
fn planted_structure_recovers_the_sources() {
    let env = Env::new();
    let f = write_jsonl(&env, "pool.jsonl", &fixture());
    env.run(&["append", s(&f)]).ok();
    let r = env
        .run(&["topics", "--topics", "8", "--show", "--json"])
        .ok()
        .json();
    assert_eq!(r["refit"]["reason"], "first fit");
    assert_eq!(r["refit"]["k"], 8);
    // The contingency table of topics against sources, from --show.
    let mut topics = Vec::new();
    let mut sources = Vec::new();
    for t in r["topics"].as_array().unwrap() {
        let id = t["topic"].as_u64().unwrap();
        let mut size = 0;
        for src in t["sources"].as_array().unwrap() {
            let n = src["samples"].as_u64().unwrap();
            size += n;
            for _ in 0..n {
                topics.push(id);
                sources.push(src["source"].as_str().unwrap().to_string());
            }
        }
        assert_eq!(size, t["size"].as_u64().unwrap());
        if size >= 2 {
            assert!(
                !t["terms"].as_array().unwrap().is_empty(),
                "topic {id}: {t}"
            );
        }
        // query --topic finds exactly the topic's members.
        let (total, hits) = all_hits(&env, &["--topic", &id.to_string()]);
        assert_eq!(total, size);
        assert!(hits.iter().all(|(_, h)| h.topic == Some(id)));
    }
    assert_eq!(topics.len(), 298);
    let src = codes(sources.iter());
    let top = codes(topics.iter());
    let found = nmi(&src, &top).unwrap();
    // A broken clustering: the same topic sizes, members drawn at random.
    let mut shuffled = top.clone();
    let mut rng = Rng(9);
    for i in (1..shuffled.len()).rev() {
        shuffled.swap(i, rng.below(i + 1));
    }
    let broken = nmi(&src, &shuffled).unwrap();
    // The default number of topics (12 for 298 samples).
    let r12 = env.run(&["topics", "--topics", "auto", "--json"]);
    let r12 = r12.ok().json();
    let k12 = r12["refit"]["k"].as_u64().unwrap();
    let hits = by_id(&env);
    let (s12, t12): (Vec<&str>, Vec<u64>) = hits
        .values()
        .map(|h| (h.source.as_str(), h.topic.unwrap()))
        .unzip();
    let nmi12 = nmi(&codes(s12.into_iter()), &codes(t12.into_iter())).unwrap();
    eprintln!(
        "planted structure: NMI of 8 topics against the 8 sources {found:.3} (same sizes, random \
         members: {broken:.3}); default k = {k12}: NMI {nmi12:.3}"
    );
    assert!(found >= 0.45, "NMI {found:.3}");
    assert!(
        broken < 0.45 / 3.0,
        "the threshold does not separate: {broken:.3}"
    );
    verify(&env, "after the refit");
}

/// Injected and labelled near-copies are grouped (recall at true Jaccard >= 0.8), and no group
/// mixes unrelated samples.
#[test]
fn near_duplicates_are_grouped() {
    let env = Env::new();
    let pool = pool_with_copies();
    let f = write_jsonl(&env, "pool.jsonl", &pool);
    let added = env.run(&["append", s(&f), "--json"]).ok().json();
    let r = env.run(&["topics", "--duplicates", "--json"]).ok().json();
    // Exact copies were skipped at ingest: keep the first of each text, as append did.
    let mut seen = HashSet::new();
    let stored: Vec<&Sample> = pool
        .iter()
        .filter(|s| {
            let norm: String = s.text.split_whitespace().collect::<Vec<_>>().join(" ");
            seen.insert(norm)
        })
        .collect();
    assert_eq!(stored.len() as u64, added["added"].as_u64().unwrap());
    let sets: Vec<Vec<u64>> = stored
        .iter()
        .map(|s| shingles(&s.text, 5).unwrap())
        .collect();
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    let groups = r["duplicates"]["groups"].as_array().unwrap();
    for (g, group) in groups.iter().enumerate() {
        let members: Vec<&str> = group["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        let families: HashSet<&str> = members
            .iter()
            .map(|id| {
                stored
                    .iter()
                    .find(|s| s.id == *id)
                    .map(|s| s.family.as_str())
                    .unwrap()
            })
            .collect();
        assert_eq!(families.len(), 1, "group {members:?} mixes {families:?}");
        for m in members {
            group_of.insert(m, g);
        }
    }
    let (mut pairs, mut found) = (0, 0);
    for i in 0..stored.len() {
        for j in i + 1..stored.len() {
            if jaccard(&sets[i], &sets[j]) >= 0.8 {
                pairs += 1;
                let (a, b) = (
                    group_of.get(stored[i].id.as_str()),
                    group_of.get(stored[j].id.as_str()),
                );
                if a.is_some() && a == b {
                    found += 1;
                }
            }
        }
    }
    let recall = found as f64 / pairs as f64;
    let hits = by_id(&env);
    let mut alone: Vec<f64> = Vec::new();
    let families: HashMap<&str, usize> = stored.iter().fold(HashMap::new(), |mut m, s| {
        *m.entry(s.family.as_str()).or_default() += 1;
        m
    });
    for s in &stored {
        let nov = hits[&s.id].novelty.unwrap();
        if s.id.ends_with("#near-dup") || s.id.contains("#injected-") {
            assert!(nov < 0.5, "{}: novelty {nov}", s.id);
        } else if families[s.family.as_str()] == 1 {
            alone.push(nov);
        }
    }
    alone.sort_by(f64::total_cmp);
    let median = alone[alone.len() / 2];
    eprintln!(
        "near-duplicates: {} samples, {pairs} pairs at true Jaccard >= 0.8, {found} grouped \
         (recall {recall:.3}); {} groups (cut {}); median novelty of the {} samples without \
         relatives {median:.3}",
        stored.len(),
        groups.len(),
        r["duplicates"]["threshold"],
        alone.len()
    );
    assert!(pairs >= 30, "too few pairs to measure recall: {pairs}");
    assert!(recall >= 0.95, "recall {recall:.3}");
    assert!(median >= 0.95, "median novelty {median:.3}");
    verify(&env, "near-duplicates");
}

/// Five appends with `topics` after each give the novelty of one run over the whole pool, in
/// either append order; joined topics agree with a refit on a measured fraction; and a refit
/// gives exactly the topics and d(x) of one run over the whole pool, whatever the append order.
#[test]
fn incremental_equals_batch_and_order_does_not_matter() {
    // Without the fixture's exact copies, so that both orders store the same samples.
    let mut seen = HashSet::new();
    let mut pool: Vec<Sample> = pool_with_copies()
        .into_iter()
        .filter(|s| seen.insert(s.text.split_whitespace().collect::<Vec<_>>().join(" ")))
        .collect();
    let mut rng = Rng(7);
    for i in (1..pool.len()).rev() {
        pool.swap(i, rng.below(i + 1));
    }
    let parts: Vec<Vec<Sample>> = pool
        .chunks(pool.len().div_ceil(5))
        .map(<[_]>::to_vec)
        .collect();
    assert_eq!(parts.len(), 5);

    // One run over the whole pool.
    let batch = Env::new();
    for (i, p) in parts.iter().enumerate() {
        let f = write_jsonl(&batch, &format!("part{i}.jsonl"), p);
        batch.run(&["append", s(&f)]).ok();
    }
    batch.run(&["topics", "--topics", "8"]).ok();
    let want = by_id(&batch);

    // Forward, topics after each part; new samples only join (--keep-topics).
    let inc = Env::new();
    let mut raised = 0;
    for (i, p) in parts.iter().enumerate() {
        let f = write_jsonl(&inc, &format!("part{i}.jsonl"), p);
        inc.run(&["append", s(&f)]).ok();
        let r = inc
            .run(&["topics", "--topics", "8", "--keep-topics", "--json"])
            .ok()
            .json();
        raised += r["novelty_updated"].as_u64().unwrap();
        verify(&inc, &format!("after part {i}"));
    }
    let st = inc.stats();
    let got = by_id(&inc);
    assert_eq!(got.len(), want.len());
    for (id, h) in &got {
        assert_eq!(h.novelty, want[id].novelty, "{id}: novelty");
    }
    let ids: Vec<&String> = want.keys().collect();
    let joined: Vec<usize> = ids
        .iter()
        .map(|id| got[*id].topic.unwrap() as usize)
        .collect();
    let fitted: Vec<usize> = ids
        .iter()
        .map(|id| want[*id].topic.unwrap() as usize)
        .collect();
    let agree = matching_accuracy(&joined, &fitted).unwrap();
    let agree_nmi = nmi(&joined, &fitted).unwrap();

    // Backward (parts and their lines reversed), topics after each with the drift rule.
    let back = Env::new();
    for (i, p) in parts.iter().rev().enumerate() {
        let rev: Vec<Sample> = p.iter().rev().cloned().collect();
        let f = write_jsonl(&back, &format!("part{i}.jsonl"), &rev);
        back.run(&["append", s(&f)]).ok();
        back.run(&["topics", "--topics", "8"]).ok();
    }
    let got_back = by_id(&back);
    for (id, h) in &got_back {
        assert_eq!(h.novelty, want[id].novelty, "{id}: novelty (reverse order)");
    }

    // After a refit both equal the single run exactly: topics, novelty and d.
    inc.run(&["topics", "--refit"]).ok();
    back.run(&["topics", "--refit"]).ok();
    assert_eq!(by_id(&inc), want, "forward order, after a refit");
    assert_eq!(by_id(&back), want, "reverse order, after a refit");
    eprintln!(
        "incremental: {} samples in 5 parts, {raised} older samples' novelty raised on the way; \
         novelty equal to one run in both orders; topics fitted on part 1 ({} samples) and \
         joined since ({}) agree with a fit on all on matched accuracy {agree:.3} (NMI \
         {agree_nmi:.3}); refit advice then: {}",
        pool.len(),
        st["topics"]["fitted_on"],
        st["topics"]["joined_since"],
        st["topics"]["refit_advice"]
    );
    assert!(agree >= 0.5, "joined vs fitted topics agree on {agree:.3}");
    assert!(st["topics"]["refit_advice"].is_string());
}

/// `query --min-diversity`, `--sort diversity` and `--topic` over the index agree with d(x) as
/// `get` and `query` report it, also after an incremental run.
#[test]
fn diversity_filters_and_sorts() {
    let env = Env::new();
    let pool = fixture();
    let (first, second) = pool.split_at(190);
    let f1 = write_jsonl(&env, "a.jsonl", first);
    let f2 = write_jsonl(&env, "b.jsonl", second);
    env.run(&["append", s(&f1)]).ok();
    // Before topics: diversity filters find nothing, stats say so.
    let (total, _) = all_hits(&env, &["--min-diversity", "0.1"]);
    assert_eq!(total, 0);
    assert!(env.stats()["topics"].is_null());
    env.run(&["topics"]).ok();
    env.run(&["append", s(&f2)]).ok();
    let r = env.run(&["topics", "--keep-topics", "--json"]).ok().json();
    assert_eq!(r["joined"], 108);
    assert!(r["refit"].is_null());
    let st = env.stats()["topics"].clone();
    assert_eq!(st["fitted_on"], 190);
    assert_eq!(st["joined_since"], 108);
    assert_eq!(st["without_topic"], 0);
    assert!(
        st["refit_advice"].as_str().unwrap().contains("grown"),
        "{st}"
    );
    verify(&env, "after the join");

    let hits = by_id(&env);
    assert_eq!(hits.len(), 298);
    let ds: Vec<f64> = hits.values().map(|h| h.diversity.unwrap()).collect();
    assert!(ds.iter().all(|&d| d > 0.0 && d <= 1.0));
    for min in [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0] {
        let (total, got) = all_hits(&env, &["--min-diversity", &min.to_string()]);
        let want = ds.iter().filter(|&&d| d >= min).count() as u64;
        assert_eq!(total, want, "--min-diversity {min}");
        assert!(got.iter().all(|(_, h)| h.diversity.unwrap() >= min));
    }
    let (total, sorted) = all_hits(&env, &["--sort", "diversity"]);
    assert_eq!(total, 298);
    let order: Vec<f64> = sorted.iter().map(|(_, h)| h.diversity.unwrap()).collect();
    assert!(order.windows(2).all(|w| w[0] >= w[1]), "not sorted by d");
    // With a topic filter: the topic of the most diverse sample.
    let topic = sorted[0].1.topic.unwrap();
    let t = topic.to_string();
    let mut args = vec!["query", "--sort", "diversity", "--min-diversity", "0.5"];
    args.extend(["--topic", &t, "--limit", "5", "--json"]);
    let top = env.run(&args).ok().json();
    let top = top["hits"].as_array().unwrap();
    assert!(!top.is_empty() && top.len() <= 5);
    assert_eq!(top[0]["diversity"].as_f64(), sorted[0].1.diversity);
    assert!(top
        .iter()
        .all(|h| h["diversity"].as_f64().unwrap() >= 0.5 && h["topic"] == topic));

    // get: topic, novelty, nearest sample and the parts of d.
    let g = env
        .run(&["get", "docs/python/library/ensurepip/001", "--json"])
        .ok()
        .json();
    let p = &g["diversity_parts"];
    assert_eq!(p["nearest"], "docs/python/library/ensurepip/001#near-dup");
    assert!(p["novelty"].as_f64().unwrap() < 0.2, "{p}");
    assert_eq!(g["diversity"], p["d"]);
    assert_eq!(g["topic"], p["topic"]);
    assert!(p["cluster_rank"].as_f64().unwrap() > 0.0);
    let text = env
        .run(&["get", "docs/python/library/ensurepip/001"])
        .ok()
        .stdout;
    assert!(
        text.contains("nearest  docs/python/library/ensurepip/001#near-dup"),
        "{text}"
    );
    let stats = env.run(&["stats"]).ok().stdout;
    assert!(stats.contains("refit advised: grown"), "{stats}");

    // A run with nothing new changes nothing.
    let again = env.run(&["topics", "--keep-topics", "--json"]).ok().json();
    assert_eq!(again["processed"], 0);
    assert_eq!(again["reindexed"], 0);
    assert_eq!(by_id(&env), hits);
}

/// Too few samples, samples without words, samples that are all the same: clear messages or
/// defined scores, never a panic.
#[test]
fn bad_input() {
    // No store: none is created (only append creates one).
    let env = Env::new();
    let r = env.run(&["topics"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("no store at"), "{}", r.stderr);
    assert!(!env.store.exists());

    // No samples.
    let f = env.write("empty.jsonl", b"");
    env.run(&["append", s(&f)]).ok();
    let r = env.run(&["topics"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("no samples"), "{}", r.stderr);

    // Fewer samples than topics: nothing is written.
    let env = Env::new();
    let few: Vec<Sample> = fixture().into_iter().take(5).collect();
    let f = write_jsonl(&env, "few.jsonl", &few);
    env.run(&["append", s(&f)]).ok();
    let r = env.run(&["topics", "--topics", "8"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("5 samples cannot form 8 topics: give at most 5 topics"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(env.stats()["topics"].is_null());
    let r = env.run(&["topics", "--topics", "0"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    env.run(&["topics", "--topics", "5"]).ok();
    verify(&env, "five samples, five topics");

    // Samples without words among real ones: novelty 1, a finite d.
    let env = Env::new();
    let mut body: String = fixture().iter().take(20).map(|s| s.line.clone()).collect();
    for (i, t) in ["...", "!!!", "?! -- ?!", "Yes.", "42"].iter().enumerate() {
        body += &line(json!({"id": format!("short-{i}"), "text": t, "source": "odd"}));
    }
    let f = env.write("odd.jsonl", body.as_bytes());
    env.run(&["append", s(&f)]).ok();
    env.run(&["topics"]).ok();
    for i in 0..5 {
        let g = env
            .run(&["get", &format!("short-{i}"), "--json"])
            .ok()
            .json();
        assert_eq!(g["diversity_parts"]["novelty"], 1.0, "{g}");
        let d = g["diversity"].as_f64().unwrap();
        assert!(d > 0.0 && d <= 1.0, "{g}");
    }
    verify(&env, "samples without words");

    // All samples the same to the algorithms (the same words, differing in letter case only,
    // so they are not exact duplicates): novelty 0, one topic, the same d for all.
    let env = Env::new();
    let base = "the river flows through the valley to the sea and back again";
    let mut body = String::new();
    for i in 0..20u32 {
        let text: String = base
            .chars()
            .enumerate()
            .map(|(j, c)| {
                if (i >> (j % 5)) & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect();
        body += &line(json!({"id": format!("same-{i}"), "text": text, "source": "same"}));
    }
    let f = env.write("same.jsonl", body.as_bytes());
    env.run(&["append", s(&f)]).ok();
    let r = env
        .run(&["topics", "--show", "--duplicates", "--json"])
        .ok()
        .json();
    let live = r["topics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["size"].as_u64().unwrap() > 0)
        .count();
    assert_eq!(live, 1, "{r}");
    assert_eq!(
        r["duplicates"]["groups"][0]["members"]
            .as_array()
            .unwrap()
            .len(),
        20
    );
    let hits = by_id(&env);
    assert_eq!(hits.len(), 20);
    for h in hits.values() {
        assert_eq!(h.novelty, Some(0.0));
        assert_eq!(h.diversity, Some(21.0 / 40.0));
    }
    verify(&env, "identical samples");
}

/// SIGKILL during `topics` (joins, raised novelties, a refit) at random moments: the store opens,
/// `Pool::verify` passes, and re-running completes to exactly the uninterrupted result.
#[test]
fn sigkill_during_topics_leaves_a_consistent_store() {
    // A pool of real text and near-copies, topics on its first 60%, then the rest appended.
    let base = Env::new();
    let mut pool = Vec::new();
    let mut rng = Rng(11);
    for round in 0..12 {
        // Copies at several distances: near-duplicates raise older samples' overlaps.
        let rate = [0.0, 0.02, 0.05, 0.1, 0.3][round % 5];
        for s in fixture() {
            let text = if round == 0 {
                s.text.clone()
            } else {
                near_copy(&s.text, rate, &mut rng)
            };
            let id = format!("{}#{round}", s.id);
            pool.push(line(json!({"id": id, "text": text, "source": s.source})));
        }
    }
    let cut = pool.len() * 6 / 10;
    let a = base.write("a.jsonl", pool[..cut].concat().as_bytes());
    let b = base.write("b.jsonl", pool[cut..].concat().as_bytes());
    base.run(&["append", s(&a)]).ok();
    base.run(&["topics", "--topics", "16"]).ok();
    base.run(&["append", s(&b)]).ok();

    for (what, args) in [
        ("join", vec!["topics", "--keep-topics", "--chunk", "256"]),
        ("refit", vec!["topics", "--refit", "--chunk", "256"]),
    ] {
        // The uninterrupted result.
        let full = Env::new();
        copy_dir(&base.store, &full.store);
        let started = Instant::now();
        full.run(&args).ok();
        let span = started.elapsed();
        let want = by_id(&full);
        verify(&full, what);
        let mut kills_mid_run = 0;
        for round in 0..4 {
            let env = Env::new();
            copy_dir(&base.store, &env.store);
            let delay = span.mul_f64(0.05 + 0.9 * rng.below(1000) as f64 / 1000.0);
            let mut child = env
                .cmd(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(delay);
            let finished = child.try_wait().unwrap().is_some();
            let _ = child.kill(); // SIGKILL
            child.wait().unwrap();
            if !finished {
                kills_mid_run += 1;
            }
            // The store opens and agrees with itself and with the index.
            let pool = Pool::open_writer(&env.store)
                .unwrap_or_else(|e| panic!("{what} round {round}: no open after a kill: {e}"));
            let problems = pool.verify().unwrap();
            assert!(problems.is_empty(), "{what} round {round}: {problems:#?}");
            pool.close().unwrap();
            env.run(&args[..args.len() - 2]).ok();
            verify(&env, &format!("{what} round {round}, completed"));
            assert_eq!(
                by_id(&env),
                want,
                "{what} round {round}: not the uninterrupted result"
            );
            eprintln!("{what} round {round}: killed after {delay:?} of {span:?}, completed");
        }
        assert!(
            kills_mid_run >= 2,
            "{what}: only {kills_mid_run} kills landed mid-run"
        );
    }
}
