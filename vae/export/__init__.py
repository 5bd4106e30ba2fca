"""A checkpoint written out in other formats.

    onnx_files.py  the decoder and encoder as ONNX files, for the browser's live decoding
    layout.py      where those files live (read without torch)
    tables.py      latent codes as CSV, or TensorBoard's Embedding Projector files
    thumbnails.py  the explore set's images as the map's thumbnail files, in chunks in the map's order
"""
