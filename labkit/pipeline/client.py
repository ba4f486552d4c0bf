"""Lab 07 stage 5: the inference client, over HTTP or gRPC (tritonclient).

``TritonClient(url, protocol)`` classifies image files or bytes through the ``pipeline``
ensemble (encoded JPEG in, class and softmax score out), in batches up to the model's
``max_batch_size``, or sends preprocessed tensors straight to ``classifier``. It talks to
the embedded server and to the NGC container alike (only the URL differs). Command-line
equivalent::

    python -m labkit.pipeline infer --url 127.0.0.1:8001 --protocol grpc IMAGE.jpg ...

Mistakes are caught before sending where the model's metadata allows (unknown model,
wrong dtype or shape, bytes that are not an image) and reported as ``ClientError`` naming
the value and what was expected; whatever the server refuses comes back the same way. When
the server refuses a batch of images (one truncated JPEG fails the whole request),
``classify`` sends that batch's images one at a time and raises ``ImageErrors``, which
names each bad file and still carries the predictions for the good ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .repository import IMAGE_INPUT

__all__ = ["TritonClient", "ClientError", "ImageErrors", "Prediction", "pack_images", "softmax",
           "looks_like_image", "IMAGE_INPUT"]

_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"BM", b"II*\x00", b"MM\x00*", b"RIFF")
_NP_TO_TRITON = {"float32": "FP32", "float16": "FP16", "float64": "FP64", "uint8": "UINT8",
                 "int8": "INT8", "int32": "INT32", "int64": "INT64", "bool": "BOOL"}


class ClientError(RuntimeError):
    """A request that was refused, by the client's checks or by the server."""


class _Refused(ClientError):
    """The server answered and refused the request (as opposed to not answering)."""


class ImageErrors(ClientError):
    """``classify`` could not classify some images; the others have predictions.

    ``predictions`` is in input order with ``None`` for each failed image; ``failed`` is
    ``[(name, reason)]`` where name is the file path (``"bytes #i"`` for raw bytes).
    """

    def __init__(self, predictions: list[Prediction | None], failed: list[tuple[str, str]]):
        self.predictions, self.failed = predictions, failed
        good = sum(p is not None for p in predictions)
        lines = "; ".join(f"{name}: {reason}" for name, reason in failed)
        super().__init__(f"{len(failed)} of {len(predictions)} images could not be "
                         f"classified ({good} were): {lines}; replace or remove "
                         f"{'that file' if len(failed) == 1 else 'those files'} and retry")


@dataclass(frozen=True)
class Prediction:
    """The top class of one image: name, index and softmax probability (0-1)."""

    label: str
    index: int
    score: float


def looks_like_image(data: bytes) -> bool:
    """True when ``data`` starts with a JPEG, PNG, BMP, TIFF or WebP signature."""
    return any(data.startswith(sig) for sig in _SIGNATURES)


def pack_images(blobs: list[bytes]) -> np.ndarray:
    """Encoded images as one uint8 [n, longest] array, zero-padded (decoders ignore it)."""
    if not blobs:
        raise ClientError("no image to send")
    packed = np.zeros((len(blobs), max(len(b) for b in blobs)), np.uint8)
    for row, blob in zip(packed, blobs, strict=True):
        row[:len(blob)] = np.frombuffer(blob, np.uint8)
    return packed


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of float logits."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


