"""Compare the fixes side by side: a registry of techniques and a sweep over seeds (lesson 07).

A *technique* is a tiny function ``build(problem, seed) -> (model, optimizer)`` that
applies one fix of lessons 03-06 (or a combination) to a failing baseline. A *problem*
is one of the two baselines of ``course_utils.baselines``, possibly shrunk to fit a
time budget. ``sweep`` trains every technique on a problem over several seeds, with
the training loop of ``train_with_gradient_log``, and scores each run in inference mode
(a network with BatchNormalization after ``recalibrate_batch_norm``, lesson 06's fix);
each run also logs the wall time of every step (``Result.seconds_per_step``,
``Result.fastest_step``). ``compare_report`` prints and plots what each one bought.

    >>> problem = mlp_problem(depth=4, epochs=1, train_samples=128)
    >>> result = run_technique(problem, clipnorm, seeds=(0, 1))
    >>> result.n_diverged, len(result.runs)
    (0, 2)
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from course_utils import baselines
from course_utils._validate import require_positive_int
from course_utils.data import load_digits
from course_utils.gradients import GradientLog, default_loss, steps_over_seeds, train_with_step

CLIP_NORM = 1.0  # lesson 03's threshold, for clipnorm and global_clipnorm alike
L2_FACTOR = 0.01  # lesson 04's penalty: kernel_regularizer=l2(0.01)
HE_SCALE = math.sqrt(2.0)  # He initialisation N(0, 2 / fan_in): ReLU's matching scale (lesson 05)
CHANCE_ACCURACY = 0.1  # ten balanced digit classes

# Lesson 07's sweep, sized to run in seconds on a laptop CPU. Seeds are spaced because
# deep_mlp draws layer i with seed + i: seeds 0 and 1 would give the same layers, shifted by one.
SEEDS = (0, 100, 200)
LESSON_MLP = dict(depth=10, epochs=2)  # the full baseline: mlp_problem() = depth 30, 5 epochs
LESSON_RNN = dict(epochs=1)  # the full baseline: rnn_problem() = 8 epochs


# --------------------------------------------------------------------------- problems


def accuracy(model, x, y):
    """Share of ``x`` whose arg-max logit is the label ``y`` (inference mode)."""
    logits = model(x, training=False)
    return float(np.mean(np.argmax(np.asarray(logits), axis=-1) == np.asarray(y)))


def mean_squared_error(model, x, y):
    """Mean squared error of ``model`` on ``(x, y)`` (inference mode)."""
    return float(np.mean((np.asarray(model(x, training=False)) - np.asarray(y)) ** 2))


@dataclass(frozen=True)
class Problem:
    """One failing baseline, ready to be trained: data, builder, training settings and score.

    ``model(seed, **overrides)`` builds the baseline network (any ``deep_mlp`` /
    ``simple_rnn`` argument overridden); ``sgd(**clipping)`` the baseline's optimizer;
    ``l2(factor)`` the arguments that put an L2 penalty on every weight matrix.
    """

    name: str  # "mlp" or "rnn"
    build: Callable
    train: tuple
    test: tuple
    loss_fn: object  # None: the MLP's default cross-entropy on logits
    learning_rate: float
    epochs: int
    batch_size: int
    score: Callable  # score(model, x, y) -> float
    score_name: str
    higher_is_better: bool
    reference: float  # the score of a model that learned nothing
    reference_name: str
    penalised: tuple  # the builder's regularizer arguments

    def model(self, seed, **overrides):
        return self.build(seed=seed, **overrides)

    def sgd(self, **clipping):
        return keras.optimizers.SGD(learning_rate=self.learning_rate, **clipping)

    def l2(self, factor=L2_FACTOR):
        return {argument: keras.regularizers.L2(factor) for argument in self.penalised}


def _train_subset(data, train_samples, batch_size):
    """The first ``train_samples`` examples (all by default), cut to whole batches.

    A ragged last batch has another shape, which makes ``tf.function`` trace the
    training step a second time: up to a second of pure overhead per run.
    """
    x, y = data
    n = len(x) if train_samples is None else require_positive_int("train_samples", train_samples)
    n = max(batch_size, min(n, len(x)) // batch_size * batch_size)
    return x[:n], y[:n]


def mlp_problem(depth=baselines.MLP["depth"], epochs=baselines.MLP_TRAINING["epochs"], train_samples=None):
    """The deep tanh MLP baseline on the digits; defaults are the full baseline.

    >>> problem = mlp_problem(depth=10, epochs=3)
    >>> problem.model(seed=0).count_params() < mlp_problem().model(seed=0).count_params()
    True
    """
    depth = require_positive_int("depth", depth)
    batch_size = baselines.MLP_TRAINING["batch_size"]
    train, test = load_digits()
    return Problem(
        name="mlp",
        build=lambda seed, **overrides: baselines.mlp_baseline(depth=depth, seed=seed, **overrides),
        train=_train_subset(train, train_samples, batch_size),
        test=test,
        loss_fn=None,
        learning_rate=baselines.MLP_TRAINING["learning_rate"],
        epochs=require_positive_int("epochs", epochs),
        batch_size=batch_size,
        score=accuracy,
        score_name="test accuracy",
        higher_is_better=True,
        reference=CHANCE_ACCURACY,
        reference_name="chance",
        penalised=("kernel_regularizer",),
    )


def rnn_problem(epochs=baselines.RNN_TRAINING["epochs"], train_samples=None):
    """The SimpleRNN baseline on the adding problem; defaults are the full baseline."""
    batch_size = baselines.RNN_TRAINING["batch_size"]
    train, test = baselines.adding_data()
    return Problem(
        name="rnn",
        build=baselines.rnn_baseline,
        train=_train_subset(train, train_samples, batch_size),
        test=test,
        loss_fn=baselines.mse_loss(),
        learning_rate=baselines.RNN_TRAINING["learning_rate"],
        epochs=require_positive_int("epochs", epochs),
        batch_size=batch_size,
        score=mean_squared_error,
        score_name="test MSE",
        higher_is_better=False,
        reference=baselines.TRIVIAL_ADDING_MSE,
        reference_name="always 1.0",
        penalised=("kernel_regularizer", "recurrent_regularizer"),
    )


# --------------------------------------------------------------------------- techniques


@dataclass(frozen=True)
class Technique:
    """A registered fix: its name in the tables, its builder, and the baselines it applies to."""

    name: str
    build: Callable  # build(problem, seed) -> (model, optimizer)
    problems: tuple  # names of the problems it applies to


TECHNIQUES = {}  # name -> Technique, in the order the table lists them


def technique(name, problems=("mlp", "rnn")):
    """Register ``build(problem, seed) -> (model, optimizer)`` under ``name`` for ``problems``."""

    def register(build):
        TECHNIQUES[name] = Technique(name, build, tuple(problems))
        return build

    return register


@technique("baseline")
def baseline(problem, seed):
    """The failing baseline as it is: plain SGD."""
    return problem.model(seed), problem.sgd()


@technique("clipnorm")
def clipnorm(problem, seed):
    """Each variable's gradient rescaled to norm <= CLIP_NORM before the update (lesson 03)."""
    return problem.model(seed), problem.sgd(clipnorm=CLIP_NORM)


