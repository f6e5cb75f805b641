"""Fetch the JavaScript, styles and fonts the static site serves itself, at pinned versions.

`npm pack` downloads each package tarball from the npm registry; its sha512 must equal
the integrity pinned below (the same value a package-lock.json would hold). The files
the site serves, and the packages' licences, are copied to book/_static_widgets/vendor/;
the files only the build and the tests run (KaTeX's renderer, which writes the equations
into the pages at build time, and axe-core, which the browser test injects) go to
book/_vendor/, which is not served.

Every run also checks the files already in place against tools/vendor_manifest.json (the
sha256 of each file, committed; the not-served ones under "not-served/"): a deleted, changed
or added file makes it fetch and verify the packages again, and the result must match the
manifest too. ``--write-manifest`` rewrites the manifest after a deliberate version change.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from utils.paths import REPO_ROOT as ROOT

TARGET = ROOT / "book" / "_static_widgets" / "vendor"
NOT_SERVED = ROOT / "book" / "_vendor"
NOT_SERVED_KEY = "not-served/"
MANIFEST = Path(__file__).resolve().parent / "vendor_manifest.json"
SERVED, BUILD = "served", "build"


def _katex_file(name: str) -> str | None:
    # the stylesheet and the woff2 fonts it asks for first are served; the renderer runs at build time
    if name in ("package/dist/katex.min.css", "package/LICENSE") or (
            name.startswith("package/dist/fonts/") and name.endswith(".woff2")):
        return SERVED
    return BUILD if name == "package/dist/katex.min.js" else None


# spec: (integrity, folder, where each file of the tarball goes: SERVED, BUILD or None, prefix to drop)
PACKAGES = {
    "@jupyter-widgets/html-manager@1.0.15": (
        "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        "html-manager",
        # embed-amd.js and the webfonts it asks for (FontAwesome, used by the Play widget)
        lambda name: SERVED if name.startswith("package/dist/") and not name.endswith(
            (".map", "embed.js", "libembed-amd.js")) or name.endswith("LICENSE.txt") else None,
        None,
    ),
    "katex@0.16.22": (
        "sha512-XCHRdUw4lf3SKBaJe4EvgqIuWwkPSo9XoeO8GjQW94Bp7TWv9hNhzZjZ+OH9yf1UmLygb7DIT5GSFQiyt16zYg==",
        "katex",
        _katex_file,
        "package/dist/",  # keep fonts/ beside the stylesheet, which finds them relative to itself
    ),
    "requirejs@2.3.8": (
        "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
        "requirejs",
        lambda name: SERVED if name == "package/require.js" else None,
        None,
    ),
    "axe-core@4.11.0": (
        "sha512-ilYanEU8vxxBexpJd8cWM4ElSQq4QctCLKih0TSfjIfCQTeyH/6zVrmIJfLPrKTKJRbiG+cfnZbQIjAlJmF1jQ==",
        "axe-core",
        lambda name: BUILD if name in ("package/axe.min.js", "package/LICENSE") else None,
        None,
    ),
}

# only the woff2 fonts are served: browsers without woff2 support are gone
_KATEX_OLD_FONTS = re.compile(r',url\(fonts/[\w-]+\.woff\) format\("woff"\),url\(fonts/[\w-]+\.ttf\) format\("truetype"\)')


def _adapt(folder: str, relative: Path, data: bytes) -> bytes:
    if folder == "katex" and relative.name == "katex.min.css":
        text, count = _KATEX_OLD_FONTS.subn("", data.decode())
        if not count:
            raise ValueError("katex.min.css: its @font-face rules are not the expected ones")
        return text.encode()
    return data


LICENCES = """Third-party files served by this site (copied by tools/vendor_widgets.py)

html-manager/  @jupyter-widgets/html-manager 1.0.15, BSD-3-Clause,
               Copyright (c) 2015 Project Jupyter Contributors.
               Bundled third-party notices: html-manager/embed.js.LICENSE.txt
               (FontAwesome fonts: SIL OFL 1.1; jQuery, Lumino and others: MIT/BSD).
katex/        KaTeX 0.16.22, MIT, Copyright (c) 2013-2020 Khan Academy and other contributors;
               full text in katex/LICENSE. The stylesheet references only the woff2 fonts.
