# The example project's image: web, worker and beat all run from it (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY telnyx_ivr ./telnyx_ivr
RUN pip install ".[postgres]" "gunicorn>=22"

COPY manage.py dev.py ./
COPY project ./project
COPY templates ./templates

RUN useradd --create-home ivr && mkdir -p /app/var && chown ivr /app/var
USER ivr
EXPOSE 8000
CMD ["gunicorn", "project.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
