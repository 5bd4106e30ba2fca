"""What a VAE is compared with, on the same data.

    gan.py         a small DCGAN and its training step (the epochs: vae.training.loop)
    classifier.py  a small convolutional classifier: the judge of generated images (trained the same way)
    compare.py     sharpness, Fréchet distance in the classifier's features, class coverage, prior holes
"""
