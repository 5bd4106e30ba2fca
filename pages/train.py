"""Train: a new model from the browser, trained in a background thread while the page polls it.

Runs belong to the browser that started them (components/browser_id): every session sees what
trains and what waits, only the owner can stop its run. As many runs train at once as the machine
has slots (one on 2 cores); the others wait in a queue, and their owners see their place. The
UI-free machinery is in vae/training/jobs.py. Meant for small runs: long ones belong on the
command line shown here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from components import browser_id
from pages import _link as link
from pages import _loaders as loaders
from pages import _nav as nav
from pages import _presenter as presenter
from pages._i18n import N_, _, join_list, ngettext, tr, tr_fig
from pages._link import one_of
from vae.archs import ARCHITECTURES, get_architecture
from vae.config import ModelConfig, TrainConfig
from vae.data import datasets  # the module: its dataset_available is looked up on every run
from vae.explore.figures import batch_loss_curve, codes_map, loss_curves
from vae.explore.latent import COLLAPSED_KL
from vae.folders import IMPORTED_NOTE, ONNX_KIND, folder_kind
from vae.likelihoods import LIKELIHOODS, get_likelihood
from vae.training.defaults import model_defaults
from vae.training.jobs import (
    CLASSROOM,
    EPOCH,
    JobError,
    JobRegistry,
    TrainingJob,
    checkpoint_name_problem,
    default_slots,
    default_threads,
    train_command,
)

TRAINABLE = ["digits", "fashion-mnist", "mnist", "kmnist", "emoji"]
LEARNING_RATES = [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 1e-2]  # the slider starts at TrainConfig().lr, one of them
# Rough seconds per epoch on a 2-core CPU (measured on the development machine, idle and with another
# run beside it): the 60,000-image 28x28 sets, and the 1,437 training images of digits (MLP 256-128 or
# 512-256, batch 64: 150 epochs took 25-43 s with one thread).
SECONDS_PER_EPOCH = {"mlp": (15, 30), "conv": (25, 50)}
DIGITS_SECONDS_PER_EPOCH = (0.15, 0.3)
# emoji's 3,210 training images, 32x32 RGB, batch 128, one thread, on the development machine with other
# runs beside it (load 7 on 2 cores): an epoch took 4.4-6.6 s with conv 32-64 and 1.4-1.5 s with the MLP; a
# one-epoch conv run from this page ended in 15 s, loading and the test split's evaluation included
EMOJI_SECONDS_PER_EPOCH = {"conv": (5, 15), "mlp": (2, 5)}
POLL_SECONDS = 1.0
PRESETS = {"classroom": N_("Classroom preset"), "custom": N_("Custom")}  # shown translated
#: The page's widgets and the classroom preset's values for them.
PRESET_VALUES = {
    "train_dataset": CLASSROOM.dataset, "train_arch": CLASSROOM.model["arch"],
    "train_latent": CLASSROOM.model["latent_dim"], "train_beta": CLASSROOM.model["beta"],
    "train_epochs": CLASSROOM.train["epochs"], "train_batch": CLASSROOM.train["batch_size"],
    "train_lr": CLASSROOM.train["lr"], "train_warmup": CLASSROOM.train["kl_warmup_epochs"],
    "train_seed": CLASSROOM.train["seed"],
    "train_likelihood": CLASSROOM.model.get("likelihood", "bernoulli"),
}

PARAMS = link.declare("train", [
    one_of("preset", "train_preset", N_("preset"), list(PRESETS)),
])


@st.cache_resource(show_spinner=False)
def registry() -> JobRegistry:
    """One registry for the whole server: every session sees the same runs and the same queue."""
    return JobRegistry()


def shown_jobs(jobs: JobRegistry, me: str) -> tuple[TrainingJob | None, TrainingJob | None]:
    """(the run whose progress the page shows, this browser's own run): its own run while that trains,
    else the oldest one training, else its own (waiting, or the last it ran), else the last that ran."""
    mine = jobs.mine(me)
    running = jobs.running()
    if mine is not None and mine in running:
        return mine, mine
    if running:
        return running[0], mine
    return (mine or jobs.current()), mine


def board(jobs: JobRegistry, me: str) -> tuple:
    """What the page's layout depends on: the runs training and waiting, and this browser's run's status.
    The progress panel reruns the whole page when it changes (the Start button, the sidebar's picker)."""
    mine = jobs.mine(me)
    return (tuple(j.job_id for j in jobs.running()), tuple(j.job_id for j in jobs.queued()),
            None if mine is None else (mine.job_id, mine.snapshot().status))


def fmt_duration(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def display_path(path: Path) -> str:
    """``checkpoints/NAME`` relative to the project folder when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(loaders.ROOT))
    except ValueError:
        return str(path)


def suggest_name(dataset: str, arch: str, latent: int, beta: float) -> str:
    base = f"{dataset}-{arch}-z{latent}-beta{beta:g}"
    name, i = base, 2
    while checkpoint_name_problem(loaders.CHECKPOINT_ROOT, name) and i < 1000:
        name, i = f"{base}-{i}", i + 1
    return name


@st.cache_data(show_spinner=False, max_entries=8)
def data_preview_png(dataset: str) -> bytes | None:
    """A row of the data set's test images, spread over the split (vae.training.previews), as a PNG; None
    when the split cannot be read here (nothing is downloaded)."""
    from vae.data.images import png_bytes
    from vae.errors import DataError
    from vae.training.previews import data_preview

    try:
        return png_bytes(data_preview(datasets.load_dataset(dataset, "test", download=False).images))
    except DataError:
        return None


@st.cache_data(show_spinner=False, max_entries=4)
def reconstructions_png(out: str, dataset: str, finished_at: float | None) -> bytes:
    """Test images above the finished checkpoint ``out``'s reconstructions of them, as a PNG (``finished_at``:
    a run saved again under the same name is drawn again)."""
    from vae.checkpoint import load_checkpoint
    from vae.data.images import png_bytes
    from vae.training.previews import reconstruction_preview

    ck = load_checkpoint(out)
    return png_bytes(reconstruction_preview(ck.model, datasets.load_dataset(dataset, "test", download=False).images))


def _open_checkpoint(name: str) -> None:
    # a callback: it runs before the sidebar's "ckpt" picker is drawn, so it may set its value
    st.session_state["ckpt"] = name
    st.session_state["train_open"] = True


# -- the page ----------------------------------------------------------------------------------
@nav.page("train")
def main() -> None:
    """The page: the settings and Start on the left, the run's progress on the right, the command below."""
    link.restore("train")
    st.title(_("Train a new model"))
    threads = default_threads()
    _intro(threads)
    jobs, me = registry(), browser_id.token()
    mine = jobs.mine(me)
    _watch(mine.snapshot() if mine is not None else None)
    left, right = st.columns([1, 1.35], gap="large")
    with left:
        st.subheader(_("Settings"))
        s = _settings(threads)
        _estimate(s)
        _start_button(jobs, me, s)
    with right:
        drawn = board(jobs, me)
        st.fragment(run_every=POLL_SECONDS if jobs.busy() else None)(progress_panel)(drawn)
        if mine is not None:
            browser_id.keep()  # a reload of this browser still owns the run
    if not s.problem:  # full width: one option a line, no option split by a line break
        st.caption(_("The same run from a terminal in the project folder:"))
        st.code(train_command(s.mc, s.tc, out=display_path(loaders.CHECKPOINT_ROOT / s.name), multiline=True),
                language="bash", wrap_lines=True)
    link.sync("train")


def _intro(threads: int) -> None:
    """What the page does, how long runs take, and a note when the open model is an imported one."""
    st.markdown(
        _("Train a VAE right here: choose the data and the model, name the checkpoint and press **Start**. "
          "Training runs in the background; when it finishes, the model appears in the sidebar's "
          "**Checkpoint** picker, ready to explore.")
    )
    st.caption(
        _("Meant for small runs. **digits** (8×8 pixels; of its 1,797 images, 1,437 train and 360 test) trains in "
          "seconds to a minute. "
          "**Fashion-MNIST** (28×28, 60,000 images) takes about {conv_lo}–{conv_hi} s per epoch with the conv model "
          "and {mlp_lo}–{mlp_hi} s with the MLP on a 2-core CPU. A run here uses {threads} of this machine's {cores} "
          "CPU cores, so the app stays responsive. For long runs use the command line shown below: it uses every "
          "core and keeps going when the browser is closed.").format(
              conv_lo=SECONDS_PER_EPOCH["conv"][0], conv_hi=SECONDS_PER_EPOCH["conv"][1],
              mlp_lo=SECONDS_PER_EPOCH["mlp"][0], mlp_hi=SECONDS_PER_EPOCH["mlp"][1], threads=threads,
              cores=os.cpu_count() or 1)
        + " " + _("**emoji** (32×32 colour, 3,210 training images) takes about {lo}–{hi} s per epoch with the "
                  "conv model.").format(lo=EMOJI_SECONDS_PER_EPOCH["conv"][0], hi=EMOJI_SECONDS_PER_EPOCH["conv"][1])
        + " " + ngettext("Everyone using this app sees the runs; only the browser that started a run can stop it. "
                         "{n} run trains at a time; the others wait in a queue.",
                         "Everyone using this app sees the runs; only the browser that started a run can stop it. "
                         "{n} runs train at a time; the others wait in a queue.", default_slots()).format(
                             n=default_slots())
    )
    open_name = st.session_state.get("ckpt")
    if open_name and folder_kind(loaders.CHECKPOINT_ROOT / open_name) == ONNX_KIND:
        st.caption(_("{note}. This page trains a new VAE of ours; the model open in the sidebar stays as it is.").format(
            note=_(IMPORTED_NOTE).format(name=open_name)))


def _watch(mine) -> None:
    """Remember this browser's run while it waits or trains; once it has ended, its name is taken: back to a
    suggestion."""
    if mine is not None and mine.active:
        st.session_state["train_watching"] = mine.job_id
    elif mine is not None and st.session_state.get("train_watching") == mine.job_id:
        del st.session_state["train_watching"]  # this session saw that run end
        if st.session_state.get("train_name", "").strip() == mine.name:
            st.session_state["train_name"] = ""  # the name is taken now: back to a fresh suggestion


# -- the settings ---------------------------------------------------------------------------------------
@dataclass
class Settings:
    """The run the left column describes."""

    dataset: str
    missing: list[str]  # its splits that are not on this machine
    arch: str
    epochs: int
    name: str
    problem: str | None  # why the name cannot be used
    mc: ModelConfig
    tc: TrainConfig
    command: str


def _settings(threads: int) -> Settings:
    """The preset, the data set, the model, the advanced options and the checkpoint's name."""
    classroom = _preset() == "classroom"
    dataset, missing = _data_set(classroom)
    _defaults_for(dataset, classroom)
    arch = st.radio(
        _("Architecture"), list(ARCHITECTURES), key="train_arch", horizontal=True, disabled=classroom,
        format_func={a: _(cls.label) for a, cls in ARCHITECTURES.items()}.get,
        help=" ".join(_("{label}: {description}.").format(label=_(cls.label), description=_(cls.description))
                      for cls in ARCHITECTURES.values()),
    )
    likelihood = st.radio(
        _("Likelihood p(x|z)"), list(LIKELIHOODS), key="train_likelihood", horizontal=True, disabled=classroom,
        format_func={n: _(get_likelihood(n).label) for n in LIKELIHOODS}.get,
        help=_("How each pixel of an image is scored against the decoder's output. Bernoulli suits grey strokes "
               "on black; a Gaussian suits colour images (the emoji model uses it); the discretised logistic "
               "gives bits per dimension that compare with published figures."),
    )
    hidden = tuple(CLASSROOM.model["hidden_dims"]) if classroom else get_architecture(arch).default_hidden
    latent, beta, epochs = _model_size(classroom)
    with st.expander(_("Advanced")):
        batch_size, lr, warmup, seed = _advanced(classroom, hidden)
    name, problem = _name(dataset, arch, latent, beta, classroom)
    mc = ModelConfig(arch=arch, latent_dim=latent, hidden_dims=hidden, beta=beta, likelihood=likelihood)
    tc = TrainConfig(dataset=dataset, out=str(loaders.CHECKPOINT_ROOT / name), epochs=epochs,
                     batch_size=batch_size, lr=lr, kl_warmup_epochs=warmup, seed=seed, threads=threads)
    command = train_command(mc, tc, out=display_path(loaders.CHECKPOINT_ROOT / name))
    return Settings(dataset, missing, arch, epochs, name, problem, mc, tc, command)


def _preset() -> str:
    """The classroom preset (its values shown, and locked, in the widgets below) or custom settings."""
    preset = st.segmented_control(
        _("Start from"), list(PRESETS), format_func=lambda p: _(PRESETS[p]), key="train_preset", default="custom",
        help=_("Classroom preset: {description}. It reliably gives a model whose two latent dimensions are both "
               "in use: long enough to narrate, with the map of the codes spreading out while it "
               "trains.").format(description=_(CLASSROOM.description)),
    ) or "custom"
    if preset == "classroom":
        st.session_state.update(PRESET_VALUES)  # the widgets below show (and lock) the preset's values
        description = _(CLASSROOM.description)
        st.caption(_("{description}; both latent dimensions stay in use. Switch to **Custom** to change "
                     "anything.").format(description=description[:1].upper() + description[1:]))
    return preset


def _defaults_for(dataset: str, classroom: bool) -> None:
    """A data set just chosen sets the widgets below to its new model's starting values
    (vae.training.defaults: a colour set the conv architecture and a Gaussian likelihood); once per choice,
    so that the user can change them."""
    if classroom or st.session_state.get("train_defaults_for") == dataset:
        return
    d = model_defaults(dataset)
    st.session_state["train_likelihood"] = d.likelihood
    for key, value in (("train_arch", d.arch), ("train_latent", d.latent_dim), ("train_beta", d.beta)):
        if value is not None:
            st.session_state[key] = value
    st.session_state["train_defaults_for"] = dataset


def _data_set(classroom: bool) -> tuple[str, list[str]]:
    """The data set, what it is, and its splits missing on this machine (with how to get them)."""
    dataset = st.selectbox(
        _("Data set"), TRAINABLE, key="train_dataset", disabled=classroom,
        help=_("digits is tiny and always available; the 28×28 sets need their files on this machine."),
    )
    about = _(datasets.DATASETS[dataset])
    st.caption(_("{about}.").format(about=about[:1].upper() + about[1:]))
    missing = [s for s in ("train", "test") if not datasets.dataset_available(dataset, s)]
    preview = data_preview_png(dataset) if "test" not in missing else None
    if preview is not None:
        st.image(preview, caption=_("A few of its test images."), output_format="PNG")
    if missing:
        how = "`make data`" if dataset == "fashion-mnist" else f"`python -m vae data --fetch {dataset}`"
        st.error(
            (_("**{dataset}** cannot be trained here: its {splits} splits are not on this machine. Get the files "
               "with {how} in the project folder (it downloads them, so it needs the internet), then reload this "
               "page.") if len(missing) > 1 else
             _("**{dataset}** cannot be trained here: its {splits} split is not on this machine. Get the files "
               "with {how} in the project folder (it downloads them, so it needs the internet), then reload this "
               "page.")).format(dataset=dataset, splits=join_list(missing), how=how)
        )
    return dataset, missing


def _model_size(classroom: bool) -> tuple[int, float, int]:
    """Latent size, β and epochs."""
    c1, c2, c3 = st.columns(3)
    latent = int(c1.number_input(
        _("Latent size"), 1, 64, 2, key="train_latent", disabled=classroom,
        help=_("Numbers per latent code. 2 lets the Map page show the latent space itself, with decoded "
               "images behind it; 8–16 reconstruct better."),
    ))
    beta = float(c2.number_input(
        "β", 0.0, 20.0, 1.0, step=0.5, key="train_beta", format="%.2g", disabled=classroom,
        help=_("Weight of the KL term. 1 is the plain VAE; larger β gives a smoother, more disentangled but "
               "blurrier model; smaller β reconstructs better with a less regular latent space. β = 0 is a plain "
               "autoencoder: nothing pulls the codes towards the prior, so decoding samples of N(0, I) gives "
               "nonsense."),
    ))
    epochs = int(c3.number_input(_("Epochs"), 1, 500, 20, key="train_epochs", disabled=classroom,
                                 help=_("Passes over the training images.")))
    return latent, beta, epochs


def _advanced(classroom: bool, hidden: tuple[int, ...]) -> tuple[int, float, float, int]:
    """Batch size, learning rate, KL warm-up and seed; the hidden layers, named."""
    a1, a2, a3 = st.columns(3)
    batch_size = int(a1.number_input(_("Batch size"), 8, 1024, 128, step=32, key="train_batch",
                                     disabled=classroom))
    lr = float(a2.select_slider(_("Learning rate"), LEARNING_RATES, value=TrainConfig().lr, key="train_lr", disabled=classroom,
                                format_func=lambda v: f"{v:g}", help=_("Adam's learning rate, decayed "
                                "with a cosine schedule to 1/20 of it by the last epoch.")))
    warmup = float(a3.number_input(
        _("KL warm-up (epochs)"), 0.0, 100.0, 0.0, step=1.0, key="train_warmup", format="%g", disabled=classroom,
        help=_("Ramp the KL weight from 0 to β over this many epochs; helps against posterior "
               "collapse (latent dimensions the model stops using)."),
    ))
    seed = int(st.number_input(_("Seed"), 0, 2**31 - 1, 0, key="train_seed", disabled=classroom,
                               help=_("The same seed and settings give the same model on a CPU.")))
    st.caption(_("Hidden layers: {layers} (change them with `--hidden` on the command line).").format(
        layers=", ".join(str(d) for d in hidden)))
    return batch_size, lr, warmup, seed


def _name(dataset: str, arch: str, latent: int, beta: float, classroom: bool) -> tuple[str, str | None]:
    """The checkpoint's name (typed, or a free suggestion) and why it cannot be used, if it cannot."""
    suggestion = suggest_name(dataset, arch, latent, beta) if not classroom else suggest_name(
        "classroom-digits", arch, latent, beta)
    typed = st.text_input(
        _("Checkpoint name"), key="train_name", placeholder=suggestion, max_chars=100,
        help=_("A folder name under checkpoints/: letters, digits, '_', '.' and '-'. Empty: the suggestion."),
    ).strip()
    name = typed or suggestion
    problem = checkpoint_name_problem(loaders.CHECKPOINT_ROOT, name)
    if problem:
        st.error(_("Cannot use this name: {problem}.").format(problem=problem))
    else:
        st.caption(_("Saved to `{path}`.").format(path=display_path(loaders.CHECKPOINT_ROOT / name)))
    return name, problem


def _estimate(s: Settings) -> None:
    """How long the run takes on a 2-core CPU (a warning past ten minutes)."""
    per_epoch = (DIGITS_SECONDS_PER_EPOCH if s.dataset == "digits" else EMOJI_SECONDS_PER_EPOCH.get(s.arch)
                 if s.dataset == "emoji" else SECONDS_PER_EPOCH.get(s.arch))
    if not per_epoch:
        return
    epochs = s.epochs
    lo, hi = (epochs * x for x in per_epoch)
    long_run = hi > 10 * 60
    (st.warning if long_run else st.info)(
        (ngettext("Estimated time on a 2-core CPU: about {lo} to {hi} for {n} epoch.",
                  "Estimated time on a 2-core CPU: about {lo} to {hi} for {n} epochs.", epochs) if hi >= 2 else
         ngettext("Estimated time on a 2-core CPU: a second or two for {n} epoch.",
                  "Estimated time on a 2-core CPU: a second or two for {n} epochs.", epochs)).format(
            lo=fmt_duration(lo), hi=fmt_duration(hi), n=epochs)
        + (" " + _("That is a long run for a web page: consider the command line below.") if long_run else ""),
        icon=":material/timer:",
    )


def _start_button(jobs: JobRegistry, me: str, s: Settings) -> None:
    """Start, or join the queue while every slot trains (disabled while this browser's own run waits or
    trains, the data is missing or the name unusable)."""
    mine = jobs.mine(me)
    own_active = mine is not None and mine.active
    full = len(jobs.running()) >= jobs.slots
    if own_active and jobs.place(mine) is not None:
        st.caption(_("Your run is waiting for its turn (on the right); leave the queue there to change it."))
    elif own_active:
        st.caption(_("Your run is in progress (on the right); start another when it has finished, or stop it."))
    elif full:
        st.info(_("Every training slot is busy with a run started in another browser session (see the right). "
                  "Yours would wait in the queue as number {place}, and start on its own.").format(
            place=len(jobs.queued()) + 1), icon=":material/hourglass_top:")
    start = st.button(_("Join the queue") if full and not own_active else _("Start training"), type="primary",
                      key="train_start", width="stretch", disabled=bool(own_active or s.missing or s.problem))
    if start:
        try:
            job = jobs.start(s.mc, s.tc, owner=me, command=s.command)
        except JobError as e:  # raced with another session, or the name was just taken
            st.error(_("Cannot start this run: {problem}.").format(problem=str(e)))
        else:
            st.session_state["train_job_id"] = job.job_id
            st.rerun()


# -- the run's progress ---------------------------------------------------------------------------------
def progress_panel(drawn: tuple) -> None:
    """The run training (or the last one), this browser's place in the queue; reruns on its own every
    POLL_SECONDS while a run trains or waits, and reruns the page when ``drawn`` (its board) changed."""
    jobs, me = registry(), browser_id.token()
    if board(jobs, me) != drawn:
        st.rerun()  # the whole page: a run ended or started (the picker, Start, the queue)
    job, mine = shown_jobs(jobs, me)
    if mine is not None and jobs.place(mine) is not None:
        _waiting(jobs, mine)
    if job is None:
        st.subheader(_("Progress"))
        st.caption(_("No run yet. Choose the settings and press **Start training**; the progress bar, a "
                     "live loss chart and a **Stop** button appear here."))
        return
    snap = job.snapshot()
    if snap.status == "queued":
        return  # this browser's own run, waiting: said above
    st.subheader((_("Training: {name}") if snap.active else _("Last run: {name}")).format(name=snap.name))
    if snap.active:
        _running(jobs, job, snap, me)
    else:
        _outcome(snap)
    _others(jobs, job, mine)
    if not snap.active and snap.history and Path(snap.out).is_dir():
        st.button(_("Open it: explore {name} on the Map").format(name=snap.name), key=f"train_open_{snap.job_id}",
                  type="primary", on_click=_open_checkpoint, args=(snap.name,))
        if st.session_state.pop("train_open", False):
            nav.switch("map")
    _reconstructions(snap)
    _charts(snap)
    if not snap.active:
        st.caption(_("Command line equivalent:"))
        st.code(snap.command.replace(" --", " \\\n  --"), language="bash", wrap_lines=True)


def _waiting(jobs: JobRegistry, mine: TrainingJob) -> None:
    """This browser's run in the queue: its place, and a button to leave the queue."""
    place = jobs.place(mine)
    if place is None:
        return
    st.info(_("Your run **{name}** is waiting for a free slot: number {place} in the queue. It starts on its own "
              "when the runs ahead of it have ended; this page follows it.").format(name=mine.out.name, place=place),
            icon=":material/hourglass_top:")
    if st.button(_("Leave the queue"), icon=":material/close:", key=f"train_cancel_{mine.job_id}"):
        _stop(jobs, mine.job_id)


def _others(jobs: JobRegistry, shown: TrainingJob, mine: TrainingJob | None) -> None:
    """One line on the other runs training, and on the queue (this browser's own place is said above)."""
    others = [j.snapshot() for j in jobs.running() if j is not shown]
    if others:
        st.caption(_("Also training: {runs}.").format(runs=join_list([
            _("{name} (epoch {i} of {n})").format(name=o.name, i=min(o.epoch + 1, o.epochs), n=o.epochs)
            for o in others])))
    waiting = [j for j in jobs.queued() if j is not mine]
    if waiting:
        st.caption(ngettext("{n} run started in another browser session waits in the queue.",
                            "{n} runs started in other browser sessions wait in the queue.", len(waiting)).format(
            n=len(waiting)))


def _stop(jobs: JobRegistry, job_id: int) -> None:
    """Stop (or take out of the queue) a run of this browser's."""
    try:
        jobs.stop(job_id, owner=browser_id.token())
    except JobError as e:  # not this browser's run, or gone meanwhile
        st.error(_("Cannot stop this run: {problem}.").format(problem=str(e)))
        return
    st.rerun()


def _running(jobs: JobRegistry, job: TrainingJob, snap, me: str) -> None:
    """A run in progress: the progress bar, what it is doing, and Stop for the browser that started it."""
    spe = snap.steps_per_epoch
    doing = tr(snap.message)
    if spe:
        parts = [_("epoch {i} of {n}").format(i=min(snap.epoch + 1, snap.epochs), n=snap.epochs),
                 _("batch {i} of {n}").format(i=snap.step, n=spe)]
        if snap.images_per_s:
            parts.append(_("{n:,.0f} images/s").format(n=snap.images_per_s))
        parts.append(_("{t} so far").format(t=fmt_duration(snap.elapsed_s)))
        if snap.eta_s is not None:
            parts.append(_("about {t} left").format(t=fmt_duration(snap.eta_s)))
        st.progress(snap.progress, text=" · ".join(parts))
        note = "" if getattr(snap.message, "template", None) == EPOCH else doing  # the bar says the epoch
    else:
        st.progress(0.0, text=doing)
        note = ""
    owned = job.owner is not None and job.owned_by(me)
    if not owned:
        note += " " + _("This run was started in another browser session: only that session can stop it.")
    # always one caption, so the elements below keep their places between polls (no chart flicker)
    st.caption(note.strip() or "\u00a0")
    if owned and st.button(_("Stop"), icon=":material/stop_circle:", key=f"train_stop_{snap.job_id}",
                           help=_("Ends the run after the current batch; the epochs finished so far are kept "
                                  "as the checkpoint.")):
        _stop(jobs, snap.job_id)  # the next poll shows "stopping"; the run ends after the current batch


def _outcome(snap) -> None:
    """How the last run ended: finished (usable, or collapsed and what to change), stopped, or failed."""
    if snap.status == "complete" and snap.collapse:
        st.warning(
            _("Finished {n} epochs in {t}, but the model is not usable yet. {verdict} Final test −ELBO: {elbo:.2f} "
              "nats per image. Saved to `{path}`.").format(
                n=len(snap.history), t=fmt_duration(snap.elapsed_s), verdict=tr(snap.collapse),
                elbo=snap.final_test_neg_elbo, path=display_path(Path(snap.out))),
            icon=":material/warning:",
        )
    elif snap.status == "complete":
        used = "" if snap.kl_per_dim is None else " " + ngettext(
            "{k} of {n} latent dimension in use.", "{k} of {n} latent dimensions in use.", len(snap.kl_per_dim)
        ).format(k=int((snap.kl_per_dim >= COLLAPSED_KL).sum()), n=len(snap.kl_per_dim))
        st.success(
            _("Finished {n} epochs in {t}. Final test −ELBO: **{elbo:.2f} nats** per image (lower is better).{used} "
              "Saved to `{path}`.").format(n=len(snap.history), t=fmt_duration(snap.elapsed_s),
                                           elbo=snap.final_test_neg_elbo, used=used,
                                           path=display_path(Path(snap.out)))
        )
    elif snap.status == "stopped" and snap.history:
        st.warning(
            _("Stopped after {n} of {total} epochs, in {t}. The finished epochs are saved to `{path}`; test −ELBO "
              "at the last one: **{elbo:.2f} nats** per image.").format(
                n=len(snap.history), total=snap.epochs, t=fmt_duration(snap.elapsed_s),
                path=display_path(Path(snap.out)), elbo=snap.final_test_neg_elbo)
        )
    elif snap.status == "stopped":
        st.warning(tr(snap.message))  # stopped before the first epoch ended, or taken out of the queue
    else:
        st.error(_("Training failed: {error}").format(error=snap.error))


def _reconstructions(snap) -> None:
    """A finished run's model at work: test images (top row) and its reconstructions of them (bottom row)."""
    if snap.active or not snap.history or not (Path(snap.out) / "model.safetensors").is_file() \
            or not datasets.dataset_available(snap.dataset, "test"):
        return
    try:
        png = reconstructions_png(str(snap.out), snap.dataset, snap.finished_at)
    except Exception as e:  # a checkpoint removed or replaced meanwhile: the rest of the panel still shows
        st.caption(_("Its reconstructions cannot be shown: {error}").format(error=str(e) or type(e).__name__))
        return
    st.markdown(_("**Its reconstructions**: test images (top) and what the new model makes of them (bottom)"))
    st.image(png, output_format="PNG")


def _charts(snap) -> None:
    """The test codes' map, the loss per batch and the curves per epoch."""
    if snap.codes is not None:
        st.markdown((_("**The test images' codes after epoch {epoch}** (the latent plane itself)")
                     if snap.latent_dim == 2 else
                     _("**The test images' codes after epoch {epoch}** (their first two principal axes)")).format(
            epoch=snap.codes_epoch))
        st.plotly_chart(tr_fig(codes_map(snap.codes, snap.code_labels, snap.class_names, height=300,
                                         font=presenter.font(12))),
                        key="train_codes_map", config={"displayModeBar": False})
        if snap.active:
            st.caption(_("Redrawn while it trains: the codes start in a clump around 0 and spread out as the "
                         "encoder learns, while the KL term keeps them near the prior N(0, I)."))
    if snap.loss_x:
        st.markdown(_("**Loss per batch** (β-weighted, nats per image)"))
        st.plotly_chart(tr_fig(batch_loss_curve(snap.loss_x, snap.loss_y, height=240)), key="train_batch_chart",
                        config={"displayModeBar": False})
    if snap.history:
        st.markdown(_("**Per epoch**: train loss and test −ELBO with its two parts"))
        fig = loss_curves(snap.history, height=340)
        # a half-width column: the legend goes under the plot instead of over the curves
        fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.25, xanchor="left", x=0))
        st.plotly_chart(tr_fig(fig), key="train_epoch_chart", config={"displayModeBar": False})
    elif snap.active and snap.steps_per_epoch:
        st.caption(_("The per-epoch curve appears when the first epoch is done."))
