"""labkit.k8s.plan: apply-manifests.sh run offline, its report parsed (Lab 04, exercise 5)."""

import yaml

from labkit.k8s.manifests import _gpu_pod
from labkit.k8s.plan import apply_plan

TOLERATE = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_clean_folder_is_planned_offline(tmp_path):
    (tmp_path / "pod.yaml").write_text(yaml.safe_dump(_gpu_pod("p", tolerations=TOLERATE)))
    plan = apply_plan(tmp_path)
    assert plan.accepted and plan.returncode == 0
    assert (plan.errors, plan.warnings) == ([], [])
    assert plan.applied_names() == ["pod.yaml"]
    assert plan.applies == [str(tmp_path / "pod.yaml")]
    assert "OFFLINE" in plan.output


def test_errors_and_warnings_are_read_and_nothing_is_planned(tmp_path):
    pod = _gpu_pod("p")  # no toleration: a lint error
    del pod["spec"]["containers"][0]["securityContext"]  # restricted: warnings
    (tmp_path / "pod.yaml").write_text(yaml.safe_dump(pod))
    plan = apply_plan(tmp_path)
    assert plan.returncode == 7 and not plan.accepted
    assert any("[gpu-toleration]" in e for e in plan.errors)
    assert any("[restricted]" in w for w in plan.warnings)
    assert plan.applies == []


def test_mig_names_follow_model_and_a_second_run_is_cached(tmp_path):
    pod = _gpu_pod("p", resource="nvidia.com/mig-3g.20gb", tolerations=TOLERATE)
    (tmp_path / "pod.yaml").write_text(yaml.safe_dump(pod))
    plan = apply_plan(tmp_path, model="H100-SXM5-80GB", strategy="mixed")
    assert any("[mig-resource]" in e for e in plan.errors)
    assert apply_plan(tmp_path, model="H100-SXM5-80GB", strategy="mixed") is plan
    assert "--model H100-SXM5-80GB --strategy mixed" in plan.describe()
