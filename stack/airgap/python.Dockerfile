# Stand-in for the official `python:3.11-slim` image, built from Debian bookworm's python3 (3.11) for hosts that
# cannot pull from an image registry: `python` and `pip` on PATH, and `pip install` works as root without
# Debian's "externally managed environment" refusal, because both come from a virtual environment in /usr/local/python.
ARG BASE_IMAGE=edp-local/debian:bookworm
FROM ${BASE_IMAGE}

RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends python3 python3-venv ca-certificates; \
    rm -rf /var/lib/apt/lists/*; \
    python3 -m venv /usr/local/python

# The build host's pip settings (index, CA bundle). Copied after the ca-certificates install above, which rewrites
# /etc/ssl/certs/ca-certificates.crt: the bundle therefore lives at its own path.
COPY pip/ /etc/edp-pip/
ENV PATH=/usr/local/python/bin:$PATH \
    PIP_CONFIG_FILE=/etc/edp-pip/pip.conf \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1

CMD ["python3"]
