# SPDX-License-Identifier: AGPL-3.0-or-later
"""The example workflows are well-formed frontend saves, and the UI -> API converter the e2e tests use.

No ComfyUI needed: FaceAnon nodes are described from their own INPUT_TYPES, other nodes by hand.
"""

import glob
import json
import os

import pytest
from conftest import ROOT
from workflow_to_api import WorkflowConversionError, is_widget, widget_slots, workflow_to_api

import faceanon

WORKFLOWS = sorted(glob.glob(os.path.join(ROOT, "workflows", "*.json")))
NODE_KEYS = {"id", "type", "pos", "size", "flags", "order", "mode", "inputs", "outputs", "properties", "widgets_values"}


def _node_info(cls) -> dict:
    """/object_info's input/input_order for a V1 node class."""
    inputs = {k: v for k, v in cls.INPUT_TYPES().items() if k in ("required", "optional")}
    return {"input": inputs, "input_order": {k: list(v) for k, v in inputs.items()}}


FACEANON_INFO = {name: _node_info(cls) for name, cls in faceanon.NODE_CLASS_MAPPINGS.items()}


def _load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


PRIVATE_WORKFLOWS = [  # those that save with FaceAnon Save Image (Private)
    path for path in WORKFLOWS if any(node["type"] == "FaceAnonSaveImagePrivate" for node in _load(path)["nodes"])
]


@pytest.fixture(params=WORKFLOWS, ids=lambda p: os.path.basename(p))
def workflow(request):
    return _load(request.param)


def test_there_are_example_workflows():
    assert len(WORKFLOWS) >= 6
    assert all(os.path.basename(p) == os.path.basename(p).lower() and " " not in p for p in WORKFLOWS)


def test_workflow_has_the_frontend_layout(workflow):
    assert workflow["version"] == 0.4
    assert workflow["groups"] == [] and workflow["config"] == {} and "ds" in workflow["extra"]
    assert not workflow.get("definitions"), "no subgraphs in example workflows"
    ids = [node["id"] for node in workflow["nodes"]]
    assert len(set(ids)) == len(ids) and workflow["last_node_id"] == max(ids)
    assert workflow["last_link_id"] == max((link[0] for link in workflow["links"]), default=0)
    for node in workflow["nodes"]:
        assert NODE_KEYS <= set(node), node["id"]
        assert node["mode"] == 0
        if node["type"] != "Note":
            assert node["properties"]["Node name for S&R"] == node["type"]


def test_links_match_node_sockets(workflow):
    nodes = {node["id"]: node for node in workflow["nodes"]}
    link_ids = set()
    for link_id, origin, origin_slot, target, target_slot, kind in workflow["links"]:
        link_ids.add(link_id)
        output = nodes[origin]["outputs"][origin_slot]
        assert output["type"] == kind and link_id in output["links"]
        target_input = nodes[target]["inputs"][target_slot]
        assert target_input["type"] in (kind, "*") and target_input["link"] == link_id  # "*": e.g. Preview Any
    used_by_inputs = {i["link"] for n in nodes.values() for i in n["inputs"] if i["link"] is not None}
    used_by_outputs = {i for n in nodes.values() for o in n["outputs"] for i in (o["links"] or [])}
    assert used_by_inputs == used_by_outputs == link_ids


def test_order_runs_every_node_after_its_inputs(workflow):
    order = {node["id"]: node["order"] for node in workflow["nodes"]}
    assert sorted(order.values()) == list(range(len(order)))
    for _, origin, _, target, _, _ in workflow["links"]:
        assert order[origin] < order[target]


def test_workflow_explains_itself_in_a_note(workflow):
    notes = [node for node in workflow["nodes"] if node["type"] == "Note"]
    assert len(notes) == 1 and len(notes[0]["widgets_values"][0]) > 200


def test_workflow_uses_realistic_user_values(workflow):
    for node in workflow["nodes"]:
        values = node["widgets_values"]
        if node["type"] == "FaceAnonModelLoader":
            assert values == ["face-anon-simple", "auto", False]
        elif node["type"] == "FaceAnonDetectorLoader":
            assert values == [0.9, False, "recall", "auto"]
        elif node["type"] == "FaceAnonVerifierLoader":  # OpenCV's SFace threshold, the default retry policy
            assert values == [0.363, 2, 0.1, 1.5, False, "auto"]
        elif node["type"] == "LoadImage":
            assert values[0].endswith((".png", ".jpg")) and values[1] == "image"