requirejs/     RequireJS 2.3.8, MIT, Copyright jQuery Foundation and other contributors.

BSD-3-Clause (Project Jupyter):
Redistribution and use in source and binary forms, with or without modification, are
permitted provided that the following conditions are met: 1. Redistributions of source
code must retain the above copyright notice, this list of conditions and the following
disclaimer. 2. Redistributions in binary form must reproduce the above copyright notice,
this list of conditions and the following disclaimer in the documentation and/or other
materials provided with the distribution. 3. Neither the name of the copyright holder nor
the names of its contributors may be used to endorse or promote products derived from
this software without specific prior written permission.
THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY
EXPRESS OR IMPLIED WARRANTIES ARE DISCLAIMED.

MIT (RequireJS):
Permission is hereby granted, free of charge, to any person obtaining a copy of this
software and associated documentation files, to deal in the Software without
restriction, subject to the condition that the above copyright notice and this
permission notice shall be included in all copies or substantial portions of the
Software. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.
"""


def integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def served_digests(target: Path | None = None) -> dict[str, str]:
    """{path: sha256} of every file in `target`; by default of both vendor folders (the
    not-served one's paths start with "not-served/")."""
    if target is not None:
        return {path.relative_to(target).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
                for path in sorted(target.rglob("*")) if path.is_file()}
    found = served_digests(TARGET) if TARGET.is_dir() else {}
    if NOT_SERVED.is_dir():
        found.update({NOT_SERVED_KEY + name: digest for name, digest in served_digests(NOT_SERVED).items()})
    return found


def manifest_problems(target: Path | None = None, manifest: Path | None = None) -> list[str]:
    """How the vendored files differ from the manifest (missing, changed, unexpected); [] if equal."""
    manifest = MANIFEST if manifest is None else manifest
    wanted = json.loads(manifest.read_text())
    found = served_digests() if target is None else served_digests(target) if target.is_dir() else {}
    problems = [f"missing {name}" for name in sorted(set(wanted) - set(found))]
    problems += [f"changed {name}" for name in sorted(set(wanted) & set(found)) if wanted[name] != found[name]]
    problems += [f"unexpected {name}" for name in sorted(set(found) - set(wanted))]
    return problems


def fetch() -> int:
    wanted = "\n".join(PACKAGES) + "\n"
    shutil.rmtree(TARGET, ignore_errors=True)
    shutil.rmtree(NOT_SERVED, ignore_errors=True)
    roots = {SERVED: TARGET, BUILD: NOT_SERVED}
    with tempfile.TemporaryDirectory() as tmp:
        for spec, (expected, folder, where, prefix) in PACKAGES.items():
            out = subprocess.run(["npm", "pack", spec, "--silent", "--pack-destination", tmp],
                                 check=True, capture_output=True, text=True).stdout.split()[-1]
            tarball = Path(tmp) / out
            if integrity(tarball) != expected:
                print(f"{spec}: integrity mismatch, refusing to use it", file=sys.stderr)
                return 1
            with tarfile.open(tarball) as tar:
                for member in tar.getmembers():
                    kind = where(member.name) if member.isfile() else None
                    if kind is None:
                        continue
                    relative = Path(member.name.removeprefix(prefix) if prefix and member.name.startswith(prefix)
                                    else Path(member.name).name)
                    destination = roots[kind] / folder / relative
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    destination.write_bytes(_adapt(folder, relative, tar.extractfile(member).read()))
    (TARGET / "LICENSES.txt").write_text(LICENCES)
    (TARGET / "VERSIONS").write_text(wanted)
    print(f"vendored files in {TARGET.relative_to(ROOT)} (served) and {NOT_SERVED.relative_to(ROOT)} (build, tests)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--write-manifest"]:
        MANIFEST.write_text(json.dumps(served_digests(), indent=1) + "\n")
        return 0
    problems = manifest_problems()
    if not problems:
        return 0  # in place and unchanged
    if TARGET.exists():
        print(f"vendored files differ from {MANIFEST.name} ({'; '.join(problems[:5])}): fetching again",
              file=sys.stderr)
    status = fetch()
    if status:
        return status
    problems = manifest_problems()
    if problems:
        print(f"fetched files differ from {MANIFEST.name}: {'; '.join(problems[:5])}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
