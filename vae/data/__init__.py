"""Data: the images every model is trained on and explored with.

    datasets.py  one registry of data sets (Fashion-MNIST, MNIST, KMNIST, digits, folders of images),
                 images as float tensors (N, C, H, W) in [0, 1]
    emoji.py     the emoji data set: Google's Noto emoji in colour from npm's emoji-datasource-google
                 (fetched, checksummed, composited onto white, split), and the test split the repo ships
    images.py    images in and out: PIL <-> tensors, crisp upscaling, grids, PNG/GIF bytes, and a
                 user's own picture turned into what the model expects
    cache.py     a small verified disk cache of NumPy arrays (encodings, maps)
    drawings.py  a drawing as a short text for a link (quantised, compressed, base64url) and back
"""
