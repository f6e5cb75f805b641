import json

from tools import vendor_widgets as vendor
from utils.paths import REPO_ROOT


def _served(tmp_path):
    target = tmp_path / "vendor"
    (target / "requirejs").mkdir(parents=True)
    (target / "requirejs" / "require.js").write_text("var requirejs;")
    (target / "VERSIONS").write_text("requirejs@2.3.8\n")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(vendor.served_digests(target)))
    return target, manifest


def test_served_files_are_checked_every_time(tmp_path):
    target, manifest = _served(tmp_path)
    assert vendor.manifest_problems(target, manifest) == []
    (target / "requirejs" / "require.js").write_text("var requirejs; alert('appended')")
    assert vendor.manifest_problems(target, manifest) == ["changed requirejs/require.js"]
    (target / "requirejs" / "require.js").unlink()
    (target / "extra.js").write_text("")
    assert vendor.manifest_problems(target, manifest) == ["missing requirejs/require.js", "unexpected extra.js"]


def test_a_damaged_copy_is_fetched_again_and_must_then_match(tmp_path, monkeypatch):
    target, manifest = _served(tmp_path)
    monkeypatch.setattr(vendor, "TARGET", target)
    monkeypatch.setattr(vendor, "MANIFEST", manifest)
    monkeypatch.setattr(vendor, "NOT_SERVED", tmp_path / "not-served")
    fetched = []
    monkeypatch.setattr(vendor, "fetch", lambda: fetched.append(True) or 0)
    assert vendor.main([]) == 0 and fetched == []  # intact: nothing to do
    (target / "requirejs" / "require.js").unlink()
    assert vendor.main([]) == 1 and fetched == [True]  # fetched, and still not what the manifest says


def test_the_committed_manifest_lists_the_files_the_site_loads():
    names = json.loads((REPO_ROOT / "tools" / "vendor_manifest.json").read_text())
    assert {"requirejs/require.js", "html-manager/embed-amd.js", "katex/katex.min.css", "VERSIONS",
            "not-served/katex/katex.min.js", "not-served/axe-core/axe.min.js"} <= set(names)
    assert not [name for name in names if "mathjax" in name], "MathJax is no longer served"
