"""Fetch the JavaScript the static site serves itself (widgets, MathJax), at pinned versions.

`npm pack` downloads each package tarball from the npm registry; its sha512 must equal
the integrity pinned below (the same value a package-lock.json would hold). The files
the site needs, and the packages' licences, are copied to book/_static_widgets/vendor/.

Every run also checks the files already in place against tools/vendor_manifest.json (the
sha256 of each file the site serves, committed): a deleted, changed or added file makes it
fetch and verify the packages again, and the result must match the manifest too.
``--write-manifest`` rewrites the manifest after a deliberate version change.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from utils.paths import REPO_ROOT as ROOT

TARGET = ROOT / "book" / "_static_widgets" / "vendor"
MANIFEST = Path(__file__).resolve().parent / "vendor_manifest.json"

PACKAGES = {
    "@jupyter-widgets/html-manager@1.0.15": (
        "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        "html-manager",
        # embed-amd.js and the webfonts it asks for (FontAwesome, used by the Play widget)
        lambda name: name.startswith("package/dist/") and not name.endswith((".map", "embed.js", "libembed-amd.js")),
    ),
    "mathjax@3.2.2": (
        "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        "mathjax",
        # the combined TeX component and the CHTML webfonts it loads relative to itself
        lambda name: name == "package/es5/tex-mml-chtml.js"
        or name.startswith("package/es5/output/chtml/fonts/woff-v2/") or name == "package/LICENSE",
    ),
    "requirejs@2.3.8": (
        "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
        "requirejs",
        lambda name: name == "package/require.js",
    ),
}

LICENCES = """Third-party files served by this site (copied by tools/vendor_widgets.py)

html-manager/  @jupyter-widgets/html-manager 1.0.15, BSD-3-Clause,
               Copyright (c) 2015 Project Jupyter Contributors.
               Bundled third-party notices: html-manager/embed.js.LICENSE.txt
               (FontAwesome fonts: SIL OFL 1.1; jQuery, Lumino and others: MIT/BSD).
mathjax/       MathJax 3.2.2, Apache-2.0, Copyright (c) 2009-2022 The MathJax Consortium;
               full text in mathjax/LICENSE.
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
    """{path relative to `target` (default: the served folder): sha256} of every file in it."""
    target = TARGET if target is None else target
    return {path.relative_to(target).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(target.rglob("*")) if path.is_file()}


def manifest_problems(target: Path | None = None, manifest: Path | None = None) -> list[str]:
    """How the served files differ from the manifest (missing, changed, unexpected); [] if equal."""
    target, manifest = TARGET if target is None else target, MANIFEST if manifest is None else manifest
    wanted = json.loads(manifest.read_text())
    found = served_digests(target) if target.is_dir() else {}
    problems = [f"missing {name}" for name in sorted(set(wanted) - set(found))]
    problems += [f"changed {name}" for name in sorted(set(wanted) & set(found)) if wanted[name] != found[name]]
    problems += [f"unexpected {name}" for name in sorted(set(found) - set(wanted))]
    return problems


def fetch() -> int:
    stamp = TARGET / "VERSIONS"
    wanted = "\n".join(PACKAGES) + "\n"
    shutil.rmtree(TARGET, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        for spec, (expected, folder, keep) in PACKAGES.items():
            out = subprocess.run(["npm", "pack", spec, "--silent", "--pack-destination", tmp],
                                 check=True, capture_output=True, text=True).stdout.split()[-1]
            tarball = Path(tmp) / out
            if integrity(tarball) != expected:
                print(f"{spec}: integrity mismatch, refusing to use it", file=sys.stderr)
                return 1
            with tarfile.open(tarball) as tar:
                for member in tar.getmembers():
                    if member.isfile() and (keep(member.name) or member.name.endswith("LICENSE.txt")):
                        inside = Path(member.name).relative_to("package")
                        # keep MathJax's layout (it finds its fonts relative to itself)
                        relative = inside.relative_to("es5") if folder == "mathjax" and inside.parts[0] == "es5" \
                            else Path(inside.name)
                        destination = TARGET / folder / relative
                        destination.parent.mkdir(parents=True, exist_ok=True)
                        destination.write_bytes(tar.extractfile(member).read())
    (TARGET / "LICENSES.txt").write_text(LICENCES)
    stamp.write_text(wanted)
    print(f"widget JavaScript in {TARGET.relative_to(ROOT)}")
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
        print(f"served widget files differ from {MANIFEST.name} ({'; '.join(problems[:5])}): fetching again",
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
