"""The DALI -> PyTorch -> Triton pipeline of Lab 07, one module per stage."""
