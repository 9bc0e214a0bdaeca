"""Running beyond one machine: batch embedding on a Ray cluster (`qa.distributed.ray_embedding`)
and serving the index from Qdrant (`qa.distributed.qdrant_store`, built by `qdrant_write`).

Optional: needs `pip install -r requirements-distributed.txt`; the single-machine product
imports nothing from here unless asked to (`--ray` / `QA_RAY_ADDRESS`, `--store qdrant`).
"""
