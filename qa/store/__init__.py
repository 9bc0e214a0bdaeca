"""The persisted index, split by job: the folder (CURRENT pointer, lock, atomic switch,
cleanup), the manifest (versions, checksums, stale_reason), the build, and the index a
query reads. Every public name is re-exported here, so `from qa.store import ...` works."""

from qa.store.build import TOKEN_CACHE, BuildReport, build_index, lexical_text
from qa.store.embed_queue import EMBED_BATCH
from qa.store.reuse import document_key
from qa.store.folder import KEEP_BUILDS, LOCK, POINTER, current_build, publish
from qa.store.index import StoredIndex, load_index, save_index
from qa.store.manifest import FORMAT_VERSION, manifest_checksum, read_manifest, stale_reason, verify_build

__all__ = [
    "EMBED_BATCH", "TOKEN_CACHE", "BuildReport", "build_index", "document_key", "lexical_text",
    "KEEP_BUILDS", "LOCK", "POINTER", "current_build", "publish",
    "StoredIndex", "load_index", "save_index",
    "FORMAT_VERSION", "manifest_checksum", "read_manifest", "stale_reason", "verify_build",
]