@technique("global_clipnorm")
def global_clipnorm(problem, seed):
    """All gradients rescaled together so their global norm is <= CLIP_NORM (Pascanu et al.; lesson 03)."""
    return problem.model(seed), problem.sgd(global_clipnorm=CLIP_NORM)


@technique("L2")
def l2(problem, seed):
    """An L2 penalty L2_FACTOR * sum(W**2) on every weight matrix (lesson 04)."""
    return problem.model(seed, **problem.l2()), problem.sgd()


@technique("He-ReLU", problems=("mlp",))
def he_relu(problem, seed):
    """ReLU with its matching He initialisation, sigma_w = sqrt(2) (lesson 05)."""
    return problem.model(seed, activation="relu", weight_scale=HE_SCALE), problem.sgd()


@technique("BatchNorm", problems=("mlp",))
def batch_norm(problem, seed):
    """Dense -> BatchNormalization -> tanh in every hidden block, weights still at sigma_w = 4 (lesson 06)."""
    return problem.model(seed, batch_norm=True), problem.sgd()


@technique("BatchNorm + clipnorm", problems=("mlp",))
def batch_norm_clipnorm(problem, seed):
    """BatchNorm blocks and a clipped optimizer."""
    return problem.model(seed, batch_norm=True), problem.sgd(clipnorm=CLIP_NORM)


