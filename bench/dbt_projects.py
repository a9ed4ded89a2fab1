"""Generated dbt projects of a chosen size, for the benches of runs at realistic size (bench/dbt_scale.py).

    from bench.dbt_projects import write_project
    write_project(Path("/tmp/p/m1000"), models=1000)

A project of N models, every one materialized as a table: the first few read a generated series, every
other model reads one earlier model and, every third, a second one (a DAG a few levels deep and wide enough
for dbt's threads), and every fifth model has a `not_null` test (an asset check in Dagster). Each table holds
a handful of rows: the bench measures what a node costs, not what a query costs. No source, seed or package:
the project needs nothing but the warehouse profile.
"""

from __future__ import annotations

from pathlib import Path

ROOT_MODELS = 4  # models with no parent: the first level of the DAG
ROWS = 10
TEST_EVERY = 5


def model_name(i: int) -> str:
    return f"m{i:05d}"


def parents(i: int) -> list[int]:
    """The models model `i` reads: one from about half-way back (so the DAG has a depth of about log2(N)),
    and every third model a second, nearer one."""
    if i < ROOT_MODELS:
        return []
    first = (i - ROOT_MODELS) // 2
    if i % 3 == 0 and i - 1 != first:
        return [first, i - 1]
    return [first]


def model_sql(i: int) -> str:
    found = parents(i)
    if not found:
        return f"select g as id, g * {i + 1} as value from generate_series(1, {ROWS}) as g\n"
    first = f"{{{{ ref('{model_name(found[0])}') }}}}"
    if len(found) == 1:
        return f"select id, value + 1 as value from {first}\n"
    second = f"{{{{ ref('{model_name(found[1])}') }}}}"
    return f"select a.id, a.value + b.value as value from {first} as a join {second} as b using (id)\n"


def tested(i: int) -> bool:
    return i % TEST_EVERY == 0


def write_project(path: Path, models: int, name: str | None = None) -> Path:
    """Writes the project into `path` (created; existing files of the same names are replaced)."""
    name = name or path.name
    models_dir = path / "models"
    models_dir.mkdir(parents=True, exist_ok=True)
    (path / "dbt_project.yml").write_text(
        f"name: {name}\n"
        'version: "1.0.0"\n'
        "config-version: 2\n"
        f"profile: {name}\n"  # whatever it names: the platform runs it with its own profile
        'model-paths: ["models"]\n'
        "flags:\n"
        "  send_anonymous_usage_stats: false\n"
        "models:\n"
        f"  {name}:\n"
        "    +materialized: table\n"
    )
    for i in range(models):
        (models_dir / f"{model_name(i)}.sql").write_text(model_sql(i))
    lines = ["version: 2", "models:"]
    for i in range(models):
        if tested(i):
            lines += [
                f"  - name: {model_name(i)}",
                "    columns:",
                "      - name: id",
                "        data_tests: [not_null]",
            ]
    (models_dir / "_tests.yml").write_text("\n".join(lines) + "\n")
    return path


def test_count(models: int) -> int:
    return sum(1 for i in range(models) if tested(i))


def main() -> None:
    """Write one generated project where you want it, to look at or to run dbt on by hand:
    `python bench/dbt_projects.py /tmp/m1000 1000`."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("models", type=int)
    args = ap.parse_args()
    write_project(args.path, args.models)
    print(f"{args.path}: {args.models} table models, {test_count(args.models)} of them tested")


if __name__ == "__main__":
    main()
