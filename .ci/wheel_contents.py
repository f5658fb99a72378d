"""Check what the built wheel and sdist hold (run by .ci/wheel).

Usage: python .ci/wheel_contents.py DIST.whl DIST.tar.gz

The wheel must hold every module of the source tree's jaxinit/ package and its
py.typed marker, the `jaxinit` console script and the source tree's version,
and nothing from outside the package (tests, benchmarks, notebooks, docs, CI).
The sdist must hold what rebuilding the wheel needs: pyproject.toml, the README
(the long description) and the same package files.
"""

import configparser
import pathlib
import sys
import tarfile
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUTSIDE = ("tests/", "benchmarks/", "notebooks/", "docs/", ".ci/", "conftest.py")


def package_files() -> set[str]:
    """The package's files in the source tree, as paths relative to the root."""
    files = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "jaxinit").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    if "jaxinit/py.typed" not in files:
        sys.exit("the source tree has no jaxinit/py.typed")
    return files


def version() -> str:
    namespace: dict[str, object] = {}
    exec((ROOT / "jaxinit/_src/version.py").read_text(), namespace)
    return str(namespace["__version__"])


def check_wheel(path: pathlib.Path, expected: set[str]) -> None:
    with zipfile.ZipFile(path) as wheel:
        names = set(wheel.namelist())
        info = sorted(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        metadata = sorted(n for n in names if n.endswith(".dist-info/METADATA"))
        if len(info) != 1 or len(metadata) != 1:
            sys.exit(f"{path.name}: expected one entry_points.txt and one METADATA")
        points = configparser.ConfigParser()
        points.read_string(wheel.read(info[0]).decode())
        meta = wheel.read(metadata[0]).decode()
    missing = expected - names
    if missing:
        sys.exit(f"{path.name} lacks {sorted(missing)}")
    stray = sorted(n for n in names if n.startswith(OUTSIDE))
    if stray:
        sys.exit(f"{path.name} holds files from outside the package: {stray}")
    script = points.get("console_scripts", "jaxinit", fallback=None)
    if script != "jaxinit._src.cli:main":
        sys.exit(f"{path.name}: console script jaxinit is {script!r}")
    if f"\nVersion: {version()}\n" not in meta:
        sys.exit(f"{path.name}: METADATA does not give version {version()}")
    print(f"{path.name}: {len(names)} files, all {len(expected)} package files, py.typed")


def check_sdist(path: pathlib.Path, expected: set[str]) -> None:
    with tarfile.open(path) as sdist:
        members = sdist.getnames()
    top = {name.split("/", 1)[0] for name in members}
    if len(top) != 1:
        sys.exit(f"{path.name}: expected one top folder, found {sorted(top)}")
    prefix = f"{top.pop()}/"
    names = {name.removeprefix(prefix) for name in members}
    missing = ({"pyproject.toml", "README.md"} | expected) - names
    if missing:
        sys.exit(f"{path.name} lacks {sorted(missing)}")
    print(f"{path.name}: {len(names)} entries, pyproject.toml, README.md and the package")


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        sys.exit(__doc__)
    wheel, sdist = (pathlib.Path(a) for a in argv)
    expected = package_files()
    check_wheel(wheel, expected)
    check_sdist(sdist, expected)


if __name__ == "__main__":
    main(sys.argv[1:])
