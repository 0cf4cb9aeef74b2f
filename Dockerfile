# Approval-odds inference image for SageMaker real-time endpoints and batch transform (`docker run IMAGE serve`),
# SageMaker training (`docker run IMAGE train`) and a local batch transform job over a mounted folder against a
# running `serve` container (`docker run IMAGE transform --input DIR --output DIR --url URL`; docs/deployment.md).
# Build: scripts/build_and_push.sh, or `docker build .`.

# ---- builder: the virtual environment and the MMS endpoint plugins (needs a JDK; none of it ships) ----
FROM debian:bookworm-slim AS builder

# Versions come from the pinned Debian release; pinning exact patch versions would break on every security update.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv openjdk-17-jdk-headless \
    && rm -rf /var/lib/apt/lists/*

ENV PATH=/opt/venv/bin:$PATH \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY requirements.txt /build/requirements.txt
# The libraries' own test suites (~110 MB of numpy, scipy, pandas, scikit-learn) and pip never run in the image:
# the launcher disables the toolkit's install-at-start, so nothing is installed after the build.
RUN python3 -m venv /opt/venv \
    && pip install --no-cache-dir -r /build/requirements.txt \
    && find /opt/venv/lib -type d -name tests -prune -exec rm -rf {} + \
    && rm -rf /opt/venv/lib/python3*/site-packages/onnx/backend/test \
    && pip uninstall --yes pip

WORKDIR /build
COPY plugins/ plugins/
COPY scripts/build_plugins.sh scripts/
# Compiles against model-server.jar from the venv above; writes the jars to build/plugins/.
RUN bash scripts/build_plugins.sh /opt/venv

# ---- runtime: Python, a headless JRE for MMS, the venv and the application; no compiler, JDK or apt cache ----
FROM debian:bookworm-slim

# Slim images lack man1, where the JRE's postinst links its man pages.
# hadolint ignore=DL3008
RUN mkdir -p /usr/share/man/man1 \
    && apt-get update \
    && apt-get install -y --no-install-recommends python3 openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/cache/debconf/*-old /var/log/apt /var/log/dpkg.log

# A fixed numeric uid, so orchestrators can verify "runs as non-root" without reading /etc/passwd.
ARG APP_UID=10001
# The toolkit rewrites /etc/sagemaker-mms.properties at every start, and MMS may write ./logs: those and
# /opt/ml (SageMaker mounts over it; `train` writes there locally) are the only paths the app user may write.
RUN groupadd --gid "${APP_UID}" model-server \
    && useradd --uid "${APP_UID}" --gid model-server --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin model-server \
    && install -o model-server -g model-server -m 0644 /dev/null /etc/sagemaker-mms.properties \
    && install -d -o model-server -g model-server /opt/program/logs \
        /opt/ml/model /opt/ml/input /opt/ml/output /opt/ml/code

COPY --from=builder /opt/venv /opt/venv
WORKDIR /opt/program
COPY entrypoint.py ./
COPY config/ config/
COPY handler/ handler/
COPY serving/ serving/
COPY training/ training/
# `transform`: the local batch runner (the AWS deployment tool, deploy/, stays out of the image).
COPY batch/ batch/
COPY --from=builder /build/build/plugins/ build/plugins/

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

USER ${APP_UID}
EXPOSE 8080
ENTRYPOINT ["python", "entrypoint.py"]
CMD ["serve"]
