#!/usr/bin/env bash
# Runs once, when the postgres container initialises an empty data volume (official image and the air-gapped
# stand-in alike): creates the dbt/ingestion warehouse database beside Dagster's own, owned by the same user.
set -euo pipefail
db=${WAREHOUSE_DB:-warehouse}
if [ "$db" != "${POSTGRES_DB:-$POSTGRES_USER}" ]; then
  echo "creating warehouse database $db"
  echo 'CREATE DATABASE :"db" OWNER :"owner";' |
    psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
      --set db="$db" --set owner="$POSTGRES_USER"
fi