@technique("He-ReLU + BatchNorm", problems=("mlp",))
def he_relu_batch_norm(problem, seed):
    """Dense (He) -> BatchNormalization -> ReLU."""
    return problem.model(seed, activation="relu", weight_scale=HE_SCALE, batch_norm=True), problem.sgd()


@technique("L2 + clipnorm")
def l2_clipnorm(problem, seed):
    """The L2 penalty and a clipped optimizer."""
    return problem.model(seed, **problem.l2()), problem.sgd(clipnorm=CLIP_NORM)


def techniques_for(problem):
    """Names of the registered techniques that apply to ``problem`` (a Problem or its name)."""
    name = getattr(problem, "name", problem)
    return [t.name for t in TECHNIQUES.values() if name in t.problems]


# --------------------------------------------------------------------------- runs and results


@dataclass
class Run:
    """One seed of one technique: its gradient log, final score (NaN if it diverged), wall times and final weights.

    ``weights`` are the weights as training left them (BatchNormalization's moving statistics
    included, *not* re-estimated); ``score`` was measured after ``recalibrate_batch_norm``
    when the network has BatchNormalization layers (see ``run_technique``).
    """

    seed: int
    log: GradientLog
    score: float
    seconds: float  # wall time: loading the seed's initial weights, training and scoring
    weights: list = None  # model.get_weights() after training: load them into build(problem, seed)'s model
    step_seconds: list = None  # wall time of every training step taken

    @property
    def steps(self):
        """Training steps actually taken: a run stops at the first NaN, so this can be fewer than planned."""
        return len(self.log.losses)

    @property
    def train_seconds(self):
        """Wall time of the training steps alone (no loading, no scoring)."""
        return float(np.sum(self.step_seconds)) if self.step_seconds else float("nan")


@dataclass
class Result:
    """All seeds of one technique on one problem, summarised the way the table prints them."""

    technique: str
    problem: Problem
    runs: list
    trace_seconds: float  # building the first model and tracing its training step, once for all seeds
    step_ops: int  # operations in the traced training step: a machine-independent measure of its cost

    @property
    def n_diverged(self):
        """How many runs hit NaN or Inf."""
        return sum(run.log.diverged for run in self.runs)

    @property
    def max_grad_norm(self):
        """Largest finite raw (pre-clipping) gradient norm logged in any run."""
        return max(run.log.max_grad_norm for run in self.runs)

    @property
    def scores(self):
        """Final scores of the runs that stayed finite."""
        return np.array([run.score for run in self.runs if math.isfinite(run.score)])

    @property
    def score_median(self):
        """The middle run's score (NaN if every run diverged): with 3 seeds, robust to one odd run."""
        return float(np.median(self.scores)) if self.scores.size else float("nan")

    @property
    def score_range(self):
        """Spread over seeds: best minus worst finite score (NaN if every run diverged)."""
        return float(np.ptp(self.scores)) if self.scores.size else float("nan")

    @property
    def seconds(self):
        """Mean wall time of one run (loading the seed's initial weights, training, scoring)."""
        return float(np.mean([run.seconds for run in self.runs]))

    @property
    def steps(self):
        """Training steps actually taken, all runs together (runs that reached NaN stopped early)."""
        return sum(run.steps for run in self.runs)

    @property
    def seconds_per_step(self):
        """Mean wall time of a training step: all runs' training time divided by the steps they actually took.

        Runs that reach NaN stop early, so their total time is truncated; per step they
        compare with the runs that went the distance. Each run's first step is left out of
        both sums: the first call of a traced step optimises its graph (hundreds of times
        a step's cost, once). The mean includes whatever else the machine was doing
        meanwhile (see ``fastest_step``).
        """
        times = self._step_times()
        return float(np.mean(times)) if times else float("nan")

    @property
    def fastest_step(self):
        """The shortest wall time of any training step (each run's first step left out, as in ``seconds_per_step``).

        A step can only be slowed down by other work on the machine, never sped up, so the
        fastest of a hundred steps is the closest a wall clock gets to the step's own cost.
        """
        times = self._step_times()
        return float(min(times)) if times else float("nan")

    def _step_times(self):
        """Every run's step times, each run's first step (with its one-off costs) left out."""
        return [t for run in self.runs for t in (run.step_seconds or [])[1:]]


