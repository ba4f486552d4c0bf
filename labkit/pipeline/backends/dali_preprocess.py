"""Triton Python backend: run the serialised DALI pipeline ``model.dali`` on the CPU (Lab 07).

The same file that Triton's DALI backend loads on a GPU server (there with mixed decode):
training and serving share one preprocessing definition, ``labkit.pipeline.etl.preprocess``.

Input ``DALI_INPUT_0``: uint8 [n, bytes], n encoded images (rows may end in zero padding,
which JPEG decoders ignore). Output ``DALI_OUTPUT_0``: float32 [n, 3, S, S].

Bad input never takes the server down: a row that is not an encoded image is refused
before DALI sees it, and if DALI still fails (a truncated file, say) the pipeline is
rebuilt (DALI invalidates a pipeline after an error) and the requests run one by one, so
only the bad request gets an error.

config.pbtxt parameters: ``dali_file`` (default ``model.dali``), ``threads`` (default 1).
"""

import json
import os

import numpy as np
import triton_python_backend_utils as pb_utils

INPUT, OUTPUT = "DALI_INPUT_0", "DALI_OUTPUT_0"
# File signatures of the formats DALI's image decoder reads.
_MAGIC = {"JPEG": (b"\xff\xd8\xff",), "PNG": (b"\x89PNG\r\n\x1a\n",), "BMP": (b"BM",),
          "TIFF": (b"II*\x00", b"MM\x00*"), "WebP": (b"RIFF",)}


def _format_error(index, row):
    head = bytes(row[:8])
    if any(head.startswith(s) for signatures in _MAGIC.values() for s in signatures):
        return None
    return (f"input '{INPUT}' item {index} ({len(row)} bytes, starting {head!r}) is not an "
            f"encoded image: send the bytes of a {', '.join(_MAGIC)} file")


def _dali_reason(exc):
    """The line of a DALI error that says what went wrong (after 'encountered:')."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for i, line in enumerate(lines[:-1]):
        if line == "encountered:":
            return lines[i + 1][:200]
    return lines[0][:200] if lines else type(exc).__name__


def _invalid_argument(message):
    """A client error (HTTP 400 / gRPC INVALID_ARGUMENT) where the stub supports codes."""
    code = getattr(pb_utils.TritonError, "INVALID_ARG", None)
    if code is None:
        return pb_utils.TritonError(message)
    return pb_utils.TritonError(message, code)


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        version_dir = os.path.join(args["model_repository"], args["model_version"])
        self.path = os.path.join(version_dir, params.get("dali_file", "model.dali"))
        self.threads = int(params.get("threads", "1"))
        self.max_batch = max(1, int(config.get("max_batch_size", 1)))
        self._build()

    def _build(self):
        from nvidia.dali import Pipeline

        self.pipe = Pipeline.deserialize(filename=self.path, batch_size=self.max_batch,
                                         num_threads=self.threads, device_id=None)
        self.pipe.build()

    def _run(self, rows):
        outputs = []
        for start in range(0, len(rows), self.max_batch):
            self.pipe.feed_input(INPUT, rows[start:start + self.max_batch])
            (images,) = self.pipe.run()
            outputs.append(np.array(images.as_tensor()))
        return np.concatenate(outputs) if len(outputs) > 1 else outputs[0]

    def execute(self, requests):
        rows, errors = [], []
        for request in requests:
            data = pb_utils.get_input_tensor_by_name(request, INPUT).as_numpy()
            if data.ndim != 2 or data.shape[0] == 0 or data.shape[1] == 0:
                errors.append(f"input '{INPUT}' has shape {list(data.shape)}; expected "
                              f"[n, bytes] with n >= 1 encoded images")
                rows.append([])
                continue
            problems = [_format_error(i, row) for i, row in enumerate(data)]
            errors.append(next((p for p in problems if p), None))
            rows.append([np.ascontiguousarray(row) for row in data])
        good = [i for i, e in enumerate(errors) if e is None]
        results = {}
        if good:
            try:
                flat = [row for i in good for row in rows[i]]
                images = self._run(flat)
                offset = 0
                for i in good:
                    results[i] = images[offset:offset + len(rows[i])]
                    offset += len(rows[i])
            except Exception:  # noqa: BLE001 - isolate the request that broke the batch
                self._build()
                for i in good:
                    try:
                        results[i] = self._run(rows[i])
                    except Exception as exc:  # noqa: BLE001
                        errors[i] = (f"input '{INPUT}' could not be decoded as an image: "
                                     f"the file is truncated or corrupt ({_dali_reason(exc)})")
                        self._build()
        responses = []
        for i in range(len(requests)):
            if errors[i] is not None:
                responses.append(pb_utils.InferenceResponse(error=_invalid_argument(errors[i])))
            else:
                responses.append(pb_utils.InferenceResponse(
                    output_tensors=[pb_utils.Tensor(OUTPUT, results[i])]))
        return responses
