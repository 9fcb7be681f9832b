"""Appending from Python objects, and the library's errors as Python exceptions."""

import json

import pytest

import samplemix

from conftest import FIXTURE


def records():
    with open(FIXTURE, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def test_append_from_dicts_equals_append_from_the_file(tmp_path):
    from_file = samplemix.Store(str(tmp_path / "a")).append_files([str(FIXTURE)])
    store = samplemix.Store(str(tmp_path / "b"))
    from_dicts = store.append(records())  # a generator: any iterable of dicts
    for key in ("added", "duplicates", "rejected", "tokens_added", "bytes_added", "pool_samples"):
        assert from_dicts[key] == from_file[key], key
    stats = store.stats()
    assert stats["samples"] == from_file["pool_samples"]
    # Appending the same records again adds nothing.
    assert store.append(records())["added"] == 0


def test_bad_records_are_reported_and_the_rest_goes_in(tmp_path):
    store = samplemix.Store(str(tmp_path / "s"))
    out = store.append([{"text": "a first good sample about rivers"},
                        {"id": "no-text"},
                        {"text": "a second good sample about mountains", "source": "geo"}],
                       source="notes")
    assert (out["added"], out["rejected"]) == (2, 1)
    [reject] = out["rejected_records"]
    assert reject["line"] == 2 and "text" in reject["reason"]
    sources = {h["source"] for h in store.query(limit=10)}
    assert sources == {"notes", "geo"}


def test_library_errors_are_samplemix_errors_with_its_message(tmp_path):
    missing = samplemix.Store(str(tmp_path / "none"))
    with pytest.raises(samplemix.SamplemixError, match="no store at"):
        missing.stats()
    store = samplemix.Store(str(tmp_path / "s"))
    store.append([{"text": "one sample of text to draw from"}])
    with pytest.raises(samplemix.SamplemixError, match="give its budget with --tokens"):
        store.mix("m")
    with pytest.raises(samplemix.SamplemixError, match="unknown kernel \"cubic\""):
        store.mix("m", tokens=10, kernel="cubic")
    with pytest.raises(samplemix.SamplemixError, match="--alpha is a parameter of --kernel linear"):
        store.mix("m", tokens=10, kernel="natural", alpha=0.5)
    with pytest.raises(samplemix.SamplemixError, match="unknown signal"):
        store.quality("sharpness")
    with pytest.raises(samplemix.SamplemixError, match="no sample with id"):
        store.get("absent")
    with pytest.raises(ValueError, match="not a token count"):
        store.mix("m", tokens="lots")
