"""Watch the gradient of any Keras model inside a plain ``model.fit``: ``GradientMonitor``.

Every ``every`` training steps the callback takes the gradient of the model's own
compiled loss on one fixed *probe* batch, and records the norm of each layer's share of
it and the global norm (all layers together). A fixed batch makes the records comparable:
what changes from one record to the next is the model, not the data.

    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, name="hidden"),
    ...                           keras.layers.Dense(1, name="out")])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.ones((16, 4), "float32"), np.zeros((16, 1), "float32")
    >>> monitor = GradientMonitor(x[:8], y[:8], every=2)
    >>> _ = model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[monitor])
    >>> [record["step"] for record in monitor.history]  # before training, then every 2 of the 4 steps
    [0, 2, 4]
    >>> list(monitor.history[0]["layer_norms"])  # layers with weights, in model order
    ['hidden', 'out']
"""

import math
import numbers
import os

import keras
import numpy as np

from course_utils._quiet_tf import tf
from course_utils._validate import require_positive_int, require_positive_number
from course_utils.approx import approx


class GradientMonitor(keras.callbacks.Callback):
    """A ``keras.callbacks.Callback`` logging per-layer and global gradient norms on a probe batch.

    * ``x_probe, y_probe``: one fixed batch (a few hundred examples is plenty), measured
      with the loss given to ``model.compile`` (plus any regularisation losses), in
      training mode, without changing the model (BatchNormalization's moving statistics
      are restored after each measurement).
    * ``every``: measure after every ``every`` training steps. The first record, step 0,
      is taken before the first update.
    * ``log_dir``: also write the norms as TensorBoard scalars (``gradient_norm/global``,
      ``gradient_norm/<layer>``) and each layer's gradient values as a histogram
      (``gradients/<layer>``).
    * ``stop_above``: stop training (``model.stop_training = True``) once the global norm
      exceeds this value or is not finite; the reason is printed and kept in ``stop_reason``.

    After ``fit``, ``history`` is a list of ``{"step": int, "global_norm": float,
    "layer_norms": {layer name: float}}``, layers in model order. Each ``fit`` starts a
    new history. Norms are computed in float64, so a float32 gradient near its overflow
    still has a finite norm.

        monitor = GradientMonitor(x_train[:256], y_train[:256], every=5, stop_above=1e6)
        model.fit(x_train, y_train, epochs=3, callbacks=[monitor])
        first = monitor.history[0]["layer_norms"]   # the gradient profile at initialisation
    """

    def __init__(self, x_probe, y_probe, every=1, log_dir=None, stop_above=None):
        super().__init__()
        if len(x_probe) == 0 or len(x_probe) != len(y_probe):
            raise ValueError(
                f"x_probe and y_probe must be one non-empty batch of the same length, "
                f"got len(x_probe)={len(x_probe)} and len(y_probe)={len(y_probe)}"
            )
        if log_dir is not None and not isinstance(log_dir, (str, os.PathLike)):
            raise ValueError(f"log_dir must be a directory path or None, got {type(log_dir).__name__}")
        if stop_above is not None:
            if not isinstance(stop_above, numbers.Real) or isinstance(stop_above, bool):
                raise ValueError(f"stop_above must be a positive number or None, got {stop_above!r}")
            stop_above = require_positive_number("stop_above", stop_above)
        self.x_probe, self.y_probe = x_probe, y_probe
        self.every = require_positive_int("every", every)
        self.log_dir = None if log_dir is None else os.fspath(log_dir)
        self.stop_above = stop_above
        self.history = []
        self.stop_reason = None

    # --- Keras hooks -------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        if not getattr(self.model, "compiled", False):
            raise ValueError("GradientMonitor needs a compiled model: call model.compile(optimizer, loss) first")
        self.history, self.stop_reason, self._step = [], None, 0
        self._layers = [layer for layer in self.model.layers if layer.trainable_weights]
        self._gradients = tf.function(self._probe_gradients)  # traced once per fit
        self._writer = tf.summary.create_file_writer(self.log_dir) if self.log_dir else None
        self._record()

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self._step % self.every == 0:
            self._record()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()

    # --- the measurement ---------------------------------------------------------------
    def _probe_gradients(self):
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            y_pred = self.model(self.x_probe, training=True)
            loss = self.model.compute_loss(x=self.x_probe, y=self.y_probe, y_pred=y_pred, training=True)
        return tape.gradient(loss, variables)

    def measure(self):
        """``(global_norm, {layer name: norm}, {layer name: flat gradient})`` on the probe batch, now."""
        state = [v.numpy() for v in self.model.non_trainable_variables]  # e.g. BatchNorm's moving statistics
        grads = self._gradients()
        for variable, value in zip(self.model.non_trainable_variables, state):
            variable.assign(value)
        by_variable = {id(v): g for v, g in zip(self.model.trainable_variables, grads)}
        layer_norms, layer_values = {}, {}
        for layer in self._layers:
            parts = [by_variable.get(id(w)) for w in layer.trainable_weights]
            flat = [np.ravel(np.asarray(g, dtype=np.float64)) for g in parts if g is not None]
            values = np.concatenate(flat) if flat else np.zeros(0)
            layer_values[layer.name] = values
            layer_norms[layer.name] = float(np.sqrt(np.sum(values**2)))
        global_norm = float(np.sqrt(sum(norm**2 for norm in layer_norms.values())))
        return global_norm, layer_norms, layer_values

    def _record(self):
        global_norm, layer_norms, layer_values = self.measure()
        self.history.append({"step": self._step, "global_norm": global_norm, "layer_norms": layer_norms})
        if self._writer is not None:
            self._write_summaries(global_norm, layer_norms, layer_values)
        if not math.isfinite(global_norm):
            self._stop(f"the global gradient norm is {global_norm}")
        elif self.stop_above is not None and global_norm > self.stop_above:
            self._stop(f"the global gradient norm {approx(global_norm)} passed stop_above={self.stop_above:g}")

    def _write_summaries(self, global_norm, layer_norms, layer_values):
        with self._writer.as_default(step=self._step):
            tf.summary.scalar("gradient_norm/global", global_norm)
            for name, norm in layer_norms.items():
                tf.summary.scalar(f"gradient_norm/{name}", norm)
                if layer_values[name].size and np.all(np.isfinite(layer_values[name])):
                    tf.summary.histogram(f"gradients/{name}", layer_values[name])
        self._writer.flush()

    def _stop(self, why):
        self.stop_reason = f"step {self._step}: {why}"
        print(f"GradientMonitor stopped training at step {approx(self._step)}: {why}")
        self.model.stop_training = True
