# The example project's image: web, worker and beat all run from it (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY telnyx_ivr ./telnyx_ivr
RUN pip install ".[postgres,server]"

COPY manage.py dev.py ./
COPY project ./project
COPY templates ./templates

# Static files are collected into the image (hashed names, gzip and brotli beside them);
# WhiteNoise serves them from gunicorn, so no other web server is needed.
RUN python manage.py collectstatic --no-input

RUN useradd --create-home ivr && mkdir -p /app/var && chown -R ivr /app/var
USER ivr
EXPOSE 8000
CMD ["gunicorn", "project.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
