"""Adversarial students for Lab 07 part 3 (07-3-serving-triton.ipynb)."""

from labkit.course.audit import Student

NOTEBOOK = "07-pipeline/07-3-serving-triton.ipynb"

_GOOD = '''name: "shapes_fast"
backend: "python"
max_batch_size: 16
input [
  { name: "images", data_type: TYPE_FP32, format: FORMAT_NCHW, dims: [ 3, 48, 48 ] }
]
output [
  { name: "logits", data_type: TYPE_FP32, dims: [ 4 ], label_filename: "labels.txt" }
]
dynamic_batching {
  max_queue_delay_microseconds: 500
  default_queue_policy { max_queue_size: 32 }
}
instance_group [ { count: 2, kind: KIND_CPU } ]
'''


def _pbtxt(text: str) -> str:
    return f'CLASSIFIER_PBTXT = """{text}"""\n'


_LOADED = "load_config(CLASSIFIER_PBTXT)"  # Exercise 3 starts from shapes_fast loaded

STUDENTS = [
    # Exercise 1: the operated config.pbtxt
    Student("classifier_pbtxt", "shortcut", '''
from labkit.pipeline.repository import DynamicBatching, classifier_config
CLASSIFIER_PBTXT = classifier_config("shapes_fast", size=48, num_classes=4, max_batch_size=16,
                                     dynamic_batching=DynamicBatching(500), instances=2).to_pbtxt()
'''),
    Student("classifier_pbtxt", "naive", _pbtxt(_GOOD.replace('"shapes_fast"', '"classifier"')),
            breaks="the model's name is its folder's (the server refuses to load it)",
            fails="test_classifier_pbtxt"),
    Student("classifier_pbtxt", "naive",
            _pbtxt(_GOOD.replace("dims: [ 3, 48, 48 ]", "dims: [ 16, 3, 48, 48 ]")),
            breaks="dims leave the batch dimension out", fails="test_classifier_pbtxt"),
    Student("classifier_pbtxt", "naive",
            _pbtxt(_GOOD.replace("format: FORMAT_NCHW, ", "")),
            breaks="the input is declared an NCHW image", fails="test_classifier_pbtxt"),
    Student("classifier_pbtxt", "naive",
            _pbtxt(_GOOD.replace("  default_queue_policy { max_queue_size: 32 }\n", "")),
            breaks="refuse new requests once 32 wait",
            fails="test_classifier_pbtxt_scheduling"),
    Student("classifier_pbtxt", "naive",
            _pbtxt(_GOOD.replace("count: 2", "count: 1")),
            breaks="two instances on the CPU", fails="test_classifier_pbtxt_scheduling"),
    Student("classifier_pbtxt", "raises", '''
CLASSIFIER_PBTXT = open("shapes_fast/config.pbtxt").read()
''', setup="CLASSIFIER_PBTXT = None"),
    # Exercise 2: average batch between two scrapes
    Student("average_batch", "shortcut", '''
def average_batch(before, after):
    m = scrape(metrics_text)["classifier"]
    return m["nv_inference_count"] / m["nv_inference_exec_count"]
'''),
    Student("average_batch", "naive", '''
def average_batch(before, after):
    return after["nv_inference_count"] / after["nv_inference_exec_count"]
''', breaks="differences between the two scrapes, not cumulative totals",
            fails="test_average_batch"),
    Student("average_batch", "naive", '''
def average_batch(before, after):
    return ((after["nv_inference_count"] - before["nv_inference_count"])
            / (after["nv_inference_exec_count"] - before["nv_inference_exec_count"]))
''', breaks="None when nothing executed", fails="test_average_batch"),
    Student("average_batch", "raises", '''
def average_batch(before, after):
    return after["count"] / before["count"]
'''),
    # Exercise 3: unload one model, keep the server
    Student("unload_model", "shortcut", '''
exercise_server.stop()
''', setup=_LOADED),
    Student("unload_model", "naive", '''
with httpclient.InferenceServerClient(exercise_server.http_address) as ctl:
    ctl.load_model("shapes_fast")
''', breaks="the model goes out of service", fails="test_unload_model", setup=_LOADED),
    Student("unload_model", "raises", '''
with httpclient.InferenceServerClient(exercise_server.http_address) as ctl:
    ctl.unload_model()
''', setup=_LOADED),
]
