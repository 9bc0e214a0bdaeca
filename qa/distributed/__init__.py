"""Running beyond one machine: batch embedding on a Ray cluster (`qa.distributed.ray_embedding`).

Optional: needs `pip install -r requirements-distributed.txt`; the single-machine product
imports nothing from here unless asked to (`--ray` or `QA_RAY_ADDRESS`).
"""
