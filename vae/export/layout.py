"""Where a checkpoint's exported ONNX files live, read without torch (the exporter is onnx_files.py).

A page's first run finds an already exported decoder here before torch is imported (frame/first_map.py
starts the in-browser runtime with it), so the names are kept apart from the exporter.
"""

from __future__ import annotations

from pathlib import Path

DECODER_FILE = "decoder.onnx"
ENCODER_FILE = "encoder.onnx"
#: The layout of the cached files (export_cached's subfolder): a new one when what is written changes,
#: so that no file written by an older version is served in place of the new one.
CACHE_LAYOUT = "onnx2"


def cached_folder(root: str | Path, content_hash: str) -> Path:
    """Where :func:`vae.export.onnx_files.export_cached` keeps a checkpoint's two files."""
    return Path(root) / content_hash / CACHE_LAYOUT
