# Stand-in for the official `postgres` image, built from Debian bookworm's own PostgreSQL 15 packages for hosts
# that cannot pull from an image registry. It honours the official image's contract: POSTGRES_USER,
# POSTGRES_PASSWORD, POSTGRES_DB, POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD, PGDATA (default
# /var/lib/postgresql/data), /docker-entrypoint-initdb.d/*.sh|*.sql on first start, pg_isready on PATH,
# port 5432, runs the server as user postgres.
ARG BASE_IMAGE=edp-local/debian:bookworm
FROM ${BASE_IMAGE}

# Debian's postgresql-common would create a "main" cluster at install time; the entrypoint makes its own in PGDATA.
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends postgresql-common; \
    sed -ri 's/#?\s*create_main_cluster\s*=.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf; \
    apt-get install -y --no-install-recommends postgresql-15; \
    rm -rf /var/lib/apt/lists/*; \
    mkdir -p /var/run/postgresql /docker-entrypoint-initdb.d /var/lib/postgresql/data; \
    chown -R postgres:postgres /var/run/postgresql /var/lib/postgresql; \
    chmod 2777 /var/run/postgresql

ENV PG_MAJOR=15 \
    PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8

COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh

VOLUME /var/lib/postgresql/data
ENTRYPOINT ["docker-entrypoint.sh"]
# Like the official image: SIGINT is PostgreSQL's "fast shutdown" (SIGTERM would wait for clients to disconnect).
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
