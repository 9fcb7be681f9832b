//! `samplemix export --format tokens` with the default model's vocabulary: the tokens of every
//! document decode to its text in the JSONL export's order, shard token counts match the
//! manifest, the Megatron `.idx` (read by a reader written here from Megatron-LM's
//! `indexed_dataset.py` format) agrees with the `.bin`, and numpy memory-maps the flat arrays.

mod common;

use std::path::Path;
use std::process::Command;

use common::score::model_path;
use common::{s, store_with_repeating_mix, Env};
use samplemix::stages::score::GgufTokenizer;

fn export_tokens(env: &Env, out: &Path, layout: &str) -> serde_json::Value {
    let model = model_path();
    env.run(&[
        "export",
        "m",
        "--out",
        s(out),
        "--format",
        "tokens",
        "--tokenizer",
        s(&model),
        "--token-layout",
        layout,
        "--shard-tokens",
        "6000",
        "--json",
    ])
    .ok()
    .json()
}

fn read_ids(path: &Path, dtype: &str) -> Vec<u32> {
    let bytes = std::fs::read(path).unwrap();
    match dtype {
        "uint16" => bytes
            .chunks_exact(2)
            .map(|c| u32::from(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        "uint32" => bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        d => panic!("unknown dtype {d}"),
    }
}

/// Megatron-LM's `_IndexReader`, version 1, without sequence modes.
struct MegatronIndex {
    dtype_code: u8,
    sizes: Vec<i32>,
    pointers: Vec<i64>,
    doc_idx: Vec<i64>,
}

fn read_megatron_index(path: &Path) -> MegatronIndex {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..9], b"MMIDIDX\x00\x00", "magic");
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    assert_eq!(u64_at(9), 1, "version");
    let dtype_code = b[17];
    let n_seq = usize::try_from(u64_at(18)).unwrap();
    let n_doc = usize::try_from(u64_at(26)).unwrap();
    let mut o = 34;
    let sizes: Vec<i32> = (0..n_seq)
        .map(|i| i32::from_le_bytes(b[o + 4 * i..o + 4 * i + 4].try_into().unwrap()))
        .collect();
    o += 4 * n_seq;
    let i64s = |o: usize, n: usize| -> Vec<i64> {
        (0..n)
            .map(|i| i64::from_le_bytes(b[o + 8 * i..o + 8 * i + 8].try_into().unwrap()))
            .collect()
    };
    let pointers = i64s(o, n_seq);
    o += 8 * n_seq;
    let doc_idx = i64s(o, n_doc);
    o += 8 * n_doc;
    assert_eq!(o, b.len(), "no trailing bytes (no sequence modes)");
    MegatronIndex {
        dtype_code,
        sizes,
        pointers,
        doc_idx,
    }
}

fn jsonl_texts(env: &Env, out: &Path) -> Vec<String> {
    env.run(&["export", "m", "--out", s(out)]).ok();
    let mut files: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".jsonl.zst"))
        .collect();
    files.sort();
    let mut texts = Vec::new();
    for f in files {
        let bytes = zstd::decode_all(std::fs::File::open(f).unwrap()).unwrap();
        for l in String::from_utf8(bytes).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            texts.push(v["text"].as_str().unwrap().to_string());
        }
    }
    texts
}

