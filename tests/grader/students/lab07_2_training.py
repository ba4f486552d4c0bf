"""Adversarial students for Lab 07 part 2 (07-2-training.ipynb)."""

from labkit.course.audit import Student

NOTEBOOK = "07-pipeline/07-2-training.ipynb"

_EPOCH = '''
def train_one_epoch(model, loader, optimizer, loss_fn):
    {mode}
    total, seen, batch_means = 0.0, 0, []
    for images, labels in loader:
        loss = loss_fn(model(images), labels)
        {zero}
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
        seen += len(labels)
        batch_means.append(loss.item())
    return {result}
'''
_EPOCH_OK = {"mode": "model.train()", "zero": "optimizer.zero_grad()",
             "result": "total / seen if seen else 0.0"}

_EVAL = '''
def evaluate_accuracy(model, loader):
    was_training = model.training
    {enter}
    correct = total = 0
    accuracies = []
    {grad}
        for images, labels in loader:
            hits = int((model(images).argmax(dim=1) == labels).sum())
            correct += hits
            total += len(labels)
            accuracies.append(hits / len(labels))
    {leave}
    return {result}
'''
_EVAL_OK = {"enter": "model.eval()", "grad": "with torch.no_grad():",
            "leave": "model.train(was_training)", "result": "correct / total if total else 0.0"}

_RESUME = ('crashed_config = load_checkpoint(CRASH / "checkpoints" / "epoch-002.pt")["config"]\n'
           '!{{PYTHON}} {{TRAIN_PY}} --data {{crashed_config["data"]}} {options}\n')


def _epoch(**change: str) -> str:
    return _EPOCH.format(**{**_EPOCH_OK, **change})


def _eval(**change: str) -> str:
    return _EVAL.format(**{**_EVAL_OK, **change})


def _resume(options: str) -> str:
    return _RESUME.format(options=options)


STUDENTS = [
    # train_one_epoch
    Student("train_one_epoch", "shortcut", '''
def train_one_epoch(model, loader, optimizer, loss_fn):
    return train(TrainConfig(data=str(ws.data), out=str(ws.checkpoints))).history[-1]["loss"]
'''),
    Student("train_one_epoch", "naive", _epoch(mode="pass"),
            breaks="training mode", fails="test_train_one_epoch_mode"),
    Student("train_one_epoch", "naive", _epoch(zero="pass"),
            breaks="zero the gradients every step", fails="test_train_one_epoch_grads"),
    Student("train_one_epoch", "naive",
            _epoch(result="sum(batch_means) / len(batch_means) if batch_means else 0.0"),
            breaks="the loss weighted by samples", fails="test_train_one_epoch_loss"),
    Student("train_one_epoch", "raises", '''
def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    for images, labels in loader:
        loss_fn(model(images), labels).backward(optimizer)
    return 0.0
'''),
    # evaluate_accuracy
    Student("evaluate_accuracy", "shortcut", '''
def evaluate_accuracy(model, loader):
    from labkit.pipeline.train import evaluate  # private now: the import fails

    return evaluate(model, loader)["accuracy"]
'''),
    Student("evaluate_accuracy", "naive",
            _eval(result="sum(accuracies) / len(accuracies) if accuracies else 0.0"),
            breaks="accuracy weighted by samples (smaller last batch)",
            fails="test_evaluate_accuracy"),
    Student("evaluate_accuracy", "naive", _eval(grad="if True:"),
            breaks="no gradients", fails="test_evaluate_accuracy_no_grad"),
    Student("evaluate_accuracy", "naive", _eval(leave="model.train()"),
            breaks="restore the mode the model was in", fails="test_evaluate_accuracy_modes"),
    Student("evaluate_accuracy", "naive", _eval(enter="pass"),
            breaks="evaluation mode", fails="test_evaluate_accuracy_modes"),
    Student("evaluate_accuracy", "raises", '''
def evaluate_accuracy(model, loader):
    model.eval()
    correct = sum(int((model(x).argmax(1) == y).sum()) for x, y in loader)
    return correct / len(loader.dataset)
'''),
    # resume_crashed_run (operated: train.py on the crashed workspace)
    Student("resume_crashed_run", "shortcut", '''
result = ensure_model(ws, profile, seed=SEED, progress=False)
''', setup="reset_crash()"),
    Student("resume_crashed_run", "naive",
            _resume('--out {CRASH / "checkpoints"} --epochs 4 --size 32 --batch-size 16 '
                    '--no-export'),
            breaks="resume in the crashed run's workspace", fails="test_resume_finished",
            setup="reset_crash()"),
    Student("resume_crashed_run", "naive",
            _resume("--out {CRASH} --epochs 4 --no-export"),
            breaks="the crashed run's size and batch size", fails="test_resume_settings",
            setup="reset_crash()"),
    Student("resume_crashed_run", "raises", '''
crashed_config = load_checkpoint(CRASH / "epoch-002.pt")["config"]
''', setup="reset_crash()"),
]

