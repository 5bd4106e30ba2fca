"""The maths behind the teaching pages.

    step.py  one training step of a VAE, taken apart: every tensor on the way, and the code that made it
    uses.py  what a trained VAE is used for: denoising, inpainting, anomaly scores, compression
"""
