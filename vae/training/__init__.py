"""Training: how a VAE's weights (and the comparison models') are learned.

    trainer.py      the Trainer: epochs, KL warm-up, schedules, atomic checkpoints, resume; it reports
                    through callbacks and prints nothing itself
    distributed.py  the same run on several processes, machines and GPUs (DDP, torchrun)
    loop.py         the epoch loop the comparison models share (vae.baselines: the GAN, the classifier):
                    seeded shuffles, batches, callbacks, a checkpoint per epoch
    jobs.py         training runs in the background for the app's Train page, read through snapshots
    defaults.py     what a new model of a data set starts from on the Train page (colour: conv, Gaussian)
    previews.py     the Train page's pictures of a run: a few of its images, a finished run's reconstructions
"""
