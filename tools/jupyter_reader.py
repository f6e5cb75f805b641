"""Start JupyterLab (or Notebook 7) on the chapters, set up as the book runs them: `make jupyter`.

    python tools/jupyter_reader.py                      # JupyterLab, full profile (the default)
    python tools/jupyter_reader.py --profile smoke      # tiny data: every chapter in about a minute
    python tools/jupyter_reader.py --app notebook       # Notebook 7 instead of JupyterLab
    python tools/jupyter_reader.py -- --port 8890       # anything after `--` goes to `jupyter lab`

What it sets up, and why:

* the chapters are trusted (``jupyter trust``): a cloned notebook is not, and JupyterLab would
  then show the committed slider views as text;
* the kernel is ipykernel's ``python3`` with the environment ``make execute`` gives its kernels
  (:data:`utils.freshness.QUIET_TF_ENV`, :data:`utils.freshness.KERNEL_ARGUMENTS`): TensorFlow's
  C++ log stays quiet and C-level output goes to this terminal, not into the notebook. It comes
  from a kernelspec written under the virtualenv and put first on ``JUPYTER_PATH``; its name and
  display name are ipykernel's, so opening and saving a chapter changes nothing in it;
* the profile (``RNNBOOK_PROFILE``): ``--profile``, else the variable, else ``full``;
* the data folder (``RNNBOOK_DATA``), made absolute: a relative path names a folder of the
  repository, as it does for ``make`` and the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from utils.freshness import JUPYTER_KERNELSPEC, KERNEL_ARGUMENTS, METADATA_KEY, QUIET_TF_ENV
from utils.paths import CHAPTERS_DIR, REPO_ROOT, SMOKE_TIMES
from utils.profile import PROFILE_ENV, current_profile

DATA_ENV = "RNNBOOK_DATA"
KERNELS_HOME = REPO_ROOT / ".venv" / "share" / "rnnbook-jupyter"


def write_kernelspec(home: Path = KERNELS_HOME) -> Path:
    """Write the ``python3`` kernelspec the chapters run in under `home` (a JUPYTER_PATH entry)."""
    folder = home / "kernels" / JUPYTER_KERNELSPEC["name"]
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        # "python" is replaced by the server's own interpreter (jupyter_client): the virtualenv's
        "argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}", *KERNEL_ARGUMENTS],
        "display_name": JUPYTER_KERNELSPEC["display_name"],
        "language": JUPYTER_KERNELSPEC["language"],
        "env": dict(QUIET_TF_ENV),
        "metadata": {"debugger": True},
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    return home


def reader_environment(profile: str, kernels_home: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment (its kernels inherit it): profile, data folder, kernelspec."""
    env = dict(os.environ if base is None else base)
    env[PROFILE_ENV] = profile
    if env.get(DATA_ENV):
        env[DATA_ENV] = str((REPO_ROOT / env[DATA_ENV]).resolve())  # an absolute path stays as it is
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(kernels_home), env.get("JUPYTER_PATH")]))
    env.update(QUIET_TF_ENV)
    return env


def chapters() -> list[Path]:
    return sorted(CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb"))


def expected_minutes(profile: str) -> tuple[float, str, float]:
    """(all chapters, the longest chapter, its time) in minutes, from the recorded run times."""
    if profile == "full":
        times = {p.stem: json.loads(p.read_text()).get("metadata", {}).get(METADATA_KEY, {}).get("runtime_s", 0)
                 for p in chapters()}
    else:
        times = json.loads(SMOKE_TIMES.read_text()) if SMOKE_TIMES.is_file() else {}
    if not times:
        return 0.0, "", 0.0
    longest = max(times, key=times.get)
    return sum(times.values()) / 60, longest, times[longest] / 60


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/jupyter_reader.py", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", help="smoke or full (default: $RNNBOOK_PROFILE, else full)")
    parser.add_argument("--app", choices=("lab", "notebook"), default="lab", help="JupyterLab or Notebook 7")
    parser.add_argument("jupyter_args", nargs="*", help="passed on to `jupyter lab` / `jupyter notebook`")
    args = parser.parse_args(argv)
    if args.profile:
        os.environ[PROFILE_ENV] = args.profile
    try:
        profile = current_profile()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    jupyter = str(Path(sys.executable).parent / "jupyter")
    env = reader_environment(profile, write_kernelspec())
    notebooks = [str(p) for p in chapters()]
    subprocess.run([jupyter, "trust", *notebooks], env=env, check=True)
    total, longest, longest_minutes = expected_minutes(profile)
    other = "smoke" if profile == "full" else "full"
    print(f"\nProfile: {profile}{' (the default)' if profile == 'full' else ''}: all chapters about "
          f"{total:.0f} min on a 2-core CPU, {longest} {longest_minutes:.1f} min. "
          f"`make jupyter PROFILE={other}` for the {other} profile.")
    if DATA_ENV not in env:
        print(f"{DATA_ENV} is not set: the chapters download each dataset once into their cache.")
    print("A chapter you ran and saved holds your outputs: `git checkout -- chapters/NN_name.ipynb` "
          "restores the committed one.\n", flush=True)
    command = [jupyter, args.app, f"--ServerApp.root_dir={CHAPTERS_DIR}", *args.jupyter_args]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # a container's root user, as in CI
    os.execve(jupyter, command, env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
