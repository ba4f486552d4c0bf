"""Adversarial students for Lab 00 (00-environment-check.ipynb): a shortcut, a naive answer
per stated requirement, and an answer that raises, for every exercise."""

from labkit.course.audit import Student

NOTEBOOK = "00-environment/00-environment-check.ipynb"

# Operated exercise: each replay starts from a fresh one-A100 node and no answer.
_NODE = ('run([*LABKIT, "sim", "reset", "--gpu", "A100-SXM4-40GB"], show=False)\n'
         "FREE_GPU1_MIB = None\n")
_RESET = 'run([*LABKIT, "sim", "reset", "--gpu", "A100-SXM4-40GB", "--gpu", "H100-SXM5-80GB"])\n'
_HOLD = 'run([*LABKIT, "sim", "hold", "--gpu", "1", "--name", "trainer", "--memory", "65536"])\n'
_READ = '''out = run("nvidia-smi --query-gpu=index,memory.free --format=csv,noheader,nounits",
          env=SIM_PATH).stdout
FREE_GPU1_MIB = int(out.splitlines()[1].split(",")[1])
'''

# Exercise 1's careful parser (a name split off from both ends), with one choice varied per
# naive student: how lines are split, which lines are skipped, how a number is read.
def _parser(lines="text.splitlines()",
            skip='not line.strip() or line.strip() == "No devices were found"', num="int(v)"):
    return f'''
def parse_gpu_csv(text):
    out = []
    for line in {lines}:
        if {skip}:
            continue
        index, rest = line.split(",", 1)
        name, total, used, util = rest.rsplit(",", 3)
        num = lambda v: None if v.strip() == "[N/A]" else {num}
        out.append({{"index": int(index), "name": name.strip(), "memory_total_mib": num(total),
                    "memory_used_mib": num(used), "utilization_gpu": num(util)}})
    return out
'''


