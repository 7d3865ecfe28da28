"""A Triton model repository read back without Triton: its config.pbtxt parsed, its model run by onnxruntime.

There is no tritonserver (and no Triton proto for protobuf's text_format) on the test machines, so
`read_pbtxt` is a small reader of the protobuf text format, and `FakeTritonHttp` stands in for the
`tritonclient.http` module Ultralytics imports: it answers `get_model_config` with the JSON Triton would
build from config.pbtxt, and `infer` checks each request against that configuration the way the
server does (names, dtype, rank, dims, batch size) before running `1/model.onnx` with onnxruntime.
"""

from __future__ import annotations

import importlib.machinery
import re
import types
from pathlib import Path
from typing import Any

import numpy as np

_TOKEN = re.compile(r'\s*(?:#[^\n]*\n?\s*)*("(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"#]+)')
_NUMPY = {"TYPE_FP32": np.float32, "TYPE_FP16": np.float16, "TYPE_UINT8": np.uint8, "TYPE_INT64": np.int64}


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            break
        out.append(match.group(1))
        pos = match.end()
    if text[pos:].strip() and not text[pos:].strip().startswith("#"):
        raise ValueError(f"cannot read config.pbtxt at {text[pos:pos + 40]!r}")
    return out


def _scalar(token: str) -> object:
    if token.startswith('"'):
        return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), token[1:-1])
    if re.fullmatch(r"-?\d+", token):
        return int(token)
    return token  # an enum (TYPE_FP32, KIND_GPU) or true/false


def read_pbtxt(text: str) -> dict[str, list[Any]]:
    """Fields to lists of values (every field may repeat); messages become dicts of the same kind."""
    tokens = _tokens(text)
    pos = 0

    def value() -> object:
        nonlocal pos
        token = tokens[pos]
        pos += 1
        if token == "{":
            return message("}")
        if token == "[":
            items: list[object] = []
            while tokens[pos] != "]":
                items.append(value())
                pos += 1 if tokens[pos] == "," else 0
            pos += 1
            return items
        return _scalar(token)

    def message(end: str | None) -> dict[str, list[Any]]:
        nonlocal pos
        fields: dict[str, list[Any]] = {}
        while pos < len(tokens) and tokens[pos] != end:
            name = tokens[pos]
            pos += 1
            if tokens[pos] == ":":
                pos += 1
            found = value()
            fields.setdefault(name, []).extend(found if isinstance(found, list) and name != "dims" else [found])
        pos += 1
        return fields

    return message(None)


def config_json(config: dict[str, list[Any]]) -> dict[str, Any]:
    """The model configuration as Triton's HTTP API returns it (GET /v2/models/NAME/config)."""

    def tensor(t: dict[str, list[Any]]) -> dict[str, Any]:
        return {"name": t["name"][0], "data_type": t["data_type"][0], "dims": list(t["dims"][0])}

    parameters = {p["key"][0]: {"string_value": p["value"][0]["string_value"][0]} for p in config.get("parameters", [])}
    return {"name": config["name"][0], "max_batch_size": config["max_batch_size"][0],
            "input": [tensor(t) for t in config["input"]], "output": [tensor(t) for t in config["output"]],
            "parameters": parameters}


class FakeTritonHttp:
    """`tritonclient.http` for one repository; `requests` counts the batch size of every request served."""

    def __init__(self, repository: Path) -> None:
        self.repository = repository
        self.requests: list[int] = []
        fake = self

        class InferInput:
            def __init__(self, name: str, shape: list[int], datatype: str) -> None:
                self.name, self.shape, self.datatype, self.data = name, shape, datatype, None

            def set_data_from_numpy(self, array: np.ndarray) -> None:
                self.data = array

        class InferRequestedOutput:
            def __init__(self, name: str) -> None:
                self.name = name

        class InferenceServerClient:
            def __init__(self, url: str, verbose: bool = False, ssl: bool = False) -> None:
                self.url = url

            def get_model_config(self, model_name: str) -> dict[str, Any]:
                return config_json(fake.config(model_name))

            def infer(self, model_name: str, inputs: list[InferInput], outputs: list[InferRequestedOutput]) -> Any:
                return fake.infer(model_name, inputs, outputs)

        self.module = types.ModuleType("tritonclient.http")
        self.module.__spec__ = importlib.machinery.ModuleSpec("tritonclient.http", None)
        self.module.InferInput = InferInput  # type: ignore[attr-defined]
        self.module.InferRequestedOutput = InferRequestedOutput  # type: ignore[attr-defined]
        self.module.InferenceServerClient = InferenceServerClient  # type: ignore[attr-defined]
        self._sessions: dict[str, Any] = {}

    def config(self, model_name: str) -> dict[str, list[Any]]:
        return read_pbtxt((self.repository / model_name / "config.pbtxt").read_text(encoding="utf-8"))

    def infer(self, model_name: str, inputs: list[Any], outputs: list[Any]) -> Any:
        import onnxruntime

        config = config_json(self.config(model_name))
        batched = config["max_batch_size"] > 0
        declared = {t["name"]: t for t in config["input"]}
        feed = {}
        for given in inputs:
            t = declared[given.name]  # KeyError: an input the model does not have
            shape = list(given.data.shape)
            assert given.datatype == t["data_type"].removeprefix("TYPE_"), (given.datatype, t)
            assert given.data.dtype == _NUMPY[t["data_type"]], given.data.dtype
            dims = shape[1:] if batched else shape
            fits = len(dims) == len(t["dims"]) and all(d in (-1, s) for d, s in zip(t["dims"], dims, strict=True))
            assert fits, f"request shape {shape} does not fit dims {t['dims']} (max_batch {config['max_batch_size']})"
            if batched:
                assert 1 <= shape[0] <= config["max_batch_size"], f"batch {shape[0]} > {config['max_batch_size']}"
            feed[given.name] = given.data
        self.requests.append(len(next(iter(feed.values()))))
        if model_name not in self._sessions:
            path = str(self.repository / model_name / "1" / "model.onnx")
            self._sessions[model_name] = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        names = [o.name for o in outputs]
        results = dict(zip(names, self._sessions[model_name].run(names, feed), strict=True))
        return types.SimpleNamespace(as_numpy=results.__getitem__)
