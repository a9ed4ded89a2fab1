# Stand-in for the official `python:3.11-slim` image, built from Debian bookworm's python3 (3.11) for hosts that
# cannot pull from an image registry: `python` and `pip` on PATH, and `pip install` works as root without
# Debian's "externally managed environment" refusal, because both come from a virtual environment in /usr/local/python.
#
# Two stages so that no build-host setting ships: the build stage reaches the host's Debian mirror (and apt
# proxy) through apt/ in the build context (stack/scripts/lib.sh write_apt_context) and deletes it; the final
# stage copies that file system, without it, onto an empty image. No pip settings at all: creating the venv
# needs no index. (Debian's engine has the classic builder only, so no build secrets.)
ARG BASE_IMAGE=edp-local/debian:bookworm
FROM ${BASE_IMAGE} AS build
COPY apt/ /etc/edp-apt/
RUN set -eux; \
    export APT_CONFIG=/etc/edp-apt/apt.conf; \
    apt-get update; \
    apt-get install -y --no-install-recommends python3 python3-venv ca-certificates; \
    rm -rf /var/lib/apt/lists/* /etc/edp-apt; \
    python3 -m venv /usr/local/python

FROM scratch
COPY --from=build / /
ENV PATH=/usr/local/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1
CMD ["python3"]
