"""Training: how a VAE's weights are learned.

    trainer.py      the Trainer: epochs, KL warm-up, schedules, atomic checkpoints, resume; it reports
                    through callbacks and prints nothing itself
    distributed.py  the same run on several processes, machines and GPUs (DDP, torchrun)
    jobs.py         training runs in the background for the app's Train page, read through snapshots
"""
