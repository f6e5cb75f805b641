"""Loaders for the book's real datasets, each verified by a content digest.

Where the data comes from:

* If the environment variable ``RNNBOOK_DATA`` names a folder, every file is read
  from there (this is how CI and offline machines work) and nothing is downloaded.
* Otherwise each file is downloaded once from its canonical public source into
  ``~/.cache/rnnbook`` (or ``$RNNBOOK_CACHE``). A download is checked before it is
  moved into the cache, so a wrong or cut-off body is never cached, and it has an
  overall deadline (``DOWNLOAD_DEADLINE_S``).

A relative ``RNNBOOK_DATA`` or ``RNNBOOK_CACHE`` is resolved against the repository
root (the folder that holds ``utils/``), not the working directory: notebook kernels
run in ``chapters/`` while make and pytest run at the root, and this rule gives the
same folder in both.

Either way the content is checked against a digest recorded here before anything is
parsed, so a loader returns exactly the dataset the book was written against or
raises :class:`DataError` naming the file and the fix. It never returns a
half-loaded or different dataset.
"""

from __future__ import annotations

import csv
import hashlib
import http.client
import io
import os
import tempfile
import threading
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

# Relative values of the two variables are taken from the repository root (see the module docstring).
from .paths import REPO_ROOT

DATA_ENV = "RNNBOOK_DATA"
CACHE_ENV = "RNNBOOK_CACHE"
# A download gives up after this many seconds in all, and a read that waits this long
# for a byte, however slowly the server answers.
DOWNLOAD_DEADLINE_S = 600.0
READ_TIMEOUT_S = 60.0