#[test]
fn tokens_decode_to_the_texts_and_megatron_index_agrees() {
    let env = store_with_repeating_mix(60);
    let out = env.path("tok");
    let m = export_tokens(&env, &out, "megatron");
    let tok = GgufTokenizer::load(&model_path()).unwrap();
    assert_eq!(m["format_version"], 1);
    assert_eq!(m["tokenizer"]["eos_id"], tok.eos());
    assert_eq!(m["tokenizer"]["vocab_size"], tok.n_vocab());
    let dtype = m["dtype"].as_str().unwrap();
    assert_eq!(
        dtype,
        if tok.n_vocab() <= 65536 {
            "uint16"
        } else {
            "uint32"
        }
    );
    let item = if dtype == "uint16" { 2 } else { 4 };
    let shards = m["shards"].as_array().unwrap();
    assert!(shards.len() >= 2, "several shards: {m}");
    let mut docs: Vec<Vec<u32>> = Vec::new();
    let mut total = 0u64;
    for sh in shards {
        let ids = read_ids(&out.join(sh["bin"].as_str().unwrap()), dtype);
        assert_eq!(ids.len() as u64, sh["tokens"].as_u64().unwrap(), "{sh}");
        total += ids.len() as u64;
        let idx = read_megatron_index(&out.join(sh["idx"].as_str().unwrap()));
        assert_eq!(
            idx.dtype_code,
            m["megatron_dtype_code"].as_u64().unwrap() as u8
        );
        assert_eq!(idx.dtype_code, if item == 2 { 8 } else { 4 });
        let n_docs = sh["documents"].as_u64().unwrap() as usize;
        assert_eq!(idx.sizes.len(), n_docs);
        assert_eq!(idx.doc_idx, (0..=n_docs as i64).collect::<Vec<_>>());
        let mut ptr = 0i64;
        for (&size, &p) in idx.sizes.iter().zip(&idx.pointers) {
            assert_eq!(p, ptr, "pointer is the byte offset of the sequence");
            let start = usize::try_from(p).unwrap() / item;
            let doc = &ids[start..start + usize::try_from(size).unwrap()];
            assert_eq!(
                doc.last().copied(),
                Some(tok.eos()),
                "EOS ends each document"
            );
            docs.push(doc[..doc.len() - 1].to_vec());
            ptr += i64::from(size) * item as i64;
        }
        assert_eq!(
            usize::try_from(ptr).unwrap(),
            ids.len() * item,
            "sizes cover the .bin"
        );
    }
    assert_eq!(total, m["tokens"].as_u64().unwrap());
    assert_eq!(docs.len() as u64, m["documents"].as_u64().unwrap());
    // Same seed, same order as the JSONL export: document i decodes to line i's text.
    let texts = jsonl_texts(&env, &env.path("jsonl"));
    assert_eq!(docs.len(), texts.len());
    for (i, (d, t)) in docs.iter().zip(&texts).enumerate() {
        assert_eq!(&tok.detokenize(d).unwrap(), t, "document {i}");
    }
}

#[test]
fn flat_arrays_load_with_numpy_memmap() {
    let env = store_with_repeating_mix(60);
    let out = env.path("flat");
    let m = export_tokens(&env, &out, "flat");
    let probe = Command::new("python3")
        .args(["-c", "import numpy"])
        .status();
    assert!(
        probe.is_ok_and(|s| s.success()),
        "python3 with numpy is needed for this test: run tools/setup.sh"
    );
    let dtype = m["dtype"].as_str().unwrap();
    for sh in m["shards"].as_array().unwrap() {
        assert!(sh["idx"].is_null(), "flat layout writes no .idx");
        let bin = out.join(sh["bin"].as_str().unwrap());
        let ids = read_ids(&bin, dtype);
        let eos = m["tokenizer"]["eos_id"].as_u64().unwrap();
        let script = format!(
            "import numpy as np; a = np.memmap({:?}, dtype=np.{dtype}, mode='r'); \
             print(len(a), int(a.astype(np.int64).sum()), int((a == {eos}).sum()))",
            s(&bin)
        );
        let o = Command::new("python3")
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let got = String::from_utf8(o.stdout).unwrap();
        let sum: u64 = ids.iter().map(|&x| u64::from(x)).sum();
        let n_eos = ids.iter().filter(|&&x| u64::from(x) == eos).count();
        assert_eq!(
            got.trim(),
            format!("{} {sum} {n_eos}", sh["tokens"].as_u64().unwrap())
        );
        assert!(n_eos as u64 >= sh["documents"].as_u64().unwrap());
    }
}
