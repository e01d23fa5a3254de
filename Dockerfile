# One image for the api and the worker (different commands in docker-compose.yml).
# The base is a build argument only so that a stand-in can be given where Docker Hub is out of
# reach (deploy/docker-build-offline.sh); compose builds on the official image.
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}

# Fallback CJK fonts for the certificate PDFs, found by fontconfig's fc-match (services/cjk_fonts.py);
# the primary one, Noto Sans CJK SC, comes with the PyPI package noto-cjk-sans-otc.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei fonts-noto-cjk fontconfig \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SHEBAO_DATA_DIR=/app/.data
# The runtime lock alone first (its own layer, rebuilt only when the lock changes): every package
# at its locked version and hash, nothing resolved here. The dev tools (Temporal CLI, test
# server, pytest, ...) are in requirements-dev.lock and never reach the image.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock && pip check
COPY . .
# The project itself, without dependencies (all came from the lock above).
# Bytecode in the image: PYTHONDONTWRITEBYTECODE stops Python writing it at run time, and the
# workflow sandbox re-imports each workflow module for every workflow it runs (a compile each
# time without it).
RUN pip install --no-cache-dir --no-deps . \
    && pip check \
    && python -m compileall -q /app \
    && useradd --system --home /app shebao && mkdir -p /app/.data && chown shebao /app/.data
USER shebao
EXPOSE 8000 9464
CMD ["python", "-m", "api"]
