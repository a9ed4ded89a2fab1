"""The warehouse's own PostgreSQL role, with limits, so that one heavy query cannot starve Dagster's storage.

    python -m edp_platform.warehouse_role        (user-code runs it at every start; idempotent)

dbt and the demo's ingestion connect to the warehouse database as WAREHOUSE_USER (the platform's dbt profile,
edp_platform/dbt/profiles/profiles.yml), never as Dagster's own user, and that role carries limits set on it
by the server (ALTER ROLE ... SET, so every session of it starts with them):

- statement_timeout (WAREHOUSE_STATEMENT_TIMEOUT): a runaway query is cancelled;
- work_mem (WAREHOUSE_WORK_MEM): what each sort or hash of its queries may take before spilling to disk;
- temp_file_limit (WAREHOUSE_TEMP_FILE_LIMIT): how much it may spill (only a superuser can raise it);
- a connection limit (WAREHOUSE_CONNECTION_LIMIT), below the server's max_connections, so Dagster's own
  connections always find a slot;
- no CONNECT on Dagster's database.

The postgres container's init script (stack/scripts/postgres-init/10-warehouse-db.sh) creates the role on a
fresh data volume; this module applies the same at every start of user-code, with Dagster's user (the
server's superuser), so a changed limit in stack/.env takes effect on the next start and a data volume from
before this role existed is brought over (its warehouse schemas and their tables are given to the role).
Statement timeout and work_mem can still be changed by a session of the role itself (`SET`): they guard
against accidents, not against a project that means to lift them. A warehouse on its own server
(docs/code-locations.md) keeps even a runaway that exhausts the server's memory away from Dagster's storage.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A PostgreSQL setting value as written in stack/.env: a number and an optional unit (30min, 64MB, 5GB, -1).
SETTING_VALUE = re.compile(r"-?[0-9]+\s*(ms|s|min|h|d|kB|MB|GB|TB)?")


class WarehouseRoleError(ValueError):
    """A warehouse setting is not usable (said before anything is changed)."""


@dataclass(frozen=True)
class WarehouseRole:
    user: str
    password: str
    database: str
    dagster_database: str
    statement_timeout: str
    work_mem: str
    temp_file_limit: str
    connection_limit: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WarehouseRole:
        env = os.environ if environ is None else environ

        def get(name: str, default: str) -> str:
            return (env.get(name) or default).strip()

        role = cls(
            user=get("WAREHOUSE_USER", "warehouse"),
            password=get("WAREHOUSE_PASSWORD", "") or get("DAGSTER_PG_PASSWORD", ""),
            database=get("WAREHOUSE_DB", "warehouse"),
            dagster_database=get("DAGSTER_PG_DB", "dagster"),
            statement_timeout=get("WAREHOUSE_STATEMENT_TIMEOUT", "30min"),
            work_mem=get("WAREHOUSE_WORK_MEM", "64MB"),
            temp_file_limit=get("WAREHOUSE_TEMP_FILE_LIMIT", "5GB"),
            connection_limit=int(get("WAREHOUSE_CONNECTION_LIMIT", "30")),
        )
        role.check()
        return role

    def check(self) -> None:
        for setting, value in (("WAREHOUSE_USER", self.user), ("WAREHOUSE_DB", self.database)):
            if not NAME.fullmatch(value):
                raise WarehouseRoleError(f"{setting}={value!r} is not a PostgreSQL name (letters, digits, _)")
        for setting, value in (
            ("WAREHOUSE_STATEMENT_TIMEOUT", self.statement_timeout),
            ("WAREHOUSE_WORK_MEM", self.work_mem),
            ("WAREHOUSE_TEMP_FILE_LIMIT", self.temp_file_limit),
        ):
            if not SETTING_VALUE.fullmatch(value):
                raise WarehouseRoleError(
                    f"{setting}={value!r} is not a number with a unit (30min, 64MB, 5GB)"
                )
        if not self.password:
            raise WarehouseRoleError(
                "no password for the warehouse role (WAREHOUSE_PASSWORD or DAGSTER_PG_PASSWORD)"
            )
        if self.connection_limit < 1:
            raise WarehouseRoleError("WAREHOUSE_CONNECTION_LIMIT must be at least 1")


def ensure(role: WarehouseRole, admin: Mapping[str, object]) -> list[str]:
    """Apply `role` on the server reached with `admin` (psycopg2 connection parameters of the server's
    superuser, without dbname); says what it did."""
    import psycopg2
    from psycopg2 import sql

    done: list[str] = []
    user = sql.Identifier(role.user)
    conn = psycopg2.connect(**admin, dbname=role.dagster_database)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_roles where rolname = %s", (role.user,))
            verb = "ALTER" if cur.fetchone() else "CREATE"
            cur.execute(
                sql.SQL(verb + " ROLE {} LOGIN PASSWORD {} CONNECTION LIMIT {}").format(
                    user, sql.Literal(role.password), sql.Literal(role.connection_limit)
                )
            )
            done.append(f"role {role.user} {'created' if verb == 'CREATE' else 'updated'}")
            for name, value in (
                ("statement_timeout", role.statement_timeout),
                ("work_mem", role.work_mem),
                ("temp_file_limit", role.temp_file_limit),
            ):
                cur.execute(
                    sql.SQL("ALTER ROLE {} SET {} = {}").format(
                        user, sql.Identifier(name), sql.Literal(value)
                    )
                )
            cur.execute(
                "select pg_get_userbyid(datdba) from pg_database where datname = %s", (role.database,)
            )
            found = cur.fetchone()
            if found is None:
                cur.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(role.database), user)
                )
                done.append(f"database {role.database} created")
            elif found[0] != role.user:
                cur.execute(
                    sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(role.database), user)
                )
                done.append(f"database {role.database} given to {role.user}")
            # Dagster's storage is no business of the warehouse role (its owner and superusers keep access).
            cur.execute(
                sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(
                    sql.Identifier(role.dagster_database)
                )
            )
    finally:
        conn.close()
    done += _adopt_objects(role, admin)
    return done


def _adopt_objects(role: WarehouseRole, admin: Mapping[str, object]) -> list[str]:
    """In the warehouse database: schemas (and what is in them) that another role made before the warehouse
    role existed are given to it, so dbt can go on replacing its own tables; public is usable by it."""
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(**admin, dbname=role.database)
    conn.autocommit = True
    moved: list[str] = []
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("GRANT ALL ON SCHEMA public TO {}").format(sql.Identifier(role.user)))
            cur.execute(
                """
                select n.nspname from pg_namespace n
                where n.nspname not in ('public', 'information_schema') and n.nspname not like 'pg\\_%%'
                  and pg_get_userbyid(n.nspowner) <> %s
                """,
                (role.user,),
            )
            for (schema,) in cur.fetchall():
                cur.execute(
                    sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(
                        sql.Identifier(schema), sql.Identifier(role.user)
                    )
                )
                cur.execute(
                    """
                    select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
                    where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'S', 'p', 'f')
                      and pg_get_userbyid(c.relowner) <> %s
                    """,
                    (schema, role.user),
                )
                for name, kind in cur.fetchall():
                    what = {"v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE", "f": "FOREIGN TABLE"}
                    cur.execute(
                        sql.SQL("ALTER {} {} OWNER TO {}").format(
                            sql.SQL(what.get(kind, "TABLE")),
                            sql.Identifier(schema, name),
                            sql.Identifier(role.user),
                        )
                    )
                moved.append(f"schema {schema} given to {role.user}")
    finally:
        conn.close()
    return moved


def admin_from_env(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    env = os.environ if environ is None else environ
    return {
        "host": env.get("DAGSTER_PG_HOST", "localhost"),
        "port": int(env.get("DAGSTER_PG_PORT", "5432")),
        "user": env.get("DAGSTER_PG_USERNAME", "dagster"),
        "password": env.get("DAGSTER_PG_PASSWORD", ""),
        "connect_timeout": 10,
    }


def main() -> int:
    host = (os.environ.get("WAREHOUSE_HOST") or "").strip()
    if host and host != os.environ.get("DAGSTER_PG_HOST"):
        print(f"edp-platform: the warehouse is on a server of its own ({host}): its limits are that server's")
        return 0
    try:
        role = WarehouseRole.from_env()
    except (WarehouseRoleError, ValueError) as exc:
        print(f"edp-platform: warehouse role: {exc}", file=sys.stderr, flush=True)
        return 64
    try:
        done = ensure(role, admin_from_env())
    except Exception as exc:  # the server away, a permission: dbt will say so too; the stack goes on
        print(
            f"edp-platform: warehouse role {role.user} not applied: {exc}".strip(),
            file=sys.stderr,
            flush=True,
        )
        return 1
    limits = (
        f"statement_timeout {role.statement_timeout}, work_mem {role.work_mem}, temp_file_limit "
        f"{role.temp_file_limit}, {role.connection_limit} connections"
    )
    print(
        f"edp-platform: warehouse role {role.user}: {limits} ({'; '.join(done)})", file=sys.stderr, flush=True
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
