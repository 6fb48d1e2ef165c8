FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY events events
COPY services services
COPY projections projections
COPY portal portal
RUN pip install --no-cache-dir .
RUN mkdir -p /var/lib/anlao && chown nobody /var/lib/anlao
USER nobody
ENV ANLAO_INSTANCE_PATH=/var/lib/anlao
EXPOSE 8000
# gunicorn with the app built in each worker after the fork; see docker-compose.yml for the
# separate projection worker.
CMD ["anlao", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--no-projections"]
