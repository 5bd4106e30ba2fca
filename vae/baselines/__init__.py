"""What a VAE is compared with, on the same data.

    gan.py         a small DCGAN, trained here
    classifier.py  a small convolutional classifier: the judge of generated images
    compare.py     sharpness, Fréchet distance in the classifier's features, class coverage, prior holes
"""