STUDENTS = [
    # Exercise 1: parse_gpu_csv
    Student("parse_gpu_csv", "shortcut", '''
def parse_gpu_csv(text):  # the inventory labkit already has, whatever the text says
    return [{"index": g.index, "name": g.name, "memory_total_mib": g.memory_total_mib,
             "memory_used_mib": g.memory_used_mib, "utilization_gpu": g.utilization_gpu}
            for g in env.gpus]
'''),
    Student("parse_gpu_csv", "naive", '''
def parse_gpu_csv(text):
    out = []
    for line in text.splitlines():
        if not line.strip() or line.strip() == "No devices were found":
            continue
        i, name, total, used, util = [f.strip() for f in line.split(",")]
        out.append({"index": int(i), "name": name, "memory_total_mib": int(total),
                    "memory_used_mib": int(used), "utilization_gpu": int(util)})
    return out
''', breaks="[N/A] becomes None", fails="test_parse_gpu_csv_na"),
    Student("parse_gpu_csv", "naive", '''
def parse_gpu_csv(text):
    out = []
    for line in text.splitlines():
        if not line.strip() or line.strip() == "No devices were found":
            continue
        f = line.replace(",", " ").split()
        num = lambda v: None if v == "[N/A]" else int(v)
        out.append({"index": int(f[0]), "name": f[1], "memory_total_mib": num(f[-3]),
                    "memory_used_mib": num(f[-2]), "utilization_gpu": num(f[-1])})
    return out
''', breaks="names with spaces", fails="test_parse_gpu_csv"),
    Student("parse_gpu_csv", "naive", _parser(skip="not line.strip()"),
            breaks="'No devices were found' gives []", fails="test_parse_gpu_csv_empty"),
    Student("parse_gpu_csv", "naive",  # the cold review's parser: right values, float numbers
            _parser(num="float(v)"), breaks="numbers as int", fails="test_parse_gpu_csv"),
    Student("parse_gpu_csv", "naive",  # Linux line ends only: a CRLF line keeps its '\\r'
            _parser(lines='text.split("\\n")', skip='not line or line == "No devices were found"'),
            breaks="CRLF line ends (nvidia-smi.exe)", fails="test_parse_gpu_csv_empty"),
    Student("parse_gpu_csv", "raises", '''
def parse_gpu_csv(text):
    return [int(line) for line in text.splitlines()]
'''),
    # Exercise 2: free_memory_mib
    Student("free_memory_mib", "shortcut", '''
def free_memory_mib(records):  # labkit's own free memory of this node's GPUs
    return {g.index: g.memory_free_mib for g in env.gpus}
'''),
    Student("free_memory_mib", "naive", '''
def free_memory_mib(records):
    return {i: r["memory_total_mib"] - r["memory_used_mib"] for i, r in enumerate(records)}
''', breaks="keyed by the GPU's index, not its position", fails="test_free_memory_mib"),
    Student("free_memory_mib", "naive", '''
def free_memory_mib(records):
    return {r["index"]: (r["memory_total_mib"] or 0) - (r["memory_used_mib"] or 0)
            for r in records}
''', breaks="None when a number is unknown", fails="test_free_memory_mib_unknown"),
    Student("free_memory_mib", "naive", '''
def free_memory_mib(records):  # the cold review's answer: None only when the total is unknown
    return {r["index"]: None if r["memory_total_mib"] is None
            else r["memory_total_mib"] - r["memory_used_mib"] for r in records}
''', breaks="None when the used memory is unknown", fails="test_free_memory_mib_unknown"),
    Student("free_memory_mib", "raises", '''
def free_memory_mib(records):
    return {r["gpu"]: 0 for r in records}
'''),
    # Exercise 3: which chip does the work (WHERE)
    Student("where_it_runs", "shortcut", '''
WHERE = {task: "GPU" if lab.env.gpus else "CPU" for task in TASKS}
''', setup="WHERE = None\n"),
    Student("where_it_runs", "shortcut", '''
import re  # the cold review's shortcut: evaluate what the visible checks compare where[task] with
WHERE = {task: "CPU" for task in TASKS}
for _src in In:  # the test cells, as the kernel ran them
    for _tasks, _expr in re.findall(r"for task in (\\(.*?\\)):\\s*check\\(where\\[task\\] == (.*),\\n",
                                    _src):
        for task in eval(_tasks):
            WHERE[task] = eval(_expr)
''', setup="WHERE = None\n"),
    Student("where_it_runs", "naive", '''
WHERE = {"gemm": "GPU", "attention": "GPU", "train_loop": "GPU", "kubelet": "CPU",
         "ipsec": "DPU", "firewall": "DPU", "nvme_emulation": "DPU"}
''', breaks="the code that launches GPU work stays on the CPU", fails="test_where_compute",
            setup="WHERE = None\n"),
    Student("where_it_runs", "naive", '''
WHERE = {"gemm": "GPU", "attention": "GPU", "train_loop": "CPU", "kubelet": "CPU",
         "ipsec": "CPU", "firewall": "CPU", "nvme_emulation": "CPU"}
''', breaks="data-path infrastructure goes to the DPU", fails="test_where_dpu",
            setup="WHERE = None\n"),
    Student("where_it_runs", "raises", '''
WHERE = {task: CHIP_OF[task] for task in TASKS}
''', setup="WHERE = None\n"),
    # Exercise 4 (operated): the simulated node, checked through its state and nvidia-smi
    Student("operate_node", "shortcut", '''
out = run("nvidia-smi --query-gpu=" + ",".join(FIELDS) + " --format=csv,noheader,nounits",
          env=SIM_PATH).stdout  # the lab's own query, node left as it was
FREE_GPU1_MIB = free_memory_mib(parse_gpu_csv(out)).get(1)
''', setup=_NODE),
    Student("operate_node", "naive",
            'run([*LABKIT, "sim", "reset", "--gpu", "H100-SXM5-80GB", "--gpu", "A100-SXM4-40GB"])\n'
            + _HOLD + _READ,
            breaks="GPU 0 A100, GPU 1 H100, in that order", fails="test_node_gpus", setup=_NODE),
    Student("operate_node", "naive", _RESET + _HOLD.replace('"1", "--name"', '"0", "--name"')
            + _READ, breaks="the process runs on GPU 1", fails="test_node_process", setup=_NODE),
    Student("operate_node", "naive", _RESET + _HOLD + "FREE_GPU1_MIB = 80 * 1024 - 65536\n",
            breaks="read memory.free from nvidia-smi", fails="test_node_free", setup=_NODE),
    Student("operate_node", "raises", _RESET + 'run([*LABKIT, "sim", "hold", "--gpu", "1", '
            '"--memory", "64GiB"])\n' + _READ, setup=_NODE),
]
