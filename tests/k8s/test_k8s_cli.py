"""python -m labkit.k8s check: malformed files give one clear line each, exit 7, no traceback."""

from __future__ import annotations

import pytest

from labkit.k8s import check, load_documents
from labkit.k8s.__main__ import EXIT_INVALID, main

POD = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: q\nspec:\n  tolerations:\n"
       "  - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}\n  containers:\n"
       "  - name: c\n    image: busybox:1.36\n    resources:\n"
       "      limits: {nvidia.com/gpu: GPU, memory: 1Gi}\n      requests: {cpu: 1, memory: 1Gi}\n")
# (file text, what the error line must say)
MALFORMED = [
    pytest.param("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   bad: [\n",
                 "bad.yaml, line 5: YAML syntax error: mapping values are not allowed here; fix "
                 "the YAML", id="yaml-syntax"),
    pytest.param("a: 1\n---\nb: [1\n", "bad.yaml#1, line 4: YAML syntax error: while parsing a "
                 "flow sequence", id="yaml-syntax-second-document"),
    pytest.param("- apiVersion: v1\n  kind: Pod\n", "bad.yaml: document 0: <root>: the document "
                 "is a list, not a mapping", id="list-document"),
    pytest.param("just text\n", "bad.yaml: document 0: <root>: the document is a string, not a "
                 "mapping", id="string-document"),
    pytest.param("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: 5\n",
                 "bad.yaml: Pod/p: spec.containers: 5 is not of type 'array' (see: kubectl "
                 "explain pod.spec.containers)", id="wrong-field-type"),
    pytest.param("", "bad.yaml: holds no YAML document (empty, or only comments); add a "
                 "manifest or remove the file", id="empty-file"),
    pytest.param("apiVersion: 1\nkind: [Pod]\n", "bad.yaml: ['Pod']/?: apiVersion: 1 is not a string",
                 id="non-string-kind"),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED)
def test_check_reports_malformed_files(tmp_path, capsys, text, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    assert main(["check", str(bad)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert f"error: {tmp_path}/{message}" in err
    assert "Traceback" not in err


def test_a_bad_file_does_not_stop_the_others(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text("key: [\n")
    (tmp_path / "b.yaml").write_text(POD.replace("GPU", "1"))
    found = check(tmp_path)
    assert [type(f).__name__ for f in found][:1] == ["ManifestError"]
    assert any(str(f).startswith(f"{tmp_path}/b.yaml: Pod/q: ") for f in found[1:])


def test_load_documents_raises_without_an_error_list(tmp_path):
    (tmp_path / "x.yaml").write_text("key: [\n")
    with pytest.raises(ValueError, match=r"x\.yaml, line 2: YAML syntax error"):
        load_documents(tmp_path / "x.yaml")


def test_invalid_quantity_is_a_finding_and_checking_continues(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text(POD.replace("GPU", "abc"))
    (tmp_path / "b.yaml").write_text(POD.replace("GPU", "1").replace("name: q", "name: r")
                                     .replace("cpu: 1, ", ""))
    assert main(["check", str(tmp_path)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert (f"error: {tmp_path}/a.yaml: Pod/q: spec.containers[0].resources.limits"
            "[nvidia.com/gpu]: Invalid value: \"abc\": quantity 'abc' is not a Kubernetes "
            "quantity (examples: 1, 500m, 16Gi, 1e3) [quantity]") in err
    assert f"{tmp_path}/b.yaml: Pod/r: spec.containers[0].resources: container 'c' does not " \
           "set requests.cpu" in err


def test_files_sorts_manifests_from_helm_values(tmp_path, capsys):
    (tmp_path / "pod.yaml").write_text(POD.replace("GPU", "1"))
    (tmp_path / "values.yaml").write_text("migStrategy: none\n")
    assert main(["files", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"manifest\t{tmp_path}/pod.yaml",
                                                    f"helm-values\t{tmp_path}/values.yaml"]


def test_an_unknown_model_is_a_usage_error_naming_the_catalog(capsys):
    from labkit.mig.catalog import model_names

    with pytest.raises(SystemExit) as exit_:
        main(["check", "manifests/k8s", "--model", "H100"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--model: unknown GPU model 'H100'" in err and "Traceback" not in err
    assert all(name in err for name in model_names())
