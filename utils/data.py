"""Loaders for the book's real datasets, each verified by a content digest.

Where the data comes from:

* If the environment variable ``RNNBOOK_DATA`` names a folder, every file is read
  from there (this is how CI and offline machines work) and nothing is downloaded.
* Otherwise each file is downloaded once from its canonical public source into
  ``~/.cache/rnnbook`` (or ``$RNNBOOK_CACHE``).

Either way the content is checked against a digest recorded here before anything is
parsed, so a loader returns exactly the dataset the book was written against or
raises :class:`DataError` naming the file and the fix. It never returns a
half-loaded or different dataset.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

DATA_ENV = "RNNBOOK_DATA"
CACHE_ENV = "RNNBOOK_CACHE"


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

def data_dir() -> Path | None:
    """The data folder named by ``RNNBOOK_DATA``, or None when downloads are used."""
    value = os.environ.get(DATA_ENV, "").strip()
    return Path(value).expanduser() if value else None


def _cache_dir() -> Path:
    value = os.environ.get(CACHE_ENV, "").strip()
    return Path(value).expanduser() if value else Path.home() / ".cache" / "rnnbook"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download(spec: DataFile, target: Path) -> None:
    """Fetch `spec` into `target` atomically: a failed download leaves nothing behind."""
    try:
        with urllib.request.urlopen(spec.url, timeout=60) as response:
            raw = response.read()
    except OSError as exc:
        raise DataError(
            f"could not download {spec.relpath} from {spec.url}: {exc}. "
            f"Download it by hand, or set {DATA_ENV} to a folder that holds it."
        ) from exc
    if spec.relpath == "mnist.npz" and _sha256(raw) != _KERAS_MNIST_SHA256:
        raise DataError(f"the download of {spec.url} does not match keras's published sha256")
    content = spec.from_download(raw) if spec.from_download else raw
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
        tmp.write(content)
    os.replace(tmp.name, target)


def read_verified(key: str) -> tuple[Path, bytes]:
    """Return the path and bytes of dataset file `key`, checked against its digest."""
    spec = FILES[key]
    folder = data_dir()
    if folder is not None:
        path = folder / spec.relpath
        if not path.is_file():
            raise DataError(
                f"{path} is missing. {DATA_ENV}={folder} must hold {spec.relpath} "
                f"(see the book's data page), or unset {DATA_ENV} to download it from {spec.url}."
            )
        fix = f"replace it with a good copy of {spec.relpath}"
    else:
        path = _cache_dir() / spec.relpath
        if not path.is_file():
            _download(spec, path)
        fix = "delete it so that the next load downloads it again"
    data = path.read_bytes()
    if spec.sha256 is not None and _sha256(data) != spec.sha256:
        raise DataError(
            f"{path} is corrupted or truncated: sha256 {_sha256(data)[:12]}... "
            f"!= expected {spec.sha256[:12]}... ({len(data):,} bytes); {fix}."
        )
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
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in ("x_train", "y_train", "x_test", "y_test")}
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        raise DataError(
            f"{path} is not a readable MNIST npz ({exc}); replace it with a good copy "
            f"or delete it to download again."
        ) from exc
    if mnist_array_digest(arrays) != MNIST_ARRAY_DIGEST:
        raise DataError(
            f"{path} holds arrays that differ from MNIST (array digest mismatch); "
            f"replace it with a good copy or delete it to download again."
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
