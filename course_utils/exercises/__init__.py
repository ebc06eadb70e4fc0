"""One module per lesson, ``lessonNN``, holding that lesson's exercise checks (``q1``, ``q2``, ...)."""
