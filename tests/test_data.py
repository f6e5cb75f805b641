import shutil
import urllib.request

import numpy as np
import pytest

from utils import data


@pytest.fixture
def copy_of(real_data_dir, tmp_path, monkeypatch):
    """Copy one dataset file into a private data folder that the loaders then use."""
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))

    def copy(key: str):
        target = tmp_path / data.FILES[key].relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(real_data_dir / data.FILES[key].relpath, target)
        return target

    return copy


def test_mnist_is_the_real_full_dataset(real_data_dir, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, str(real_data_dir))
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and set(np.unique(y_train)) == set(range(10))
    assert y_test.shape == (10000,)


def test_other_loaders_return_the_documented_sizes(real_data_dir, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, str(real_data_dir))
    pairs = data.load_fra_eng_pairs()
    assert len(pairs) == 76037 and pairs[0] == ("Go.", "Va !")
    assert len(data.load_tiny_shakespeare()) == 1115394
    sentences = data.load_sentiment_sentences()
    assert len(sentences) == 3000 and sum(s.label for s in sentences) == 1500
    co2 = data.load_time_series("co2")
    assert len(co2.values) == 2284 and np.isnan(co2.values).any()
    assert len(data.load_time_series("elnino").values) == 61 * 12
    for name in data.SERIES_NAMES:
        assert len(data.load_time_series(name).values) > 50


def test_unknown_series_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown series"):
        data.load_time_series("dow-jones")


def test_missing_file_names_the_file_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    with pytest.raises(data.DataError, match=r"tinyshakespeare.txt is missing.*RNNBOOK_DATA"):
        data.load_tiny_shakespeare()


def test_truncated_text_file_is_rejected(copy_of):
    path = copy_of("tinyshakespeare")
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(data.DataError, match=r"tinyshakespeare.txt is corrupted or truncated"):
        data.load_tiny_shakespeare()


def test_corrupted_byte_is_rejected(copy_of):
    path = copy_of("fra-eng")
    raw = bytearray(path.read_bytes())
    raw[5000] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(data.DataError, match="fra-eng.txt is corrupted"):
        data.load_fra_eng_pairs()


def test_truncated_mnist_zip_is_rejected(copy_of):
    path = copy_of("mnist")
    path.write_bytes(path.read_bytes()[: 5_000_000])
    with pytest.raises(data.DataError, match="mnist.npz is not a readable MNIST npz"):
        data.load_mnist()


def test_mnist_with_other_arrays_is_rejected(copy_of):
    path = copy_of("mnist")
    with np.load(path) as npz:
        arrays = {k: npz[k].copy() for k in npz.files}
    arrays["y_test"][0] = (arrays["y_test"][0] + 1) % 10  # one wrong label
    np.savez(path, **arrays)
    with pytest.raises(data.DataError, match="differ from MNIST"):
        data.load_mnist()


def test_mnist_digest_ignores_the_zip_container(real_data_dir, tmp_path):
    with np.load(real_data_dir / "mnist.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    np.savez_compressed(tmp_path / "recompressed.npz", **arrays)
    with np.load(tmp_path / "recompressed.npz") as npz:
        assert data.mnist_array_digest({k: npz[k] for k in npz.files}) == data.MNIST_ARRAY_DIGEST


class _FakeResponse:
    def __init__(self, payload: bytes):
        self.payload = payload

    def read(self) -> bytes:
        return self.payload

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_without_data_folder_downloads_once_from_the_canonical_url(real_data_dir, tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path))
    payload = (real_data_dir / "tinyshakespeare.txt").read_bytes()
    calls = []

    def fake_urlopen(url, timeout):
        calls.append(url)
        return _FakeResponse(payload)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    assert data.load_tiny_shakespeare().startswith("First Citizen")
    assert data.load_tiny_shakespeare()  # second load reads the cache
    assert calls == [data.FILES["tinyshakespeare"].url]


def test_a_different_download_is_never_returned(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: _FakeResponse(b"another text\n"))
    with pytest.raises(data.DataError, match="corrupted or truncated.*delete it"):
        data.load_tiny_shakespeare()


def test_failed_download_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path))

    def offline(url, timeout):
        raise OSError("network unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(data.DataError, match="could not download tinyshakespeare.txt"):
        data.load_tiny_shakespeare()
    assert not any(tmp_path.rglob("*"))


def test_fra_eng_download_drops_a_cut_last_line():
    assert data._complete_lines(b"a\tb\nc\td") == b"a\tb\n"
    assert data._complete_lines(b"a\tb\n") == b"a\tb\n"
