"""Background training jobs (vae/training/jobs.py): digits runs of a second or two, in tmp folders."""

import shlex
import threading
import time

import pytest
import torch

from vae.checkpoint import load_checkpoint
from vae.cli import build_parser
from vae.cli.train import resolve_train_args
from vae.config import ModelConfig, TrainConfig
from vae.training.jobs import (
    MAX_LOSS_POINTS,
    JobBusyError,
    JobError,
    JobOwnerError,
    JobRegistry,
    TrainingJob,
    _LossTrace,
    checkpoint_name_problem,
    staging_path,
    train_command,
)

MC = ModelConfig(arch="mlp", latent_dim=2, hidden_dims=(32,))
STEPS = 23  # digits: 1,437 training images in batches of 64


def _tc(out, **kw):
    base = dict(dataset="digits", out=str(out), epochs=3, batch_size=64, lr=3e-3, seed=1)
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture()
def thread_errors(monkeypatch):
    """Exceptions that escaped a thread (a job must never let one escape)."""
    seen = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_value))
    return seen


def _wait_until(pred, timeout=60.0):
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout:
            raise AssertionError("timed out")
        time.sleep(0.005)


def test_a_digits_job_completes_and_writes_a_loadable_checkpoint(tmp_path, thread_errors):
    out = tmp_path / "run1"
    job = JobRegistry().start(MC, _tc(out))
    assert job.join(120)
    snap = job.snapshot()
    assert snap.status == "complete", snap.message
    assert snap.error is None and not snap.active and snap.progress == 1.0
    assert [h["epoch"] for h in snap.history] == [1, 2, 3]
    assert snap.steps_per_epoch == STEPS and len(snap.loss_x) == 3 * STEPS
    assert snap.loss_x[-1] == pytest.approx(3.0)
    assert snap.started_at <= snap.finished_at and snap.images_per_s > 0
    ck = load_checkpoint(out)
    assert ck.config.image_shape == (1, 8, 8)  # taken from the data
    assert ck.meta["status"] == "complete" and ck.meta["epochs_done"] == 3
    assert ck.meta["train_config"]["out"] == str(out)  # not the staging folder's path
    assert ck.meta["training"]["command"] == snap.command
    assert snap.final_test_neg_elbo == pytest.approx(ck.history[-1]["test_neg_elbo"])
    assert snap.history[-1]["test_neg_elbo"] < snap.history[0]["test_neg_elbo"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run1"]  # no staging or temp folders left
    assert thread_errors == []


def _threads_in_a_new_thread() -> int:
    seen = []
    t = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    t.start()
    t.join()
    return seen[0]


def test_training_threads_are_given_back(tmp_path):
    """A run on a thread count other than this thread's changes neither this thread's torch threads
    nor those a new thread gets. (Compared before and after the run, not with each other: an earlier
    test that set this thread's count, as the CLI's --threads does in-process, makes the two differ.)"""
    before, new_before = torch.get_num_threads(), _threads_in_a_new_thread()
    other = 2 if before == 1 else 1  # the suite's lanes run on 1 thread each (conftest.THREADS)
    job = TrainingJob(MC, _tc(tmp_path / "t", epochs=1, threads=other)).start()
    assert job.join(120) and job.snapshot().threads == other
    assert (torch.get_num_threads(), _threads_in_a_new_thread()) == (before, new_before)


def test_stop_ends_a_run_as_stopped_and_keeps_the_last_finished_epoch(tmp_path, thread_errors):
    out = tmp_path / "long"
    job = JobRegistry().start(MC, _tc(out, epochs=300))
    _wait_until(lambda: job.snapshot().epoch >= 1)
    job.stop()
    assert job.join(120)
    snap = job.snapshot()
    assert snap.status == "stopped", snap.message
    n = len(snap.history)
    assert 1 <= n < 300 and "saved to" in snap.message
    ck = load_checkpoint(out)
    assert ck.meta["status"] == "stopped" and len(ck.history) == n == ck.meta["epochs_done"]
    assert not staging_path(out).exists() and thread_errors == []


def test_stop_before_the_first_epoch_saves_nothing(tmp_path, thread_errors):
    job = TrainingJob(MC, _tc(tmp_path / "early", epochs=50))
    job.stop()  # before the thread even starts
    job.start()
    assert job.join(120)
    snap = job.snapshot()
    assert snap.status == "stopped" and snap.history == () and "nothing was saved" in snap.message
    assert list(tmp_path.iterdir()) == [] and thread_errors == []


@pytest.mark.parametrize(
    ("mc", "tc_kw", "message"),
    [
        (MC, dict(dataset="no-such-data"), "unknown dataset 'no-such-data'"),
        (MC, dict(dataset="digits", lr=1e12), "the loss became nan"),
        # 8x8 digits cannot pass four stride-2 stages: a ConfigError found in the thread
        (ModelConfig(arch="conv", hidden_dims=(4, 4, 4, 4)), dict(), "divisible by 16"),
    ],
)
def test_errors_end_the_job_as_failed_with_the_message(tmp_path, thread_errors, mc, tc_kw, message):
    job = TrainingJob(mc, _tc(tmp_path / "bad", **tc_kw)).start()
    assert job.join(120)
    snap = job.snapshot()
    assert snap.status == "failed" and message in snap.error and snap.message == snap.error
    assert "\n" not in snap.error
    assert list(tmp_path.iterdir()) == [] and thread_errors == []


def test_a_missing_split_fails_without_downloading(tmp_path, monkeypatch, thread_errors):
    import vae.data.datasets

    def no_download(*a, **k):
        raise AssertionError("a job must not download unless asked")

    monkeypatch.setattr(vae.data.datasets, "_download", no_download)
    monkeypatch.setattr(vae.data.datasets, "PROJECT_DATA_DIR", tmp_path / "none")
    monkeypatch.setattr(vae.data.datasets, "DEBIAN_DATA_DIR", tmp_path / "none")
    monkeypatch.setattr(vae.data.datasets, "DOWNLOAD_DIR", tmp_path / "none")
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    job = TrainingJob(ModelConfig(), _tc(tmp_path / "km", dataset="kmnist")).start()
    assert job.join(60)
    snap = job.snapshot()
    assert snap.status == "failed" and "train split of kmnist was not found" in snap.error
    assert thread_errors == []


def test_one_slot_runs_one_job_and_queues_the_rest_first_come_first_served(tmp_path):
    reg = JobRegistry(slots=1)
    assert reg.current() is None and not reg.busy()
    first = reg.start(MC, _tc(tmp_path / "first", epochs=300), owner="a")
    second = reg.start(MC, _tc(tmp_path / "second", epochs=1), owner="b")
    third = reg.start(MC, _tc(tmp_path / "third", epochs=1), owner="c")
    assert [j.snapshot().status for j in (second, third)] == ["queued", "queued"]
    assert not second.started and reg.running() == [first] and reg.queued() == [second, third]
    assert (reg.place(first), reg.place(second), reg.place(third)) == (None, 1, 2)
    assert reg.current() is first and reg.busy()
    assert second.snapshot().message == "Waiting for a free slot."
    with pytest.raises(JobError, match="already waiting or training"):  # a queued run's name is taken
        reg.start(MC, _tc(tmp_path / "third", epochs=1), owner="d")
    reg.stop(first.job_id, owner="a")
    assert first.join(120) and first.snapshot().status == "stopped"
    _wait_until(lambda: second.snapshot().status != "queued")  # the freed slot goes to the first in line
    assert reg.place(third) == 1 and second.join(120) and third.join(120)
    assert [j.snapshot().status for j in (second, third)] == ["complete", "complete"] and not reg.busy()
    assert second.snapshot().started_at >= first.snapshot().finished_at
    assert third.snapshot().started_at >= second.snapshot().finished_at, "one at a time"
    assert [j.snapshot().job_id for j in (first, second, third)] == [1, 2, 3]


def test_only_the_owner_stops_a_run_and_each_owner_has_one_at_a_time(tmp_path, thread_errors):
    reg = JobRegistry(slots=1)
    job = reg.start(MC, _tc(tmp_path / "teacher", epochs=300), owner="teacher-token")
    waiting = reg.start(MC, _tc(tmp_path / "student", epochs=300), owner="student-token")
    for who in ("student-token", None, "teacher-tok", ""):
        with pytest.raises(JobOwnerError, match="another browser session"):
            reg.stop(job.job_id, owner=who)
    with pytest.raises(JobOwnerError):
        reg.stop(waiting.job_id, owner="teacher-token")
    with pytest.raises(JobBusyError, match="'teacher' is still running"):
        reg.start(MC, _tc(tmp_path / "again", epochs=1), owner="teacher-token")
    with pytest.raises(JobBusyError, match="'student' is still waiting"):
        reg.start(MC, _tc(tmp_path / "again", epochs=1), owner="student-token")
    _wait_until(lambda: job.snapshot().epoch >= 1)
    assert job.snapshot().status == "running" and waiting.snapshot().status == "queued"
    assert reg.mine("teacher-token") is job and reg.mine("student-token") is waiting and reg.mine("x") is None
    # the student leaves the queue: cancelled, nothing written, never started
    reg.stop(waiting.job_id, owner="student-token")
    snap = waiting.snapshot()
    assert snap.status == "stopped" and snap.message == "Cancelled before it started; nothing was saved."
    assert not waiting.started and reg.queued() == [] and not (tmp_path / "student").exists()
    reg.stop(job.job_id, owner="teacher-token")
    assert job.join(120) and job.snapshot().status == "stopped"
    assert (tmp_path / "teacher" / "model.safetensors").is_file() and thread_errors == []
    # once its run has ended, an owner may start another
    reg.start(MC, _tc(tmp_path / "next", epochs=1), owner="teacher-token").join(120)


def test_more_slots_run_jobs_side_by_side_on_more_cores(tmp_path):
    from vae.training.jobs import default_slots, default_threads

    assert (default_slots(1), default_slots(2), default_slots(4), default_slots(8), default_slots(16)) == (1, 1, 1, 2, 4)
    assert default_threads(cores=2) == 1 and default_threads(cores=8) == 3 and default_threads(1, cores=8) == 7
    reg = JobRegistry(slots=2)
    a = reg.start(MC, _tc(tmp_path / "a", epochs=300), owner="a")
    b = reg.start(MC, _tc(tmp_path / "b", epochs=300), owner="b")
    c = reg.start(MC, _tc(tmp_path / "c", epochs=1), owner="c")
    assert reg.running() == [a, b] and reg.queued() == [c]
    for j, who in ((a, "a"), (b, "b")):
        reg.stop(j.job_id, owner=who)
    assert a.join(120) and b.join(120) and c.join(120) and c.snapshot().status == "complete"


def test_progress_texts_are_sentences_made_from_marked_templates(tmp_path):
    """What a job says is a vae.i18n.Text of a marked template (a page shows it translated), never a
    sentence glued from pieces."""
    from vae.training import jobs

    seen = []
    job = TrainingJob(MC, _tc(tmp_path / "said", epochs=2))
    job._on_batch_end = (lambda f: lambda *a: (f(*a), seen.append(job.snapshot().message)))(job._on_batch_end)
    job.start()
    assert job.join(120)
    templates = {getattr(m, "template", None) for m in seen}
    assert templates == {jobs.EPOCH, jobs.EVALUATING}, templates
    assert "Evaluating epoch 2 on the test split." in seen and "Epoch 1." in seen
    done = job.snapshot().message
    assert done.template == jobs.FINISHED[1] and done.values == {"n": 2, "out": str(tmp_path / "said")}
    assert jobs._counted(jobs.FINISHED, 1, n=1, out="x") == "Finished 1 epoch; saved to x."


def test_a_job_never_overwrites_a_folder(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    reg = JobRegistry()
    with pytest.raises(JobError, match="already exists"):
        reg.start(MC, _tc(tmp_path / "taken"))
    staging_path(tmp_path / "busy").mkdir()
    with pytest.raises(JobError, match="unfinished run"):
        reg.start(MC, _tc(tmp_path / "busy"))
    with pytest.raises(JobError, match="resume"):
        TrainingJob(MC, _tc(tmp_path / "taken", resume=True))
    assert reg.current() is None and (tmp_path / "taken" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("name", ["", "../evil", "a/b", "/abs", ".hidden", "-x", "a..b", "sp ace", "x" * 101, "run\n", "a\\b"])
def test_bad_checkpoint_names_are_refused(tmp_path, name):
    assert checkpoint_name_problem(tmp_path, name)


@pytest.mark.parametrize("name", ["run", "digits-2d_b0.5", "A1"])
def test_plain_names_are_accepted(tmp_path, name):
    assert checkpoint_name_problem(tmp_path, name) is None
    (tmp_path / name).mkdir()
    assert "already exists" in checkpoint_name_problem(tmp_path, name)


@pytest.mark.parametrize(
    ("mc", "tc"),
    [
        (ModelConfig(arch="mlp", latent_dim=2, hidden_dims=(512, 256), beta=0.5),
         TrainConfig(dataset="digits", out="checkpoints/a b", epochs=7, batch_size=32, lr=2e-3,
                     kl_warmup_epochs=2.5)),
        (ModelConfig(arch="conv", latent_dim=16, hidden_dims=(16, 32), beta=4.0),
         TrainConfig(dataset="fashion-mnist", out="checkpoints/c", epochs=1, seed=3)),
    ],
)
def test_train_command_means_the_same_to_the_cli(mc, tc):
    """The command shown on the Train page, parsed by the real CLI parser, gives the same settings."""
    argv = shlex.split(train_command(mc, tc))
    assert argv[:4] == ["python", "-m", "vae", "train"]
    a = resolve_train_args(build_parser().parse_args(argv[3:]))
    hidden = a.hidden_dims or ((512, 256) if a.arch == "mlp" else (32, 64))
    assert (a.dataset, a.arch, a.latent_dim, tuple(hidden), a.beta) == (
        tc.dataset, mc.arch, mc.latent_dim, mc.hidden_dims, mc.beta)
    assert (a.epochs, a.batch_size, a.lr, a.kl_warmup_epochs, a.seed, a.out, a.lr_schedule) == (
        tc.epochs, tc.batch_size, tc.lr, tc.kl_warmup_epochs, tc.seed, tc.out, tc.lr_schedule)
    assert train_command(mc, tc, out="elsewhere").endswith("--out elsewhere")


def test_the_loss_trace_stays_bounded_and_spans_the_run():
    trace = _LossTrace(100)
    for i in range(10_000):
        trace.add(i / 100, float(i))
    assert 50 <= len(trace.x) <= 100 and len(trace.x) == len(trace.y)
    assert trace.x[0] == 0.0 and trace.x[-1] > 90  # thinned evenly, not truncated
    assert MAX_LOSS_POINTS >= 1000


# -- the live map of the codes, collapse, the classroom preset (issue #16) -------------------------
def test_a_job_keeps_the_test_codes_for_a_live_map(tmp_path):
    job = JobRegistry().start(MC, _tc(tmp_path / "codes", epochs=2))
    assert job.join(120)
    snap = job.snapshot()
    assert snap.codes_epoch == 2, "the last epoch is always encoded"
    assert snap.codes.shape == (360, 2) and snap.code_labels.shape == (360,)
    assert snap.latent_dim == 2 and snap.kl_per_dim.shape == (2,) and len(snap.class_names) == 10
    ck = load_checkpoint(tmp_path / "codes")
    from vae.data.datasets import load_dataset

    with torch.inference_mode():
        mu, _ = ck.model.encode(load_dataset("digits", "test").images)
    # the saved model's codes (float16 weights aside: these are float32) are the codes the job showed
    assert torch.allclose(torch.from_numpy(snap.codes), mu, atol=1e-4)


def test_a_job_with_more_dimensions_shows_their_principal_plane(tmp_path):
    mc = ModelConfig(arch="mlp", latent_dim=5, hidden_dims=(32,))
    job = JobRegistry().start(mc, _tc(tmp_path / "codes5", epochs=1))
    assert job.join(120)
    snap = job.snapshot()
    assert snap.codes.shape == (360, 2) and snap.kl_per_dim.shape == (5,)
    var = snap.codes.var(0)
    assert var[0] >= var[1] - 1e-6, "the first axis carries the most variance"


def test_collapse_verdict_says_what_to_change():
    from vae.training.jobs import collapse_verdict

    text = collapse_verdict([0.01, 0.03], epochs=5, warmup=0.0, beta=1.0)
    assert text.startswith("Only 0 of 2 latent dimensions in use")
    assert "train longer" in text and "KL warm-up of about a fifth of the epochs (1)" in text
    assert "classroom preset" in text
    assert "lower β (it is 4)" in collapse_verdict([0.01, 2.0, 0.0], epochs=100, warmup=20.0, beta=4.0)
    assert "Only 1 of 2" in collapse_verdict([0.01, 1.5], epochs=5, warmup=0.0, beta=1.0), "a map needs two"
    assert collapse_verdict([0.01, 0.0, 1.5, 0.7], epochs=5, warmup=0.0, beta=1.0) is None, "half is usable"
    assert collapse_verdict([1.2, 1.5], epochs=5, warmup=0.0, beta=1.0) is None


def test_a_short_run_without_warm_up_collapses_and_the_snapshot_says_so(tmp_path):
    """The rehearsal's run: digits, latent 2, 5 epochs, no warm-up: 0 of 2 dimensions in use."""
    mc = ModelConfig(arch="mlp", latent_dim=2, hidden_dims=(512, 256))  # the page's MLP
    job = JobRegistry().start(mc, TrainConfig(dataset="digits", out=str(tmp_path / "short"), epochs=5, seed=0))
    assert job.join(120)
    snap = job.snapshot()
    assert snap.status == "complete"
    assert snap.collapse is not None and "0 of 2" in snap.collapse, snap.kl_per_dim


def test_the_classroom_preset_trains_a_usable_2d_model(tmp_path):
    """The preset (about 30 s here): both dimensions in use, and codes that keep the classes apart
    (5-NN accuracy on the test codes, fitted on the train codes; raw 8x8 pixels give about 0.98)."""
    from sklearn.neighbors import KNeighborsClassifier

    from vae.data.datasets import load_dataset
    from vae.training.jobs import CLASSROOM
    from vae.training.trainer import Trainer

    mc, tc = CLASSROOM.configs(tmp_path / "classroom", threads=1)
    assert (mc.latent_dim, tc.dataset, tc.kl_warmup_epochs > 0) == (2, "digits", True)
    train, test = load_dataset("digits", "train"), load_dataset("digits", "test")
    Trainer(mc, tc, train, test).run()
    ck = load_checkpoint(tmp_path / "classroom")
    with torch.inference_mode():
        mu_tr, _ = ck.model.encode(train.images)
        mu_te, logvar = ck.model.encode(test.images)
    from vae.model import gaussian_kl
    from vae.training.jobs import collapse_verdict

    kl = gaussian_kl(mu_te, logvar).mean(0).numpy()
    assert collapse_verdict(kl, tc.epochs, tc.kl_warmup_epochs, mc.beta) is None, kl
    assert (kl > 0.5).all(), kl
    acc = KNeighborsClassifier(5).fit(mu_tr.numpy(), train.labels.numpy()).score(mu_te.numpy(), test.labels.numpy())
    assert acc >= 0.7, acc


def test_the_command_shown_on_one_option_a_line_is_the_same_command():
    tc = TrainConfig(dataset="digits", out="checkpoints/x", epochs=150, kl_warmup_epochs=30, seed=3)
    one = train_command(MC, tc)
    shown = train_command(MC, tc, multiline=True)
    assert " ".join(shown.replace("\\\n", " ").split()) == one
    assert shlex.split(shown.replace("\\\n", " ")) == shlex.split(one)
    assert all(line.strip().startswith("--") for line in shown.splitlines()[1:])
