# One image for the api and the worker (different commands in docker-compose.yml).
FROM python:3.11-slim

# Fallback CJK fonts for the certificate PDFs, found by fontconfig's fc-match (services/cjk_fonts.py);
# the primary one, Noto Sans CJK SC, comes with the PyPI package noto-cjk-sans-otc.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei fonts-noto-cjk fontconfig \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SHEBAO_DATA_DIR=/app/.data
COPY . .
# Bytecode in the image: PYTHONDONTWRITEBYTECODE stops Python writing it at run time, and the
# workflow sandbox re-imports each workflow module for every workflow it runs (a compile each
# time without it).
RUN pip install --no-cache-dir . \
    && python -m compileall -q /app \
    && useradd --system --home /app shebao && mkdir -p /app/.data && chown shebao /app/.data
USER shebao
EXPOSE 8000 9464
CMD ["python", "-m", "api"]
