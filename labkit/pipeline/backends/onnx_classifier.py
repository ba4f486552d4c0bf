"""Triton Python backend: run ``model.onnx`` with ONNX Runtime on the CPU (Lab 07).

Every request in one ``execute`` call is concatenated into one batch (the dynamic batcher
decides how many arrive together), run once, and split back per request.

config.pbtxt parameters (strings):
- ``onnx_file``: file in the version folder (default ``model.onnx``);
- ``intra_op_threads``: ONNX Runtime threads per instance (default 1; instances are
  separate processes, perf.md §1.6);
- ``emulated_batch_us``: the *accelerator analogue*, off by default. When set, each
  execution takes at least this many microseconds whatever the batch size. On a GPU a
  small model's execution time barely grows with the batch (the Part 2 tutorial measured
  2,040 us of compute for batch-2 requests without batching and 2,396 us per batched
  execution with dynamic batching, perf.md §1.1); on a CPU it grows linearly. The
  analogue reproduces the GPU's shape so that the batching lesson can be measured here;
  results obtained with it must be labelled as an analogue.
- ``analogue_overlap`` (0-1, default 0) and ``analogue_devices`` (default 1): the analogue's
  instances *share* its device. Each execution spends ``overlap`` of its time in a part that
  runs beside other instances (the copies that overlap another instance's compute) and the
  rest holding the device: a lock file per analogue device beside the repository folder,
  shared by every instance process of every model the server loads. Instances are spread
  over ``analogue_devices`` devices by their instance index, as ``instance_group [{count:
  2, gpus: [0, 1]}]`` puts them on two GPUs. With one device, a second instance can add at
  most 1 / (1 - overlap) of the first one's throughput (1.33x for 0.25), not 2x.
"""

import fcntl
import json
import os
import re
import time

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        version_dir = os.path.join(args["model_repository"], args["model_version"])
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(params.get("intra_op_threads", "1"))
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            os.path.join(version_dir, params.get("onnx_file", "model.onnx")), options,
            providers=["CPUExecutionProvider"])
        self.input_name = config["input"][0]["name"]
        self.output_name = config["output"][0]["name"]
        self.emulated_s = float(params.get("emulated_batch_us", "0")) / 1e6
        self.overlap = min(max(float(params.get("analogue_overlap", "0")), 0.0), 1.0)
        self.device = None
        if self.emulated_s:
            devices = max(1, int(params.get("analogue_devices", "1")))
            index = re.search(r"(\d+)$", args.get("model_instance_name", "") or "")
            device = (int(index[1]) if index else 0) % devices
            repository = os.path.dirname(os.path.abspath(args["model_repository"]))
            path = os.path.join(os.path.dirname(repository),  # beside it, not a model folder
                                f".{os.path.basename(repository)}.analogue-device-{device}.lock")
            self.device = open(path, "a+")  # noqa: SIM115 - held for the instance's life

    def finalize(self):
        if self.device is not None:
            self.device.close()

    def execute(self, requests):
        start = time.perf_counter()
        arrays = [pb_utils.get_input_tensor_by_name(r, self.input_name).as_numpy()
                  for r in requests]
        batch = arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
        logits = self.session.run([self.output_name], {self.input_name: batch})[0]
        if self.emulated_s:
            # the part that overlaps other instances (the real ONNX work counts towards it)
            remaining = self.emulated_s * self.overlap - (time.perf_counter() - start)
            if remaining > 0:
                time.sleep(remaining)
            fcntl.flock(self.device, fcntl.LOCK_EX)  # the device's compute: one at a time
            try:
                time.sleep(self.emulated_s * (1.0 - self.overlap))
            finally:
                fcntl.flock(self.device, fcntl.LOCK_UN)
        responses, offset = [], 0
        for array in arrays:
            part = logits[offset:offset + len(array)]
            offset += len(array)
            responses.append(pb_utils.InferenceResponse(
                output_tensors=[pb_utils.Tensor(self.output_name, part)]))
        return responses
