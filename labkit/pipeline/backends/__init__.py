"""Triton Python-backend models that Lab 07's repository builder copies as ``<version>/model.py``.

They run inside Triton's Python-backend stub process, not in labkit: each imports only
``triton_python_backend_utils`` (provided by the stub), numpy, and the library it serves
with (ONNX Runtime or DALI), and reads its settings from config.pbtxt ``parameters``.
"""