def test_there_is_a_private_workflow():
    assert PRIVATE_WORKFLOWS


@pytest.mark.parametrize("path", PRIVATE_WORKFLOWS, ids=os.path.basename)
def test_private_workflows_leak_nothing_through_other_nodes(path):
    """A workflow that saves with FaceAnon Save Image (Private) keeps the verified report with the image, names
    its files after nothing in the input, and has no Save/Preview Image node, which would embed the workflow."""
    workflow = _load(path)
    nodes = {node["id"]: node for node in workflow["nodes"]}
    private = [node for node in nodes.values() if node["type"] == "FaceAnonSaveImagePrivate"]
    assert not [node["type"] for node in nodes.values() if node["type"] in ("SaveImage", "PreviewImage")]
    input_names = [os.path.splitext(node["widgets_values"][0])[0].lower()
                   for node in nodes.values() if node["type"] == "LoadImage"]
    links = {link[0]: link for link in workflow["links"]}
    for node in private:
        prefix = node["widgets_values"][0]
        assert not any(name in prefix.lower() for name in input_names), prefix
        report = next(i for i in node["inputs"] if i["name"] == "report")
        _, origin, slot, _, _, _ = links[report["link"]]
        assert nodes[origin]["type"] == "FaceAnonAnonymizeFacesInImage" and slot == 5
        assert any(i["name"] == "verifier" and i["link"] is not None for i in nodes[origin]["inputs"])


def test_faceanon_widget_values_fit_the_node_inputs(workflow):
    """Every FaceAnon node's widgets_values has one value per widget plus "fixed" after each seed."""
    for node in workflow["nodes"]:
        info = FACEANON_INFO.get(node["type"])
        if info is None:
            continue
        values, index = node["widgets_values"], 0
        for name, spec, count in widget_slots(info):
            value = values[index]
            if isinstance(spec[0], list):
                assert value in spec[0], f"{node['type']}.{name}={value!r}"
            else:
                low, high = spec[1].get("min", value), spec[1].get("max", value)
                assert low <= value <= high, f"{node['type']}.{name}={value!r}"
            if name == "seed":
                assert values[index + 1] == "fixed"
            index += count
        assert index == len(values), f"{node['type']}: {values}"


def test_faceanon_sockets_match_the_node_classes(workflow):
    """A FaceAnon node's input sockets are its non-widget inputs (optional ones with shape 7), its outputs
    are RETURN_NAMES/RETURN_TYPES, so the workflow still loads cleanly after a node changes."""
    for node in workflow["nodes"]:
        cls = faceanon.NODE_CLASS_MAPPINGS.get(node["type"])
        if cls is None:
            continue
        inputs = cls.INPUT_TYPES()
        expected = [
            (name, spec[0], section == "optional")
            for section in ("required", "optional")
            for name, spec in inputs.get(section, {}).items()
            if not is_widget(list(spec))
        ]
        sockets = [(i["name"], i["type"], i.get("shape") == 7) for i in node["inputs"]]
        assert sockets == expected, node["type"]
        names = getattr(cls, "RETURN_NAMES", None) or cls.RETURN_TYPES
        assert [(o["name"], o["type"]) for o in node["outputs"]] == list(zip(names, cls.RETURN_TYPES)), node["type"]


# -- converter ----------------------------------------------------------------------------------------

OBJECT_INFO = {
    "LoadImage": {
        "input": {"required": {"image": [["a.png", "b.png"], {"image_upload": True}]}},
        "input_order": {"required": ["image"]},
    },
    "Sampler": {
        "input": {
            "required": {
                "model": ["MODEL", {}],
                "seed": ["INT", {"default": 0}],
                "steps": ["INT", {"default": 20}],
                "sampler": ["COMBO", {"options": ["euler", "ddim"]}],
                "image": ["IMAGE", {}],
            },
            "optional": {"denoise": ["FLOAT", {"default": 1.0}], "extra": ["INT", {"forceInput": True}]},
        },
        "input_order": {"required": ["model", "seed", "steps", "sampler", "image"], "optional": ["denoise", "extra"]},
    },
    "ModelLoader": {"input": {"required": {"name": [["m1", "m2"], {}]}}, "input_order": {"required": ["name"]}},
    "Blur": {"input": {"required": {"image": ["IMAGE", {}]}}, "input_order": {"required": ["image"]}},
}


