"""The demo pipeline on the committed fixture through the Python API, against the same
pipeline through the samplemix command line: the same append summary, the same mixes (sample
id, count) and the same reports."""

import json
import subprocess

import pytest

import samplemix

from conftest import FIXTURE

MAX_TOKENS = 16
THREADS = 1
# The first records of the fixture: LM scoring on a busy 2-core machine stays under a minute.
RECORDS = 60
MIXES = [
    # A kernel that needs q and d (LM scores and topics), and one that needs neither.
    ("main", dict(tokens="8k", seed=7), ["--tokens", "8k", "--seed", "7"]),
    ("nat", dict(kernel="natural", tokens=6_000, seed=3, max_repeat=2),
     ["--kernel", "natural", "--tokens", "6000", "--seed", "3", "--max-repeat", "2"]),
]


def run_cli(cli, store, *args):
    out = subprocess.run([str(cli), "--store", str(store), *args, "--json"],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def without(d, *keys):
    return {k: v for k, v in d.items() if k not in keys}


@pytest.fixture(scope="module")
def stores(tmp_path_factory, cli, model):
    """The pipeline run twice on the fixture: by the CLI into one store, by Python into another."""
    base = tmp_path_factory.mktemp("pipeline")
    cli_store, py_store = base / "cli-store", base / "py-store"
    head = base / "demo-mini.jsonl"
    with open(FIXTURE, encoding="utf-8") as f:
        head.write_text("".join(line for _, line in zip(range(RECORDS), f)), encoding="utf-8")
    got = {"cli": {}, "py": {}}
    c = got["cli"]
    c["append"] = run_cli(cli, cli_store, "append", str(head))
    c["score"] = run_cli(cli, cli_store, "score", "--model", str(model),
                         "--max-tokens", str(MAX_TOKENS), "--threads", str(THREADS))
    c["topics"] = run_cli(cli, cli_store, "topics")
    for name, _, flags in MIXES:
        c[name] = run_cli(cli, cli_store, "mix", name, *flags)
    p = got["py"]
    store = samplemix.Store(str(py_store))
    p["append"] = store.append_files([str(head)])
    p["score"] = store.score(model=str(model), max_tokens=MAX_TOKENS, threads=THREADS)
    p["topics"] = store.topics()
    for name, kwargs, _ in MIXES:
        p[name] = store.mix(name, **kwargs)
    return cli_store, store, got


def test_append_and_stage_summaries_match_the_cli(stores):
    _, _, got = stores
    c, p = got["cli"], got["py"]
    assert p["append"]["added"] > RECORDS - 5, p["append"]
    assert without(p["append"], "seconds", "rejected_records") == without(c["append"], "seconds")
    assert p["append"]["rejected_records"] == []
    assert p["score"]["model_work"] and c["score"]["model_work"]
    for key in ("scored", "too_short", "fingerprint", "pool_scored"):
        assert p["score"][key] == c["score"][key], key
    for key in ("processed", "joined"):
        assert p["topics"][key] == c["topics"][key], key


@pytest.mark.parametrize("name", [m[0] for m in MIXES])
def test_mix_matches_the_cli(stores, name):
    cli_store, _, got = stores
    mix, cli_report = got["py"][name], got["cli"][name]
    assert isinstance(mix, samplemix.Mix) and mix.name == name
    # The CLI's mix, read from the CLI's store: the same (id, count) pairs.
    cli_counts = samplemix.Store(str(cli_store)).mix_counts(name)
    assert len(mix.counts) > 10
    assert mix.counts == cli_counts
    assert len(mix.counts) == cli_report["samples_drawn"]
    assert sum(c for _, c in mix.counts) == cli_report["copies"]
    # The report is the one `mix --json` prints, but for the draw's wall time.
    assert without(mix.report, "draw_seconds") == without(cli_report, "draw_seconds")


def test_a_redraw_reports_no_change_and_a_new_seed_changes_the_mix(stores):
    _, store, got = stores
    again = store.mix("main")  # the saved parameters
    assert again.counts == got["py"]["main"].counts
    changes = again.report["changes"]
    assert changes["samples_added"] == 0 and changes["samples_removed"] == 0
    other = store.mix("main2", tokens="8k", seed=8)
    assert other.counts != again.counts


def test_quality_signal_and_a_mix_on_it(stores):
    _, store, got = stores
    first = store.quality("repetition")
    assert first["work_done"] and first["computed"] == got["py"]["append"]["added"]
    assert store.quality("repetition")["work_done"] is False
    mix = store.mix("rep", tokens="5k", kernel="quality-threshold", fraction=0.5,
                    quality="repetition", rank_within="source")
    assert mix.report["params"]["quality"] == "repetition"
    assert len(mix.counts) > 0


def test_query_returns_dicts(stores):
    _, store, _ = stores
    hits = store.query("python", limit=5)
    assert 0 < len(hits) <= 5
    assert all(isinstance(h, dict) and "id" in h for h in hits)
    wiki = store.query(source="wiki", sort="quality", limit=3)
    assert [h["source"] for h in wiki] == ["wiki"] * len(wiki) and len(wiki) == 3
    full = store.query(source="books", limit=1, full=True)[0]
    assert store.get(full["id"])["text"] == full["text"]
    with pytest.raises(samplemix.SamplemixError, match="--min-quality 1.5 is outside 0 to 1"):
        store.query(min_quality=1.5)


def test_query_as_an_arrow_table(stores):
    pa = pytest.importorskip("pyarrow", reason="pyarrow is optional (query_arrow needs it)")
    _, store, _ = stores
    table = store.query_arrow("python", limit=4)
    assert isinstance(table, pa.Table)
    assert table.num_rows == len(store.query("python", limit=4))
    assert "id" in table.column_names
