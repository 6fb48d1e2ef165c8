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
EXPOSE 8000
CMD ["anlao", "serve", "--host", "0.0.0.0", "--port", "8000"]
