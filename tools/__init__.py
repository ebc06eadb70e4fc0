"""Maintainer commands, run from the repository root:

python -m tools.refresh      # regenerate exercises/ from solutions/, then re-execute every notebook in place
python -m tools.benchmark    # wall time and peak memory of every notebook
"""