# ddp_run (operated: train.py under torchrun, two CPU ranks; checks read DDP/checkpoints)
_TORCHRUN = '!{TORCHRUN} --standalone --nproc_per_node=2 {TRAIN_PY} '
_DDP_OK = "--out {DDP} --data {SMALL} --size 32 --device cpu --no-export"

STUDENTS += [
    Student("ddp_run", "shortcut", '''
train(TrainConfig(data=str(SMALL), out=str(DDP / "checkpoints"), epochs=1, size=32,
                  batch_size=16), progress=False)
''', setup="reset_ddp()"),
    Student("ddp_run", "naive",
            "!{PYTHON} {TRAIN_PY} " + _DDP_OK + " --epochs 1 --batch-size 8\n",
            breaks="two ranks (python instead of torchrun)", fails="test_ddp_ranks",
            setup="reset_ddp()"),
    Student("ddp_run", "naive", _TORCHRUN + _DDP_OK + " --epochs 1 --batch-size 16\n",
            breaks="a global batch of 16 (--batch-size is per rank)",
            fails="test_ddp_global_batch", setup="reset_ddp()"),
    Student("ddp_run", "naive", _TORCHRUN + _DDP_OK + " --epochs 2 --batch-size 8\n",
            breaks="one epoch", fails="test_ddp_one_epoch", setup="reset_ddp()"),
    Student("ddp_run", "raises", '''
options = "--data " + SMALL + " --out " + DDP
!{TORCHRUN} --standalone --nproc_per_node=2 {TRAIN_PY} {options} --epochs 1
''', setup="reset_ddp()"),
]

# client_onnx (torch.onnx.export with the client's names, a dynamic batch and a softmax)
_ONNX = '''
model, _ = load_model(CHECKPOINT)
model = {wrap}
torch.onnx.export(model, (torch.zeros(2, 3, SIZE, SIZE),), str(CLIENT_ONNX), {dynamo}
                  input_names=["{inp}"], output_names=["{out}"], {axes})
'''
_ONNX_OK = {"wrap": "torch.nn.Sequential(model, torch.nn.Softmax(dim=1)).eval()",
            "dynamo": "dynamo=False,", "inp": "pixels", "out": "probabilities",
            "axes": 'dynamic_axes={"pixels": {0: "batch"}, "probabilities": {0: "batch"}}'}
_CLEAN_ONNX = "CLIENT_ONNX.unlink(missing_ok=True)"


def _onnx(**change: str) -> str:
    return _ONNX.format(**{**_ONNX_OK, **change})


STUDENTS += [
    Student("client_onnx", "shortcut", '''
shutil.copy(ensure_onnx(ws, profile, seed=SEED)["onnx"], CLIENT_ONNX)
''', setup=_CLEAN_ONNX),
    Student("client_onnx", "naive",
            _onnx(inp="images", out="logits",
                  axes='dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}}'),
            breaks="the client's input and output names", fails="test_client_onnx_names",
            setup=_CLEAN_ONNX),
    Student("client_onnx", "naive", _onnx(axes=""),
            breaks="a dynamic batch axis", fails="test_client_onnx_batch", setup=_CLEAN_ONNX),
    Student("client_onnx", "naive", _onnx(wrap="model"),
            breaks="probabilities (no softmax in the graph)", fails="test_client_onnx_parity",
            setup=_CLEAN_ONNX),
    Student("client_onnx", "naive",
            _onnx(wrap="torch.nn.Sequential(model, torch.nn.Softmax(dim=0)).eval()"),
            breaks="the softmax over the classes (dim=0 is the batch)",
            fails="test_client_onnx_parity", setup=_CLEAN_ONNX),
    Student("client_onnx", "naive",
            _onnx(wrap="torch.nn.Sequential(ShapesNet(len(_['classes'])), "
                       "torch.nn.Softmax(dim=1)).eval()"),
            breaks="the trained model (a fresh ShapesNet exported)",
            fails="test_client_onnx_parity", setup=_CLEAN_ONNX),
    Student("client_onnx", "raises", _onnx(dynamo=""), setup=_CLEAN_ONNX),
]