def batch_norm_layers(model):
    """The ``keras.layers.BatchNormalization`` layers of ``model`` (its top-level layers), in order."""
    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


def recalibrate_batch_norm(model, x):
    """Re-estimate every BatchNormalization layer's moving mean and variance on ``x`` (lesson 06's fix).

    After a short run the moving averages (``momentum=0.99``) have moved only
    ``1 - 0.99**steps`` of the way from their starting 0 and 1, so inference mode
    normalises with stale statistics. With ``momentum`` set to 0, one pass of ``x`` in
    training mode makes each moving statistic the statistic of ``x`` at that layer; no
    weight changes, no gradient. ``momentum`` is put back afterwards. Returns how many
    layers were re-estimated (0: nothing to do).

        >>> model = mlp_problem(depth=2, epochs=1).model(seed=0, batch_norm=True)
        >>> x = np.random.default_rng(0).normal(3.0, 1.0, (256, 64)).astype("float32")
        >>> recalibrate_batch_norm(model, x), float(np.asarray(model.layers[1].moving_mean).mean()) != 0.0
        (2, True)
    """
    layers = batch_norm_layers(model)
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.momentum = 0.0
    try:
        if layers:
            model(np.asarray(x), training=True)  # updates the moving statistics only
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
    return len(layers)


def run_technique(problem, build, seeds, name=None):
    """Train ``build(problem, seed)`` once per seed and collect the runs into a ``Result``.

    Each run is ``train_with_gradient_log(model, *problem.train, optimizer, ...,
    seed=seed)`` on the model and optimizer that ``build(problem, seed)`` returns: the
    seed fixes the initial weights and the shuffling. The difference is speed: the step is
    traced once per technique (``gradients.steps_over_seeds``), and each seed loads its
    freshly built initial weights and optimizer state into that one traced model. A run that diverges is scored NaN;
    the others on the problem's test set, in inference mode; a network with BatchNormalization is scored after
    ``recalibrate_batch_norm`` on the training set (lesson 06's fix for moving statistics that lag behind a short
    run). Each run keeps its final weights as training left them (``Run.weights``, before that re-estimation) and
    the wall time of each training step (``Run.step_seconds``).
    """
    x, y = problem.train
    runs, trace_seconds, step = [], None, None
    start = time.perf_counter()
    for seed, model, step in steps_over_seeds(
        lambda seed: build(problem, seed), seeds, x, y, problem.batch_size, problem.loss_fn or default_loss()
    ):
        if trace_seconds is None:  # the first seed's step was traced just now
            trace_seconds, start = time.perf_counter() - start, time.perf_counter()
        stamps = []  # the clock before every step, and once after the last
        log = train_with_step(
            step,
            x,
            y,
            problem.epochs,
            problem.batch_size,
            seed=seed,
            on_step=lambda _, stamps=stamps: stamps.append(time.perf_counter()),
        )
        stamps.append(time.perf_counter())
        weights = model.get_weights()  # as trained: moving statistics not re-estimated
        score = float("nan")
        if not log.diverged:
            recalibrate_batch_norm(model, x)
            score = problem.score(model, *problem.test)
        runs.append(Run(seed, log, score, time.perf_counter() - start, weights, list(np.diff(stamps))))
        start = time.perf_counter()  # the next seed's time starts with loading its weights
    step_ops = len(step.graph.get_operations())
    return Result(name or getattr(build, "__name__", "technique"), problem, runs, trace_seconds, step_ops)


def sweep(problem, seeds, techniques=None):
    """``{name: Result}`` for every technique in ``techniques`` (default: all that apply to ``problem``)."""
    names = techniques_for(problem) if techniques is None else list(techniques)
    unknown = [name for name in names if name not in TECHNIQUES]
    if unknown:
        raise ValueError(f"unknown technique(s) {unknown}; registered: {list(TECHNIQUES)}")
    return {name: run_technique(problem, TECHNIQUES[name].build, seeds, name) for name in names}
