# Production image (not built in CI here: no Docker engine on the build machines).
#   docker build -t video-failure-receiver .
#   docker run -e DATABASE_URL=postgresql://... -e RECEIVER_SECRET_KEY=... -p 8000:8000 video-failure-receiver
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 receiver
WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
COPY receiver/__init__.py receiver/__init__.py
COPY schemas/__init__.py schemas/__init__.py
RUN pip install -e .

COPY . .
RUN pip install -e . && chown -R receiver /app
USER receiver

EXPOSE 8000
# Migrations run as a separate step (see README "Production"): `docker run ... receiver db upgrade`.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