class TritonClient:
    """One connection to a Triton server; ``protocol`` is ``"http"`` or ``"grpc"``.

    ``url`` is ``host:port`` (HTTP 8000, gRPC 8001 on the NGC container; the embedded
    server's ``http_address`` / ``grpc_address``).
    """

    def __init__(self, url: str, protocol: str = "grpc", *, timeout_s: float = 30.0):
        if protocol == "http":
            import tritonclient.http as module
        elif protocol == "grpc":
            import tritonclient.grpc as module
        else:
            raise ClientError(f"protocol '{protocol}' is not 'http' or 'grpc'")
        from tritonclient.utils import InferenceServerException

        self.url, self.protocol, self.timeout_s = url, protocol, timeout_s
        self._module, self._server_error = module, InferenceServerException
        self._client = (module.InferenceServerClient(url, connection_timeout=timeout_s,
                                                     network_timeout=timeout_s)
                        if protocol == "http" else module.InferenceServerClient(url))
        self._metadata: dict[str, dict] = {}

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> TritonClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, what: str, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except self._server_error as exc:
            text = exc.message() or str(exc)
            if "UNAVAILABLE" in str(exc.status()) or "failed to connect" in text.lower():
                raise ClientError(f"{what}: cannot reach Triton at {self.url} "
                                  f"({self.protocol}): {text}; is the server running?") from exc
            raise _Refused(f"{what} failed at {self.url} ({self.protocol}): {text}") from exc
        except Exception as exc:  # noqa: BLE001 - connection errors differ per protocol
            raise ClientError(f"{what}: cannot reach Triton at {self.url} ({self.protocol}): "
                              f"{exc}; is the server running?") from exc

    def _deadline(self) -> dict:
        """gRPC takes a deadline per call; HTTP's network timeout is set on the client."""
        return {"client_timeout": self.timeout_s} if self.protocol == "grpc" else {}

    def is_ready(self) -> bool:
        """The server's /v2/health/ready."""
        try:
            return bool(self._client.is_server_ready())
        except Exception:  # noqa: BLE001
            return False

    def models(self) -> list[str]:
        """Names of the models the server has loaded and ready."""
        index = self._call("listing models", self._client.get_model_repository_index)
        if self.protocol == "grpc":
            index = [{"name": m.name, "state": m.state} for m in index.models]
        return sorted({m["name"] for m in index if m.get("state") == "READY"})

    def metadata(self, model: str) -> dict:
        """``{"inputs": [{name, datatype, shape}], "outputs": [...], "max_batch_size"}``."""
        if model not in self._metadata:
            served = self.models()
            if model not in served:
                raise ClientError(f"model '{model}' is not served at {self.url} "
                                  f"(ready: {', '.join(served) or 'none'})")
            meta = self._call(f"metadata of '{model}'", self._client.get_model_metadata, model)
            config = self._call(f"config of '{model}'", self._client.get_model_config, model)
            if self.protocol == "grpc":
                from google.protobuf import json_format

                meta = json_format.MessageToDict(meta, preserving_proto_field_name=True)
                config = json_format.MessageToDict(config.config,
                                                   preserving_proto_field_name=True)
            self._metadata[model] = {
                "inputs": [{"name": t["name"], "datatype": t["datatype"],
                            "shape": [int(d) for d in t["shape"]]} for t in meta["inputs"]],
                "outputs": [{"name": t["name"], "datatype": t["datatype"],
                             "shape": [int(d) for d in t["shape"]]} for t in meta["outputs"]],
                "max_batch_size": int(config.get("max_batch_size", 0)),
            }
        return self._metadata[model]

    def _check_tensor(self, model: str, name: str, array: np.ndarray) -> None:
        meta = self.metadata(model)
        spec = next((t for t in meta["inputs"] if t["name"] == name), None)
        if spec is None:
            raise ClientError(f"model '{model}' has no input '{name}' (inputs: "
                              f"{', '.join(t['name'] for t in meta['inputs'])})")
        dtype = _NP_TO_TRITON.get(str(array.dtype), str(array.dtype))
        if dtype != spec["datatype"]:
            raise ClientError(f"input '{name}' of '{model}' has dtype {dtype}; expected "
                              f"{spec['datatype']} (convert with .astype(...))")
        expected = spec["shape"]
        if len(expected) != array.ndim or any(e not in (-1, g)
                                               for e, g in zip(expected, array.shape,
                                                               strict=True)):
            raise ClientError(f"input '{name}' of '{model}' has shape {list(array.shape)}; "
                              f"expected {expected} (-1: any size, the first is the batch)")
        limit = meta["max_batch_size"]
        if limit and array.shape[0] > limit:
            raise ClientError(f"a batch of {array.shape[0]} is larger than '{model}''s "
                              f"max_batch_size {limit}; send at most {limit} per request")

    def infer(self, model: str, inputs: dict[str, np.ndarray], outputs: list[str],
              *, check: bool = True) -> dict[str, np.ndarray]:
        """One request: ``{input name: array}`` in, ``{output name: array}`` out."""
        request = []
        for name, array in inputs.items():
            if check:
                self._check_tensor(model, name, array)
            dtype = _NP_TO_TRITON.get(str(array.dtype), str(array.dtype))
            tensor = self._module.InferInput(name, list(array.shape), dtype)
            tensor.set_data_from_numpy(array)
            request.append(tensor)
        wanted = [self._module.InferRequestedOutput(name) for name in outputs]
        result = self._call(f"inference on '{model}'", self._client.infer, model, request,
                            outputs=wanted, **self._deadline())
        return {name: result.as_numpy(name) for name in outputs}

    def classify(self, images: list[str | Path | bytes], *, model: str = "pipeline",
                 batch_size: int | None = None) -> list[Prediction]:
        """Top-1 class and softmax score for each image file or bytes, in order.

        Uses Triton's classification extension (``class_count`` = every class), which
        returns ``"logit:index:label"`` strings with the labels from the model's
        labels.txt, so the client needs no copy of the class list. ``batch_size`` (>= 1)
        is images per request; default the model's ``max_batch_size``.

        A batch the server refuses (a truncated or corrupt image fails the whole request)
        is sent again one image at a time; when any image still fails, ``ImageErrors``
        names each bad one and carries the predictions for the rest.
        """
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ClientError(f"batch_size {batch_size!r} is not a positive integer; pass "
                              f"1 or more, or None for the model's max_batch_size")
        blobs, names = [], []
        for i, image in enumerate(images):
            data = image if isinstance(image, bytes) else Path(image).read_bytes()
            name = f"bytes #{i}" if isinstance(image, bytes) else str(image)
            if not looks_like_image(data):
                raise ClientError(f"{name} is not an encoded image (starts with "
                                  f"{data[:8]!r}); send JPEG, PNG, BMP, TIFF or WebP files")
            blobs.append(data)
            names.append(name)
        meta = self.metadata(model)
        limit = batch_size or meta["max_batch_size"] or 1
        predictions: list[Prediction | None] = []
        failed: list[tuple[str, str]] = []
        for start in range(0, len(blobs), limit):
            chunk = blobs[start:start + limit]
            try:
                predictions += self._classify_batch(model, chunk)
                continue
            except _Refused:
                pass
            for offset, blob in enumerate(chunk):  # find the image(s) that broke the batch
                try:
                    predictions += self._classify_batch(model, [blob])
                except _Refused as exc:
                    predictions.append(None)
                    failed.append((names[start + offset], str(exc)))
        if failed:
            raise ImageErrors(predictions, failed)
        return predictions  # type: ignore[return-value]

    def _classify_batch(self, model: str, blobs: list[bytes]) -> list[Prediction]:
        """One request to ``model`` with these encoded images."""
        meta = self.metadata(model)
        spec, output = meta["inputs"][0], meta["outputs"][0]
        classes = output["shape"][-1]
        packed = pack_images(blobs)
        self._check_tensor(model, spec["name"], packed)
        tensor = self._module.InferInput(spec["name"], list(packed.shape), "UINT8")
        tensor.set_data_from_numpy(packed)
        wanted = self._module.InferRequestedOutput(output["name"], class_count=classes)
        result = self._call(f"inference on '{model}'", self._client.infer, model,
                            [tensor], outputs=[wanted], **self._deadline())
        predictions = []
        for row in result.as_numpy(output["name"]).reshape(len(packed), classes):
            logits, labels = np.zeros(classes), [""] * classes
            for entry in row:
                value, index, *label = entry.decode().split(":", 2)
                logits[int(index)] = float(value)
                labels[int(index)] = label[0] if label else index
            probs = softmax(logits)
            index = int(probs.argmax())
            predictions.append(Prediction(labels[index], index, float(probs[index])))
        return predictions

    def statistics(self, model: str) -> dict:
        """Triton's cumulative statistics for ``model`` (counts; times in nanoseconds)."""
        stats = self._call(f"statistics of '{model}'", self._client.get_inference_statistics,
                           model)
        if self.protocol == "grpc":
            from google.protobuf import json_format

            stats = json_format.MessageToDict(stats, preserving_proto_field_name=True)
        entry = stats["model_stats"][0]
        inference = entry.get("inference_stats", {})

        def part(key: str) -> tuple[int, int]:
            item = inference.get(key, {})
            return int(item.get("count", 0)), int(item.get("ns", 0))

        return {"inference_count": int(entry.get("inference_count", 0)),
                "execution_count": int(entry.get("execution_count", 0)),
                **{key: part(key) for key in ("success", "fail", "queue", "compute_input",
                                              "compute_infer", "compute_output")}}
