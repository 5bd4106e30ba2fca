"""Bring your own VAE: a model from elsewhere as two ONNX graphs, checked and run by onnxruntime behind
the VAE's interface, so that every page and command treats it like one of ours.

    graphs.py       reading ONNX files someone else made, without trusting them
    model.py        OnnxVAE and its config: two checked graphs with the VAE's methods
    third_party.py  what third-party PyTorch VAEs return, read as (mu, logvar) and images
    importer.py     import_onnx (``python -m vae import``), export_vae and export_graphs

The entry points are re-exported here: ``from vae.byo import export_vae``.
"""

from .importer import export_graphs, export_vae, import_onnx

__all__ = ["export_vae", "export_graphs", "import_onnx"]
