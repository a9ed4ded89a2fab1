# Stand-in for the official `postgres` image, built from Debian bookworm's own PostgreSQL 15 packages for hosts
# that cannot pull from an image registry. It honours the official image's contract: POSTGRES_USER,
# POSTGRES_PASSWORD, POSTGRES_DB, POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD, PGDATA (default
# /var/lib/postgresql/data), /docker-entrypoint-initdb.d/*.sh|*.sql on first start, pg_isready on PATH,
# port 5432, runs the server as user postgres.
#
# Two stages so that no build-host setting ships: the build stage reaches the host's Debian mirror (and apt
# proxy) through apt/ in the build context (stack/scripts/lib.sh write_apt_context) and deletes it; the final
# stage copies that file system, without it, onto an empty image. (Debian's engine has the classic builder
# only, so no build secrets.)
ARG BASE_IMAGE=edp-local/debian:bookworm
FROM ${BASE_IMAGE} AS build
COPY apt/ /etc/edp-apt/
# Debian's postgresql-common would create a "main" cluster at install time; the entrypoint makes its own in PGDATA.
RUN set -eux; \
    export APT_CONFIG=/etc/edp-apt/apt.conf; \
    apt-get update; \
    apt-get install -y --no-install-recommends postgresql-common; \
    sed -ri 's/#?\s*create_main_cluster\s*=.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf; \
    apt-get install -y --no-install-recommends postgresql-15; \
    rm -rf /var/lib/apt/lists/* /etc/edp-apt; \
    mkdir -p /var/run/postgresql /docker-entrypoint-initdb.d /var/lib/postgresql/data; \
    chown -R postgres:postgres /var/run/postgresql /var/lib/postgresql; \
    chmod 2777 /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh

FROM scratch
COPY --from=build / /
ENV PG_MAJOR=15 \
    PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8

VOLUME /var/lib/postgresql/data
ENTRYPOINT ["docker-entrypoint.sh"]
# Like the official image: SIGINT is PostgreSQL's "fast shutdown" (SIGTERM would wait for clients to disconnect).
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
