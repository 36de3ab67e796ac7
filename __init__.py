"""FaceAnon — Face Anonymization Made Simple, as a ComfyUI node pack and a Python library.

ComfyUI imports this folder as a custom node pack; ``pip install .`` installs it as ``faceanon``.
Importing it never downloads or loads weights.
"""

from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS, register_model_folder

register_model_folder()

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
