"""Adversarial students for Lab 07 part 1 (07-1-etl-dali.ipynb)."""

from labkit.course.audit import Student

NOTEBOOK = "07-pipeline/07-1-etl-dali.ipynb"

_PIPE = '''
from nvidia.dali import fn, pipeline_def, types


def build_pipeline(files, labels, *, batch_size, size, device_id=None):
    @pipeline_def(batch_size=batch_size, num_threads={threads}, device_id=device_id)
    def pipe():
        jpegs, labs = fn.readers.file(files=[str(f) for f in files], labels={labels},
                                      random_shuffle={shuffle}, name={name})
        images = fn.decoders.image(jpegs, device={device}, output_type=types.RGB)
        images = fn.resize(images, resize_x=size, resize_y=size)
        images = fn.crop_mirror_normalize(images, dtype=types.FLOAT, output_layout={layout},
                                          mean={mean}, std={std}, mirror={mirror})
        return images, labs

    return pipe()
'''
_OK = {"threads": "2", "labels": "list(labels)", "shuffle": "False", "name": '"Reader"',
       "device": '"cpu" if device_id is None else "mixed"', "layout": '"CHW"',
       "mean": "list(etl.MEAN)", "std": "list(etl.STD)", "mirror": "0"}


def _pipe(**change: str) -> str:
    return _PIPE.format(**{**_OK, **change})


STUDENTS = [
    # build_pipeline
    Student("build_pipeline", "shortcut", '''
def build_pipeline(files, labels, *, batch_size, size, device_id=None):
    folder = etl.ImageFolder(None, [], list(files), list(labels))
    return etl.dali_loader(folder, batch_size=batch_size, size=size, train=False)
'''),
    Student("build_pipeline", "naive", _pipe(layout='"HWC"'),
            breaks="CHW layout", fails="test_build_pipeline"),
    Student("build_pipeline", "naive", _pipe(name='"files"'),
            breaks="the reader is named 'Reader'", fails="test_build_pipeline"),
    Student("build_pipeline", "naive", _pipe(shuffle="True"),
            breaks="files in the given order (no shuffling)", fails="test_build_pipeline_order"),
    Student("build_pipeline", "naive", _pipe(labels="[0] * len(files)"),
            breaks="the labels as given", fails="test_build_pipeline_order"),
    Student("build_pipeline", "naive", _pipe(mirror="fn.random.coin_flip(probability=0.5)"),
            breaks="no mirroring", fails="test_build_pipeline_images"),
    Student("build_pipeline", "naive", _pipe(mean="[0.485, 0.456, 0.406]",
                                             std="[0.229, 0.224, 0.225]"),
            breaks="MEAN and STD in 0-255 units", fails="test_build_pipeline_images"),
    Student("build_pipeline", "naive", _pipe(device='"cpu"'),
            breaks="mixed decoding with a device_id", fails="test_build_pipeline_device"),
    Student("build_pipeline", "raises", '''
from nvidia.dali import fn, pipeline_def, types


def build_pipeline(files, labels, *, batch_size, size, device_id=None):
    @pipeline_def(batch_size=batch_size, num_threads=2, device_id=device_id)
    def pipe():
        jpegs, labs = fn.readers.file(files=files, labels=labels, name="Reader")
        return fn.decoders.image(jpegs, device="cpu").resize(size), labs

    return pipe()
'''),
    # grey_levels
    Student("grey_levels", "shortcut", '''
def grey_levels(a, b):
    return float(np.abs(np.asarray(a) - np.asarray(b)).mean() / grey_level)
'''),
    Student("grey_levels", "naive", '''
def grey_levels(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError("shapes differ")
    return float(np.abs(a - b).mean() * etl.STD[0])
''', breaks="each channel scaled by its own std", fails="test_grey_levels"),
    Student("grey_levels", "naive", '''
def grey_levels(a, b):
    std = np.asarray(etl.STD).reshape(1, 3, 1, 1)
    return float((np.abs(np.asarray(a) - np.asarray(b)) * std).mean())
''', breaks="ValueError when the shapes differ", fails="test_grey_levels_shapes"),
    Student("grey_levels", "raises", '''
def grey_levels(a, b):
    return float((abs(a - b) * np.asarray(etl.STD)).mean())
'''),
    # cores_needed
    Student("cores_needed", "shortcut", '''
import math
import statistics

GPU_IMG_S = 20_000


def cores_needed(gpu_img_s, dali_runs, threads):
    return round(gpu_img_s / result["dali_img_s"])
'''),
    Student("cores_needed", "naive", '''
import math
import statistics

GPU_IMG_S = 20_000


def cores_needed(gpu_img_s, dali_runs, threads):
    return round(gpu_img_s / (statistics.median(dali_runs) / threads))
''', breaks="round up to a whole thread", fails="test_cores_needed"),
    Student("cores_needed", "naive", '''
import math
import statistics

GPU_IMG_S = 20_000


def cores_needed(gpu_img_s, dali_runs, threads):
    return math.ceil(gpu_img_s / (statistics.mean(dali_runs) / threads))
''', breaks="the median of the rounds", fails="test_cores_needed_median"),
    Student("cores_needed", "raises", '''
import math
import statistics

GPU_IMG_S = 20_000


def cores_needed(gpu_img_s, dali_runs, threads):
    return math.ceil(gpu_img_s / statistics.median(dali_runs.values()) * threads)
'''),
]