def _node(node_id, node_type, inputs=(), outputs=(), widgets=(), mode=0):
    return {
        "id": node_id, "type": node_type, "mode": mode, "widgets_values": list(widgets),
        "inputs": [{"name": n, "type": t, "link": link} for n, t, link in inputs],
        "outputs": [{"name": t, "type": t, "links": ls} for t, ls in outputs],
    }


def _graph(*nodes, links=()):
    return {"nodes": list(nodes), "links": [list(link) for link in links]}


def test_widgets_map_to_inputs_skipping_control_and_upload_values():
    wf = _graph(
        _node(1, "LoadImage", outputs=[("IMAGE", [1])], widgets=["b.png", "image"]),
        _node(2, "ModelLoader", outputs=[("MODEL", [2])], widgets=["m2"]),
        _node(3, "Sampler", inputs=[("model", "MODEL", 2), ("image", "IMAGE", 1)],
              widgets=[7, "randomize", 3, "ddim", 0.5]),
        links=[(1, 1, 0, 3, 1, "IMAGE"), (2, 2, 0, 3, 0, "MODEL")],
    )
    assert workflow_to_api(wf, OBJECT_INFO) == {
        "1": {"class_type": "LoadImage", "inputs": {"image": "b.png"}, "_meta": {"title": "LoadImage"}},
        "2": {"class_type": "ModelLoader", "inputs": {"name": "m2"}, "_meta": {"title": "ModelLoader"}},
        "3": {
            "class_type": "Sampler",
            "inputs": {"seed": 7, "steps": 3, "sampler": "ddim", "denoise": 0.5, "model": ["2", 0], "image": ["1", 0]},
            "_meta": {"title": "Sampler"},
        },
    }


def test_missing_trailing_widget_values_get_defaults_and_extra_values_are_errors():
    sampler = _node(1, "Sampler", widgets=[1, "fixed", 2, "euler"])
    assert workflow_to_api(_graph(sampler), OBJECT_INFO)["1"]["inputs"]["denoise"] == 1.0
    sampler["widgets_values"] += [0.5, 99]
    with pytest.raises(WorkflowConversionError, match="widget values"):
        workflow_to_api(_graph(sampler), OBJECT_INFO)


def test_frontend_only_nodes_are_resolved():
    wf = _graph(
        _node(1, "Note", widgets=["hello"]),
        _node(2, "LoadImage", outputs=[("IMAGE", [1])], widgets=["a.png", "image"]),
        _node(3, "Reroute", inputs=[("", "*", 1)], outputs=[("IMAGE", [2])]),
        _node(4, "Blur", inputs=[("image", "IMAGE", 2)], outputs=[("IMAGE", [3])], mode=4),  # bypassed
        _node(5, "PrimitiveNode", outputs=[("INT", [4])], widgets=[12, "fixed"]),
        _node(6, "Blur", inputs=[("image", "IMAGE", None)], mode=2),  # muted
        _node(7, "Sampler", inputs=[("image", "IMAGE", 3), ("steps", "INT", 4)], widgets=[1, "fixed", 2, "euler", 1.0]),
        links=[(1, 2, 0, 3, 0, "IMAGE"), (2, 3, 0, 4, 0, "IMAGE"), (3, 4, 0, 7, 0, "IMAGE"), (4, 5, 0, 7, 1, "INT")],
    )
    prompt = workflow_to_api(wf, OBJECT_INFO)
    assert sorted(prompt) == ["2", "7"]
    assert prompt["7"]["inputs"]["image"] == ["2", 0]
    assert prompt["7"]["inputs"]["steps"] == 12  # the primitive's value wins over the stale widget value


def test_dict_widget_values_and_unknown_nodes():
    assert workflow_to_api(_graph(_node(1, "ModelLoader", widgets=[])), OBJECT_INFO)["1"]["inputs"] == {"name": "m1"}
    node = {**_node(1, "ModelLoader"), "widgets_values": {"name": "m2"}}
    assert workflow_to_api(_graph(node), OBJECT_INFO)["1"]["inputs"] == {"name": "m2"}
    with pytest.raises(WorkflowConversionError, match="unknown node type 'Nope'"):
        workflow_to_api(_graph(_node(1, "Nope")), OBJECT_INFO)

