# SPDX-License-Identifier: AGPL-3.0-or-later
"""The example workflows are well-formed frontend saves that open readably, explain themselves, leak nothing and
name the third-party files they need; and the UI -> API converter the e2e tests use.

No ComfyUI needed: FaceAnon nodes are described from their own INPUT_TYPES, other nodes by hand. What ComfyUI 0.8's
frontend (1.35) does with them is checked in a real browser by test_template_browser.py.
"""

import glob
import json
import os
import re
import sys

import pytest
from conftest import ROOT
from PIL import Image
from workflow_to_api import WorkflowConversionError, is_widget, widget_slots, workflow_to_api

import faceanon

WORKFLOWS = sorted(glob.glob(os.path.join(ROOT, "workflows", "*.json")))
INDEX = os.path.join(ROOT, "docs", "templates-index.json")
NODE_KEYS = {"id", "type", "pos", "size", "flags", "order", "mode", "inputs", "outputs", "properties", "widgets_values"}
NOTE = "MarkdownNote"
# ComfyUI 0.8 shows the file name as the card title and lists the files in directory order (alphabetical on
# Windows, and with the browser's "Alphabetical" sort): "NN Title", numbered from 01, no characters that a file
# system or a URL would trip on.
FILE_NAME = re.compile(r"^(\d\d) ([A-Z][A-Za-z0-9 ,.()-]+)$")

# ComfyUI 0.8's frontend draws a node's title bar above its pos; a workflow's saved extra.ds (offset, scale) is
# applied as it opens. The reference view is a 1600 x 900 browser viewport: the sidebar covers x < 59, the tab bar,
# breadcrumb and Run bar the top 92 px, the minimap and zoom controls a 258 x 258 bottom-right corner.
TITLE_HEIGHT = 30
VIEWPORT = (1600, 900)
CLEAR = {"left": 75, "top": 100, "right": 1585, "bottom": 885}
CORNER = (1320, 630)  # the minimap's top-left, with a margin
# Below 8 px text (8/14 of the 14 px node text) the canvas drops to low-detail rendering: no labels or values.
READABLE_SCALE = 0.65
NODE_GAP = 20

# The nodes that write image files with the prompt and the workflow (input file names included) in them.
METADATA_WRITERS = {"SaveImage", "PreviewImage", "SaveAnimatedWEBP", "SaveAnimatedPNG", "SaveWEBM", "SaveVideo"}
# What the missing-models dialog of ComfyUI 0.8's frontend downloads: a file from these sources with these endings,
# or one of the few URLs it allows as they are.
DOWNLOAD_SOURCES = ("https://huggingface.co/", "https://civitai.com/")
DOWNLOAD_SUFFIXES = (".safetensors", ".sft")
ALLOWED_AS_IS = {"https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/RealESRGAN_x4plus.pth"}
# Core loaders whose widget names a file in a ComfyUI model folder.
MODEL_LOADERS = {
    "CheckpointLoaderSimple": "checkpoints", "VAELoader": "vae", "UpscaleModelLoader": "upscale_models",
    "CLIPVisionLoader": "clip_vision", "LoraLoader": "loras", "ControlNetLoader": "controlnet",
}


def _node_info(cls) -> dict:
    """/object_info's input/input_order for a V1 node class."""
    inputs = {k: v for k, v in cls.INPUT_TYPES().items() if k in ("required", "optional")}
    return {"input": inputs, "input_order": {k: list(v) for k, v in inputs.items()}}


FACEANON_INFO = {name: _node_info(cls) for name, cls in faceanon.NODE_CLASS_MAPPINGS.items()}


def _load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def _note(workflow) -> str:
    (note,) = [node for node in workflow["nodes"] if node["type"] in ("Note", NOTE)]
    return note["widgets_values"][0]


def _third_party_models(workflow) -> list[dict]:
    return [model for node in workflow["nodes"] for model in node["properties"].get("models", [])]


def _templates() -> list[dict]:
    return [template for category in _load(INDEX) for template in category["templates"]]


PRIVATE_WORKFLOWS = [  # those that save with FaceAnon Save Image (Private)
    path for path in WORKFLOWS if any(node["type"] == "FaceAnonSaveImagePrivate" for node in _load(path)["nodes"])
]


@pytest.fixture(params=WORKFLOWS, ids=_stem)
def workflow(request):
    return _load(request.param)


@pytest.fixture(params=WORKFLOWS, ids=_stem)
def workflow_path(request):
    return request.param


def test_there_are_example_workflows():
    assert len(WORKFLOWS) >= 6
    numbers = []
    for path in WORKFLOWS:
        match = FILE_NAME.match(_stem(path))
        assert match, f"{_stem(path)!r}: expected 'NN Title'"
        numbers.append(int(match.group(1)))
        assert len(match.group(2)) <= 34, f"{_stem(path)!r}: the template card cuts longer titles"
    assert numbers == list(range(1, len(WORKFLOWS) + 1))


