#!/usr/bin/env bash
# Runs once, when the postgres container initialises an empty data volume (official image and the air-gapped
# stand-in alike): creates the warehouse's own role with its limits (WAREHOUSE_USER: statement_timeout,
# work_mem, temp_file_limit, a connection limit) and the dbt/ingestion warehouse database it owns, beside
# Dagster's own, which the role may not connect to. user-code applies the same at every start
# (edp_platform/warehouse_role.py), so changed limits and older data volumes are brought in line there.
set -euo pipefail
db=${WAREHOUSE_DB:-warehouse}
user=${WAREHOUSE_USER:-warehouse}
password=${WAREHOUSE_PASSWORD:-$POSTGRES_PASSWORD}
if [ "$db" = "${POSTGRES_DB:-$POSTGRES_USER}" ]; then
  echo "WAREHOUSE_DB must differ from Dagster's database ($db)" >&2
  exit 1
fi
echo "creating warehouse role $user and database $db"
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
  --set db="$db" --set user="$user" --set password="$password" --set dagster_db="${POSTGRES_DB:-$POSTGRES_USER}" \
  --set limit="${WAREHOUSE_CONNECTION_LIMIT:-30}" \
  --set statement_timeout="${WAREHOUSE_STATEMENT_TIMEOUT:-30min}" \
  --set work_mem="${WAREHOUSE_WORK_MEM:-64MB}" \
  --set temp_file_limit="${WAREHOUSE_TEMP_FILE_LIMIT:-5GB}" <<'SQL'
CREATE ROLE :"user" LOGIN PASSWORD :'password' CONNECTION LIMIT :limit;
ALTER ROLE :"user" SET statement_timeout = :'statement_timeout';
ALTER ROLE :"user" SET work_mem = :'work_mem';
ALTER ROLE :"user" SET temp_file_limit = :'temp_file_limit';
CREATE DATABASE :"db" OWNER :"user";
REVOKE CONNECT ON DATABASE :"dagster_db" FROM PUBLIC;
SQL