class DataError(RuntimeError):
    """A dataset file is missing, truncated, corrupted or cannot be fetched."""


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset: where it lives, its digest and where to get it."""

    relpath: str  # path inside the data folder
    sha256: str | None  # digest of the file bytes; None when checked after parsing
    url: str  # canonical public source
    # Turns the downloaded bytes into the file as stored in the data folder.
    from_download: Callable[[bytes], bytes] | None = None


# --------------------------------------------------------------------------- files

_KERAS_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
_KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
# Digest of the four arrays (see `mnist_array_digest`): the same for keras's zip and
# for any other zip that holds the same arrays.
MNIST_ARRAY_DIGEST = "1aab4185abcd739ac94175d7c6004a9c081c2e10fa9813921a0bfee1ba0165c7"

_UCI_SENTIMENT_URL = (
    "https://archive.ics.uci.edu/static/public/331/sentiment+labelled+sentences.zip"
)


def _member_of_zip(member_suffix: str) -> Callable[[bytes], bytes]:
    def extract(archive: bytes) -> bytes:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            for name in zf.namelist():
                if name.endswith(member_suffix) and not name.startswith("__MACOSX"):
                    return zf.read(name)
        raise DataError(f"{member_suffix} not found in the downloaded archive")

    return extract


def _complete_lines(raw: bytes) -> bytes:
    """Drop a last line cut off without its newline (the published copy has one)."""
    if raw.endswith(b"\n"):
        return raw
    return raw[: raw.rfind(b"\n") + 1]


FILES: dict[str, DataFile] = {
    "mnist": DataFile("mnist.npz", None, _KERAS_MNIST_URL),
    "fra-eng": DataFile(
        "fra-eng.txt",
        "0054ea2102484f4800d0b2cca57460b6b4a2e05328e6954240601065b001b1a6",
        "https://raw.githubusercontent.com/Soubhagya264/Language_Translator-Encoder-Decoder-/"
        "f6c89651306aa93d2f0f0447ce15b553a530abb0/fra.txt",
        _complete_lines,
    ),
    "tinyshakespeare": DataFile(
        "tinyshakespeare.txt",
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        "https://raw.githubusercontent.com/karpathy/char-rnn/"
        "6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/input.txt",
    ),
}

_SENTIMENT_DIR = "sentiment/uci-sentiment-labelled-sentences"
SENTIMENT_SOURCES = ("amazon", "imdb", "yelp")
for _source, _digest in zip(
    SENTIMENT_SOURCES,
    (
        "47003fc0a0d4840b00e96e715b6189bad09e7443a3da41c4cbe12ffc79f86ae3",
        "a5851cfed830b68d4b18fa11f7e9fa85debee7566be0933c9a679ce747c86d67",
        "c76468b7b5c6e56a0804d728345c5f84aa2142ddb214420f61cc9cfd4c00d2ea",
    ),
):
    _name = f"{_source}_labelled.txt" if _source != "amazon" else "amazon_cells_labelled.txt"
    FILES[f"sentiment-{_source}"] = DataFile(
        f"{_SENTIMENT_DIR}/{_name}", _digest, _UCI_SENTIMENT_URL, _member_of_zip(_name)
    )

_STATSMODELS = "https://raw.githubusercontent.com/statsmodels/statsmodels/v0.15.0/statsmodels/datasets"
_SKTIME = "https://raw.githubusercontent.com/sktime/sktime/v1.2.0/sktime/datasets/data"
# name -> (file, digest, url, time column, value column)
_SERIES: dict[str, tuple[str, str, str, str, str]] = {
    "co2": ("co2.csv", "16695fa2786e53414e5a6b54767a3fdf5de99cfbc68617f69d1362d92776a92f",
            f"{_STATSMODELS}/co2/co2.csv", "date", "co2"),
    "sunspots": ("sunspots.csv", "f67889b1d9002cd5227f0e0ef54e35b419cdd85a31279adef6f73fb41e5c0a9b",
                 f"{_STATSMODELS}/sunspots/sunspots.csv", "YEAR", "SUNACTIVITY"),
    "nile": ("nile.csv", "88e97bea7249e5832a85e41aec6ce4b8f7b1b14aae930c8363da7f193286b598",
             f"{_STATSMODELS}/nile/nile.csv", "year", "volume"),
    "airline": ("Airline.csv", "28af0eb869db6d9fbd31d5af03993a0cbf36c0857c3eb046a068c094b60da851",
                f"{_SKTIME}/Airline/Airline.csv", "Date", "Passengers"),
    "elnino": ("elnino.csv", "b647be00e0fd264be9764e317e6b963f35030014ecca2b21b204521716e463ad",
               f"{_STATSMODELS}/elnino/elnino.csv", "YEAR", ""),
}
for _name, (_file, _digest, _url, _, _) in _SERIES.items():
    FILES[f"series-{_name}"] = DataFile(f"timeseries/{_file}", _digest, _url)
SERIES_NAMES = tuple(_SERIES)


# ------------------------------------------------------------------- file access

def _folder_from_env(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    # REPO_ROOT / an absolute path is that absolute path.
    return REPO_ROOT / Path(value).expanduser() if value else None


def data_dir() -> Path | None:
    """The data folder named by ``RNNBOOK_DATA`` (relative to the repository root), or None."""
    return _folder_from_env(DATA_ENV)


def _cache_dir() -> Path:
    return _folder_from_env(CACHE_ENV) or Path.home() / ".cache" / "rnnbook"


def _fix(spec: DataFile) -> str:
    """How to repair a bad copy of `spec`: never "delete it" in a shared data folder."""
    if data_dir() is not None:
        return (f"replace it with a good copy of {spec.relpath} (see the book's data page), "
                f"or unset {DATA_ENV} to download it from {spec.url}")
    return "delete it so that the next load downloads it again"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_digest(data: bytes, expected: str | None, what: str, consequence: str) -> None:
    """A DataError naming `what` when `data` does not have the digest `expected` (None: unchecked)."""
    if expected is not None and _sha256(data) != expected:
        raise DataError(f"{what} sha256 {_sha256(data)[:12]}... != expected {expected[:12]}... "
                        f"({len(data):,} bytes); {consequence}.")


def _fetch(url: str, deadline_s: float) -> bytes:
    """The body at `url`, or an exception; the caller waits at most `deadline_s` for it."""
    outcome: dict[str, object] = {}

    def worker() -> None:
        start = time.monotonic()
        try:
            timeout = min(READ_TIMEOUT_S, deadline_s)
            with urllib.request.urlopen(url, timeout=timeout) as response:
                chunks = []
                # read1: whatever has arrived, so the deadline is checked as bytes trickle in
                while chunk := response.read1(1 << 20):
                    chunks.append(chunk)
                    if time.monotonic() - start > deadline_s:
                        return  # the caller has given up; stop using the network
                body = b"".join(chunks)
                # read1 returns b"" on a connection closed early instead of raising
                expected = response.headers.get("Content-Length")
                if expected is not None and expected.isdigit() and len(body) < int(expected):
                    raise http.client.IncompleteRead(body, int(expected) - len(body))
                outcome["body"] = body
        except BaseException as exc:  # handed to the caller, which turns it into a DataError
            outcome["error"] = exc

    # A thread, because a socket timeout bounds one read, not the whole download: a
    # server that trickles bytes (or accepts and never answers) would hold us for hours.
    thread = threading.Thread(target=worker, name=f"rnnbook download {url}", daemon=True)
    thread.start()
    thread.join(deadline_s)
    if thread.is_alive() or not outcome:
        raise TimeoutError(f"no complete answer within the {deadline_s:g} s download deadline")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["body"]  # type: ignore[return-value]


def _download(spec: DataFile, target: Path) -> None:
    """Fetch, verify, then move `spec` into `target`: a bad or failed download leaves nothing."""
    hint = f"Download it by hand, or set {DATA_ENV} to a folder that holds it."
    try:
        raw = _fetch(spec.url, DOWNLOAD_DEADLINE_S)
    # Not only OSError: a cut-off body is http.client.IncompleteRead, a bad URL ValueError.
    except Exception as exc:
        raise DataError(
            f"could not download {spec.relpath} from {spec.url}: {type(exc).__name__}: {exc}. {hint}"
        ) from exc
    if spec.relpath == "mnist.npz":
        _check_digest(raw, _KERAS_MNIST_SHA256, f"the download of {spec.url} does not match keras's published",
                      f"nothing was cached. {hint}")
    try:
        content = spec.from_download(raw) if spec.from_download else raw
    except DataError:
        raise
    except Exception as exc:  # e.g. a damaged zip archive
        raise DataError(
            f"the download of {spec.url} is not a readable archive ({type(exc).__name__}: {exc}); "
            f"nothing was cached. {hint}"
        ) from exc
    # Checked before it reaches the cache: a wrong body cached would fail every later load.
    _check_digest(content, spec.sha256, f"the download of {spec.relpath} from {spec.url} is not the expected file:",
                  f"nothing was cached. {hint}")
    tmp_name = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.",
                                         delete=False) as tmp:
            tmp_name = tmp.name
            tmp.write(content)
        os.replace(tmp_name, target)  # atomic: readers see the old state or the whole file
    except OSError as exc:
        if tmp_name is not None and os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise DataError(
            f"could not write {target}: {exc}. Set {CACHE_ENV} to a writable folder, "
            f"or set {DATA_ENV} to a folder that holds {spec.relpath}."
        ) from exc


def read_verified(key: str) -> tuple[Path, bytes]:
    """Return the path and bytes of dataset file `key`, checked against its digest."""
    spec = FILES[key]
    folder = data_dir()
    fix = _fix(spec)
    path = (folder if folder is not None else _cache_dir()) / spec.relpath
    try:
        if folder is not None and not path.exists():
            where = "" if folder.is_dir() else " (no such folder)"
            raise DataError(
                f"{path} is missing. {DATA_ENV}={folder}{where} must hold {spec.relpath} "
                f"(see the book's data page), or unset {DATA_ENV} to download it from {spec.url}."
            )
        if folder is None and not path.exists():
            _download(spec, path)
        if not path.is_file():
            kind = "a directory" if path.is_dir() else "not a regular file"
            where = f"{DATA_ENV}={folder} must hold the file" if folder else "remove it and load again"
            raise DataError(f"{path} is {kind}, not the data file {spec.relpath}; {where}.")
        data = path.read_bytes()
    except OSError as exc:  # no permission, a disk error, a file replaced meanwhile
        raise DataError(
            f"{path} cannot be read ({type(exc).__name__}: {exc}); make it readable or {fix}."
        ) from exc
    _check_digest(data, spec.sha256, f"{path} is corrupted or truncated:", fix)
    return path, data


# ----------------------------------------------------------------------- loaders

def mnist_array_digest(arrays: dict[str, np.ndarray]) -> str:
    """A digest of MNIST's arrays (names, dtypes, shapes and bytes), not of the zip."""
    digest = hashlib.sha256()
    for name in ("x_train", "y_train", "x_test", "y_test"):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def load_mnist() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST as ``(x_train, y_train), (x_test, y_test)``: uint8, 60,000 and 10,000 images."""
    path, raw = read_verified("mnist")
    fix = _fix(FILES["mnist"])
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in ("x_train", "y_train", "x_test", "y_test")}
        digest = mnist_array_digest(arrays)
    # Any exception: a damaged zip escapes as zlib.error, RuntimeError ("encrypted"),
    # NotImplementedError (compression method), tokenize.TokenError (npy header) and more.
    except Exception as exc:
        raise DataError(
            f"{path} is not a readable MNIST npz ({type(exc).__name__}: {exc}); {fix}."
        ) from exc
    if digest != MNIST_ARRAY_DIGEST:
        raise DataError(
            f"{path} holds arrays that differ from MNIST (array digest mismatch); {fix}."
        )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _text(key: str) -> str:
    path, raw = read_verified(key)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text: {exc}") from exc


def load_fra_eng_pairs() -> list[tuple[str, str]]:
    """The 76,037 English–French sentence pairs (Tatoeba), in file order."""
    pairs = []
    for number, line in enumerate(_text("fra-eng").rstrip("\n").split("\n"), start=1):
        fields = line.split("\t")
        if len(fields) < 2:
            raise DataError(f"fra-eng.txt line {number} has no tab-separated pair")
        pairs.append((fields[0], fields[1]))
    return pairs


def load_tiny_shakespeare() -> str:
    """Tiny-shakespeare (1,115,394 characters) as one string."""
    return _text("tinyshakespeare")


@dataclass(frozen=True)
class SentimentSentence:
    text: str
    label: int  # 1 positive, 0 negative
    source: str  # amazon, imdb or yelp


def load_sentiment_sentences() -> list[SentimentSentence]:
    """The 3,000 UCI sentiment-labelled sentences (1,000 per source, half positive)."""
    sentences = []
    for source in SENTIMENT_SOURCES:
        # split on "\n" only: some sentences contain U+0085, which splitlines() breaks on
        for line in _text(f"sentiment-{source}").split("\n"):
            if not line.strip():
                continue
            text, _, label = line.rstrip().rpartition("\t")
            if label not in ("0", "1") or not text:
                raise DataError(f"unexpected line in the {source} sentiment file: {line!r}")
            sentences.append(SentimentSentence(text.strip(), int(label), source))
    return sentences


@dataclass(frozen=True)
class TimeSeries:
    name: str
    time: np.ndarray  # as in the file: year, yyyymmdd or yyyy-mm strings
    values: np.ndarray  # float64


def load_time_series(name: str) -> TimeSeries:
    """One real series: co2, sunspots, nile, airline or elnino (monthly, flattened)."""
    if name not in _SERIES:
        raise ValueError(f"unknown series {name!r}; choose one of {', '.join(SERIES_NAMES)}")
    _, _, _, time_col, value_col = _SERIES[name]
    rows = list(csv.DictReader(io.StringIO(_text(f"series-{name}"))))
    times: list[str] = []
    values: list[float] = []
    for row in rows:
        if name == "elnino":  # one row per year, one column per month
            for month in list(row)[1:]:
                times.append(f"{row[time_col]}-{month}")
                values.append(float(row[month]))
        else:
            times.append(row[time_col])
            # co2 has gaps (empty cells): keep them as NaN for the chapter to fill.
            values.append(float(row[value_col]) if row[value_col] else float("nan"))
    return TimeSeries(name, np.array(times), np.array(values, dtype=np.float64))