def test_the_first_workflow_anonymizes_every_face_of_a_photo():
    first = _load(WORKFLOWS[0])
    assert _stem(WORKFLOWS[0]).lower().endswith("anonymize every face in a photo")
    assert {"LoadImage", "FaceAnonAnonymizeFacesInImage", "FaceAnonSaveImagePrivate"} <= {n["type"] for n in first["nodes"]}


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
        if node["type"] != NOTE:
            assert node["properties"]["Node name for S&R"] == node["type"]


def _boxes(workflow) -> dict[int, tuple[float, float, float, float]]:
    """Each node's box on the canvas, title bar included."""
    return {
        node["id"]: (node["pos"][0], node["pos"][1] - TITLE_HEIGHT, node["pos"][0] + node["size"][0],
                     node["pos"][1] + node["size"][1])
        for node in workflow["nodes"]
    }


def test_no_node_covers_another(workflow):
    boxes = sorted(_boxes(workflow).items())
    for i, (a, (ax0, ay0, ax1, ay1)) in enumerate(boxes):
        for b, (bx0, by0, bx1, by1) in boxes[i + 1 :]:
            apart = ax1 + NODE_GAP <= bx0 or bx1 + NODE_GAP <= ax0 or ay1 + NODE_GAP <= by0 or by1 + NODE_GAP <= ay0
            assert apart, f"nodes {a} and {b} overlap or touch"


def test_workflow_opens_with_every_node_in_view_at_a_readable_zoom(workflow):
    ds = workflow["extra"]["ds"]
    scale, (dx, dy) = ds["scale"], ds["offset"]
    assert READABLE_SCALE <= scale <= 1.0, scale
    for node_id, (x0, y0, x1, y1) in _boxes(workflow).items():
        left, top, right, bottom = ((x0 + dx) * scale, (y0 + dy) * scale, (x1 + dx) * scale, (y1 + dy) * scale)
        assert left >= CLEAR["left"], f"node {node_id} is under the sidebar (x {left:.0f})"
        assert top >= CLEAR["top"], f"node {node_id} is under the top bars (y {top:.0f})"
        assert right <= CLEAR["right"] and bottom <= CLEAR["bottom"], f"node {node_id} ends outside the view"
        assert right <= CORNER[0] or bottom <= CORNER[1], f"node {node_id} is under the minimap"


def test_workflow_explains_itself_in_a_note_that_starts_with_numbered_steps(workflow):
    text = _note(workflow)
    assert text.startswith("1. "), text[:80]
    steps = re.findall(r"^(\d+)\. ", text, flags=re.MULTILINE)
    assert steps == [str(i) for i in range(1, len(steps) + 1)] and len(steps) >= 3, steps
    assert "**Load Image" in text.split("\n")[0] or "**Source face" in text.split("\n")[0], "step 1: choose the photo"
    last_step = [line for line in text.split("\n") if re.match(r"\d+\. ", line)][-1]
    assert "**Run**" in last_step
    assert len(text) > 300


def test_note_names_every_third_party_file_the_workflow_needs(workflow):
    text = _note(workflow)
    for model in _third_party_models(workflow):
        assert f"`{model['name']}`" in text, model["name"]


def test_loaders_of_third_party_files_carry_download_metadata(workflow):
    """ComfyUI's missing-models dialog offers a file when the loader's properties.models names it (name, URL of
    the file itself, model folder) and its widget selects it."""
    for node in workflow["nodes"]:
        if node["type"] not in MODEL_LOADERS:
            continue
        (file_name,) = [v for v in node["widgets_values"] if isinstance(v, str)]
        (model,) = node["properties"].get("models", [None])
        assert model is not None, f"{node['type']} has no model metadata"
        assert set(model) == {"name", "url", "directory"} and model["name"] == file_name, model
        assert model["directory"] == MODEL_LOADERS[node["type"]], model
        url = model["url"]
        if url not in ALLOWED_AS_IS:
            assert url.startswith(DOWNLOAD_SOURCES) and file_name.endswith(DOWNLOAD_SUFFIXES), url
        if url.startswith("https://huggingface.co/"):
            assert "/resolve/" in url, f"{url}: a /blob/ page saves HTML, not the file"
        assert url.split("?")[0].endswith("/" + file_name), url


def test_every_workflow_saves_with_the_private_save_only(workflow):
    """Anonymizing, redacting or swapping: the images leave the graph only through FaceAnon Save Image (Private),
    never through a node that embeds the workflow (with the input file names) in the file."""
    types = [node["type"] for node in workflow["nodes"]]
    assert "FaceAnonSaveImagePrivate" in types
    assert not METADATA_WRITERS & set(types), METADATA_WRITERS & set(types)


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


def test_there_is_a_verified_private_workflow():
    assert any(
        any(node["type"] == "FaceAnonVerifierLoader" for node in _load(path)["nodes"]) for path in PRIVATE_WORKFLOWS
    )


