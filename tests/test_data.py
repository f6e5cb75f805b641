import dataclasses
import http.server
import os
import shutil
import socket
import threading
import time
import urllib.request
from pathlib import Path

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
        self.headers = {"Content-Length": str(len(payload))}

    def read1(self, size: int) -> bytes:
        chunk, self.payload = self.payload[:size], self.payload[size:]
        return chunk

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


def test_a_different_download_is_never_returned_nor_cached(real_data_dir, tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path))
    bodies = [b"another text\n", (real_data_dir / "tinyshakespeare.txt").read_bytes()]
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: _FakeResponse(bodies.pop(0)))
    with pytest.raises(data.DataError, match="tinyshakespeare.txt.*not the expected file.*nothing was cached"):
        data.load_tiny_shakespeare()
    assert not any(tmp_path.rglob("*"))  # no file, no temporary left behind
    # the next load downloads again instead of failing on a poisoned cache
    assert data.load_tiny_shakespeare().startswith("First Citizen")


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


# ------------------------------------------------- every failure is one DataError

def _small_npz_like_mnist(path):
    """A deflated npz with MNIST's four array names: the same zip and npy structures, small."""
    rng = np.random.default_rng(0)
    np.savez_compressed(
        path,
        x_train=rng.integers(0, 256, (6, 4, 4), dtype=np.uint8),
        y_train=np.arange(6, dtype=np.uint8),
        x_test=rng.integers(0, 256, (2, 4, 4), dtype=np.uint8),
        y_test=np.arange(2, dtype=np.uint8),
    )
    return path.read_bytes()


def _load_outcome() -> str:
    try:
        data.load_mnist()
    except data.DataError as exc:
        assert "mnist.npz" in str(exc) and "replace it" in str(exc), exc
        return "DataError"
    except Exception as exc:  # noqa: BLE001 -- the sweep counts what escapes
        return f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
    return "loaded"


def test_every_corruption_of_an_mnist_file_is_a_data_error(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv(data.DATA_ENV, str(folder))
    good = _small_npz_like_mnist(tmp_path / "small.npz")
    target = folder / "mnist.npz"
    cases = {"empty": b""}
    for cut in (1, 4, 30, 64, 200, len(good) // 2, len(good) - 22, len(good) - 1):
        cases[f"truncated at {cut}"] = good[:cut]
    for offset in range(len(good)):  # every byte, each with one of its eight bits
        flipped = bytearray(good)
        flipped[offset] ^= 1 << (offset % 8)
        cases[f"bit {offset % 8} of byte {offset} flipped"] = bytes(flipped)
    escaped = {}
    for name, content in cases.items():
        target.write_bytes(content)
        outcome = _load_outcome()
        if outcome != "DataError":  # the small arrays are not MNIST: nothing may load
            escaped[name] = outcome
    assert not escaped, f"{len(escaped)} of {len(cases)} corruptions escaped: {escaped}"


def test_corruptions_of_the_real_mnist_file_are_data_errors(real_data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    good = (real_data_dir / "mnist.npz").read_bytes()
    target = tmp_path / "mnist.npz"
    # truncations, and flips in the zip and npy headers of the first member and in the
    # central directory, where a damaged file escaped as zlib/zipfile/numpy errors
    cases = {f"truncated at {cut}": good[:cut] for cut in (0, 10, 100, 5_000_000, len(good) - 30)}
    for offset in [*range(0, 130, 9), *range(len(good) - 300, len(good), 29)]:
        flipped = bytearray(good)
        flipped[offset] ^= 1 << (offset % 8)
        cases[f"byte {offset} flipped"] = bytes(flipped)
    for name, content in cases.items():
        target.write_bytes(content)
        try:
            (x_train, _), _ = data.load_mnist()
        except data.DataError as exc:
            assert "mnist.npz" in str(exc) and "delete" not in str(exc), (name, exc)
        else:  # a flip in a field the reader ignores: then the arrays are exactly MNIST's
            assert x_train.shape == (60000, 28, 28), name


def test_a_directory_in_place_of_a_file_is_not_called_missing(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    (tmp_path / "mnist.npz").mkdir()
    with pytest.raises(data.DataError, match=r"mnist.npz is a directory, not the data file"):
        data.load_mnist()
    # the same in the download cache, where it would otherwise block every download
    monkeypatch.delenv(data.DATA_ENV)
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path))
    with pytest.raises(data.DataError, match=r"mnist.npz is a directory.*remove it"):
        data.load_mnist()


def test_an_unreadable_file_is_a_data_error(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    (tmp_path / "tinyshakespeare.txt").write_text("x")

    def no_permission(self):
        raise PermissionError(13, "Permission denied", str(self))

    # Simulated: the tests may run as root, who can read a mode-000 file.
    monkeypatch.setattr(Path, "read_bytes", no_permission)
    with pytest.raises(data.DataError, match=r"tinyshakespeare.txt cannot be read \(PermissionError"):
        data.load_tiny_shakespeare()


def test_mnist_errors_in_a_data_folder_never_say_delete(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    (tmp_path / "mnist.npz").write_bytes(b"not a zip")
    with pytest.raises(data.DataError, match="replace it with a good copy") as error:
        data.load_mnist()
    assert "delete" not in str(error.value)
    # in the download cache deleting is the fix, and says so
    monkeypatch.delenv(data.DATA_ENV)
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path))
    with pytest.raises(data.DataError, match="delete it so that the next load downloads it again"):
        data.load_mnist()


def test_a_relative_data_folder_is_relative_to_the_repository_root(real_data_dir, tmp_path, monkeypatch):
    folder = tmp_path / "relative-data"
    folder.mkdir()
    shutil.copyfile(real_data_dir / "tinyshakespeare.txt", folder / "tinyshakespeare.txt")
    monkeypatch.setenv(data.DATA_ENV, os.path.relpath(folder, data.REPO_ROOT))
    for cwd in (data.REPO_ROOT, data.REPO_ROOT / "chapters", tmp_path):  # make, a notebook kernel, elsewhere
        monkeypatch.chdir(cwd)
        assert data.data_dir().resolve() == folder.resolve()
        assert len(data.load_tiny_shakespeare()) == 1115394


# --------------------------------------------- downloads from a local HTTP server

@pytest.fixture
def serve(monkeypatch, tmp_path):
    """Serve one handler on 127.0.0.1 and point the tinyshakespeare download at it."""
    servers = []
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))

    def start(do_get):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                do_get(self)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/input.txt"
        spec = dataclasses.replace(data.FILES["tinyshakespeare"], url=url)
        monkeypatch.setitem(data.FILES, "tinyshakespeare", spec)
        return tmp_path / "cache"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _send(handler, body: bytes, length: int | None = None):
    handler.send_response(200)
    handler.send_header("Content-Length", str(len(body) if length is None else length))
    handler.end_headers()
    handler.wfile.write(body)


