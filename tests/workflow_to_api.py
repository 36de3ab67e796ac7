# SPDX-License-Identifier: AGPL-3.0-or-later
"""Convert a UI (litegraph) workflow, as the ComfyUI frontend saves it, into an API prompt for POST /prompt.

Follows what the frontend does when it queues a workflow, using /object_info for the widget layout:

* ``widgets_values`` are matched to the node's widget inputs in ``input_order`` (required, then optional).
  A widget is an INT/FLOAT/STRING/BOOLEAN/COMBO or list-typed input without ``forceInput``. Some widgets
  store one extra value that is not an input: the "control after generate" mode (``control_after_generate``,
  or any INT named ``seed``/``noise_seed``) and the upload button of ``image_upload``-style inputs.
  Missing trailing values (workflows saved before an input existed) get the input's default.
* Linked inputs become ``[source_node_id, output_index]``; a link wins over a stale widget value.
* Frontend-only nodes are never sent: Note/MarkdownNote are dropped, Reroute is followed upstream,
  a PrimitiveNode's value is substituted into the inputs it drives.
* Muted nodes (mode 2) are dropped; bypassed nodes (mode 4) are dropped and their consumers are linked to
  the bypassed node's first input of the same type.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}
SEED_NAMES = ("seed", "noise_seed")
UPLOAD_OPTIONS = ("image_upload", "video_upload", "audio_upload")
NOTE_TYPES = {"Note", "MarkdownNote"}
MODE_MUTED = 2
MODE_BYPASSED = 4


class WorkflowConversionError(ValueError):
    pass


def _options(spec: list) -> dict:
    return spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}


def is_widget(spec: list) -> bool:
    kind = spec[0]
    return (isinstance(kind, list) or kind in WIDGET_TYPES) and not _options(spec).get("forceInput")


def _default(spec: list) -> Any:
    options = _options(spec)
    if "default" in options:
        return options["default"]
    choices = spec[0] if isinstance(spec[0], list) else options.get("options")
    return choices[0] if choices else None


def widget_slots(node_info: dict) -> Iterator[tuple[str, list, int]]:
    """(input name, input spec, number of widgets_values it uses) in widgets_values order."""
    order = node_info.get("input_order") or {k: list(v) for k, v in node_info["input"].items()}
    for section in ("required", "optional"):
        for name in order.get(section, []):
            spec = node_info["input"][section][name]
            if not is_widget(spec):
                continue
            options = _options(spec)
            count = 1
            has_control = options.get("control_after_generate")
            if has_control is None:
                has_control = spec[0] == "INT" and name in SEED_NAMES
            if has_control:
                count += 1
            if any(options.get(key) for key in UPLOAD_OPTIONS):
                count += 1
            yield name, spec, count


def widget_inputs(node: dict, node_info: dict) -> dict:
    """The node's widget values by input name."""
    values = node.get("widgets_values") or []
    if isinstance(values, dict):  # some custom nodes save {name: value}
        return dict(values)
    inputs, index = {}, 0
    for name, spec, count in widget_slots(node_info):
        inputs[name] = values[index] if index < len(values) else _default(spec)
        index += count
    if index < len(values):
        raise WorkflowConversionError(
            f"node {node['id']} ({node['type']}): {len(values)} widget values but its widgets use {index}: {values}"
        )
    return inputs


class _Graph:
    def __init__(self, workflow: dict):
        self.nodes = {node["id"]: node for node in workflow["nodes"]}
        self.links = {}
        for link in workflow.get("links", []):
            if isinstance(link, dict):
                fields = ("id", "origin_id", "origin_slot", "target_id", "target_slot", "type")
                link = [link[field] for field in fields]
            self.links[link[0]] = link

    def resolve(self, link_id: int) -> tuple[str, Any] | None:
        """Follow a link upstream: ("link", [node_id, slot]), ("value", primitive value) or None if dangling."""
        link = self.links.get(link_id)
        if link is None:
            return None
        _, origin_id, origin_slot, _, _, link_type = link
        origin = self.nodes[origin_id]
        if origin["type"] == "Reroute":
            return self.resolve(origin["inputs"][0]["link"])
        if origin["type"] == "PrimitiveNode":
            return "value", origin["widgets_values"][0]
        if origin.get("mode", 0) == MODE_BYPASSED:
            for node_input in origin.get("inputs", []):
                if node_input.get("link") is not None and node_input["type"] == link_type:
                    return self.resolve(node_input["link"])
            return None
        if origin.get("mode", 0) == MODE_MUTED:
            return None
        return "link", [str(origin_id), origin_slot]


def workflow_to_api(workflow: dict, object_info: dict) -> dict:
    """The API prompt ``{node_id: {"class_type", "inputs", "_meta"}}`` for a UI workflow."""
    if (workflow.get("definitions") or {}).get("subgraphs"):
        raise WorkflowConversionError("subgraphs are not supported")
    graph = _Graph(workflow)
    prompt = {}
    for node in workflow["nodes"]:
        node_type = node["type"]
        if node_type in NOTE_TYPES or node_type in ("Reroute", "PrimitiveNode"):
            continue
        if node.get("mode", 0) in (MODE_MUTED, MODE_BYPASSED):
            continue
        if node_type not in object_info:
            raise WorkflowConversionError(f"node {node['id']}: unknown node type {node_type!r}")
        inputs = widget_inputs(node, object_info[node_type])
        for node_input in node.get("inputs", []):
            if node_input.get("link") is None:
                continue
            resolved = graph.resolve(node_input["link"])
            if resolved is not None:
                inputs[node_input["name"]] = resolved[1]
        prompt[str(node["id"])] = {
            "class_type": node_type,
            "inputs": inputs,
            "_meta": {"title": node.get("title") or object_info[node_type].get("display_name") or node_type},
        }
    return prompt