@pytest.mark.parametrize("path", PRIVATE_WORKFLOWS, ids=_stem)
def test_private_saves_name_files_after_nothing_in_the_input(path):
    """The private save names its files after a neutral prefix; the verified workflow keeps the report with the
    image."""
    workflow = _load(path)
    nodes = {node["id"]: node for node in workflow["nodes"]}
    input_names = [os.path.splitext(node["widgets_values"][0])[0].lower()
                   for node in nodes.values() if node["type"] == "LoadImage"]
    links = {link[0]: link for link in workflow["links"]}
    for node in (n for n in nodes.values() if n["type"] == "FaceAnonSaveImagePrivate"):
        prefix = node["widgets_values"][0]
        assert re.fullmatch(r"[a-z0-9-]+", prefix) and not any(name in prefix.lower() for name in input_names), prefix
        report = next(i for i in node["inputs"] if i["name"] == "report")
        verifiers = [n for n in nodes.values() if n["type"] == "FaceAnonVerifierLoader"]
        if verifiers:
            _, origin, slot, _, _, _ = links[report["link"]]
            assert nodes[origin]["type"] == "FaceAnonAnonymizeFacesInImage" and slot == 5
            assert any(i["name"] == "verifier" and i["link"] is not None for i in nodes[origin]["inputs"])


# -- template browser -----------------------------------------------------------------------------------


def test_every_workflow_has_a_thumbnail_next_to_it(workflow_path):
    """ComfyUI 0.8 asks for <name>.jpg next to each workflow for its template card."""
    thumbnail = os.path.splitext(workflow_path)[0] + ".jpg"
    assert os.path.isfile(thumbnail), thumbnail
    assert os.path.getsize(thumbnail) < 80_000, "keep the package small"
    with Image.open(thumbnail) as image:
        assert image.format == "JPEG" and image.mode == "RGB"
        assert image.width == image.height >= 384, image.size
        assert len(set(image.resize((32, 32)).getdata())) > 50, "a drawing, not a flat placeholder"


def test_workflows_folder_holds_workflows_and_their_thumbnails_only():
    stems = {_stem(path) for path in WORKFLOWS}
    assert sorted(os.listdir(os.path.join(ROOT, "workflows"))) == sorted(
        [f"{stem}.json" for stem in stems] + [f"{stem}.jpg" for stem in stems]
    )


def test_template_index_lists_every_workflow_in_order():
    """docs/templates-index.json has the form of ComfyUI's templates/index.json (categories of templates with name,
    title, description, mediaType, mediaSubtype, tags, models): the titles and one-line descriptions of the
    template browser. ComfyUI 0.8 does not read one from a node pack (an index.json in workflows/ would be listed
    as a workflow), so the file names carry the titles and the thumbnails the descriptions."""
    index = _load(INDEX)
    assert [set(category) for category in index] == [{"moduleName", "title", "type", "templates"}]
    templates = _templates()
    assert [t["name"] for t in templates] == [_stem(path) for path in WORKFLOWS]
    for template in templates:
        assert set(template) == {"name", "title", "description", "mediaType", "mediaSubtype", "tags", "models"}
        assert template["title"] == FILE_NAME.match(template["name"]).group(2)
        assert (template["mediaType"], template["mediaSubtype"]) == ("image", "jpg")
        description = template["description"]
        assert "\n" not in description and 20 <= len(description) <= 120 and description.endswith("."), description
        assert template["tags"] and template["models"]


def test_thumbnails_are_drawn_by_the_committed_script(tmp_path):
    """docs/draw_pictures.py draws every thumbnail named in the index, and the icon, from shapes alone."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("draw_pictures", os.path.join(ROOT, "docs", "draw_pictures.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    written = module.draw_all(str(tmp_path), str(tmp_path / "icon.png"), INDEX)
    assert sorted(os.path.basename(p) for p in written) == sorted(
        [f"{_stem(path)}.jpg" for path in WORKFLOWS] + ["icon.png"]
    )
    for path in written:
        with Image.open(path) as drawn:
            committed = os.path.join(ROOT, "docs" if path.endswith(".png") else "workflows", os.path.basename(path))
            with Image.open(committed) as saved:
                assert drawn.size == saved.size
                difference = sum(abs(a - b) for a, b in zip(drawn.convert("L").resize((64, 64)).getdata(),
                                                            saved.convert("L").resize((64, 64)).getdata()))
                assert difference / 64**2 < 4, f"{os.path.basename(path)} is not what the script draws: redraw it"


# -- README ---------------------------------------------------------------------------------------------


def _readme() -> str:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        return f.read()


def test_readme_table_lists_every_workflow_with_the_third_party_files_it_needs():
    rows = {line.split("|")[1].strip(): line for line in _readme().splitlines() if line.startswith("| `")}
    for path in WORKFLOWS:
        row = rows.get(f"`{_stem(path)}`")
        assert row is not None, f"README has no table row for {_stem(path)}"
        needed = [model["name"] for model in _third_party_models(_load(path))]
        for name in needed:
            assert f"`{name}`" in row, f"{_stem(path)}: the README row does not name {name}"
        if not needed:
            assert "none" in row.split("|")[-2].lower(), row


def test_readme_node_names_are_the_display_names():
    text = _readme()
    for node_id, display_name in faceanon.NODE_DISPLAY_NAME_MAPPINGS.items():
        assert f"**{display_name}** (`{node_id}`)" in text, display_name


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