def test_download_from_a_server_is_verified_then_cached(real_data_dir, serve):
    good = (real_data_dir / "tinyshakespeare.txt").read_bytes()
    bodies = [b"<html>rate limited</html>", good]
    cache = serve(lambda handler: _send(handler, bodies.pop(0)))
    with pytest.raises(data.DataError, match="not the expected file.*nothing was cached"):
        data.load_tiny_shakespeare()
    assert not any(cache.rglob("*"))
    assert len(data.load_tiny_shakespeare()) == 1115394
    assert (cache / "tinyshakespeare.txt").read_bytes() == good


def test_a_cut_off_download_is_a_data_error_and_not_cached(real_data_dir, serve):
    good = (real_data_dir / "tinyshakespeare.txt").read_bytes()
    cache = serve(lambda handler: _send(handler, good[:100_000], length=len(good)))
    with pytest.raises(data.DataError, match="could not download tinyshakespeare.txt.*IncompleteRead"):
        data.load_tiny_shakespeare()
    assert not any(cache.rglob("*"))


def test_a_server_that_never_answers_meets_the_overall_deadline(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(data, "DOWNLOAD_DEADLINE_S", 1.5)
    with socket.socket() as silent:  # the kernel accepts connections; nobody ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/input.txt"
        monkeypatch.setitem(data.FILES, "tinyshakespeare",
                            dataclasses.replace(data.FILES["tinyshakespeare"], url=url))
        start = time.monotonic()
        with pytest.raises(data.DataError, match=r"within the 1.5 s download deadline"):
            data.load_tiny_shakespeare()
        assert time.monotonic() - start < 5
    assert not any(tmp_path.rglob("*"))


def test_a_server_that_trickles_meets_the_overall_deadline(serve, monkeypatch):
    monkeypatch.setattr(data, "DOWNLOAD_DEADLINE_S", 1.5)

    def trickle(handler):  # one byte every 0.2 s: no single read ever times out
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        for _ in range(30):
            try:
                handler.wfile.write(b"x")
                handler.wfile.flush()
            except OSError:
                return
            time.sleep(0.2)

    cache = serve(trickle)
    start = time.monotonic()
    with pytest.raises(data.DataError, match=r"within the 1.5 s download deadline"):
        data.load_tiny_shakespeare()
    assert time.monotonic() - start < 4
    assert not any(cache.rglob("*"))
