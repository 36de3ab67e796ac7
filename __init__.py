# SPDX-License-Identifier: AGPL-3.0-or-later
"""FaceAnon — Face Anonymization Made Simple, as a ComfyUI node pack and a Python library.

ComfyUI imports this folder as a custom node pack; ``pip install .`` installs it as ``faceanon``.
Importing it never downloads or loads weights. The nodes (and with them torch and diffusers) are
imported when ComfyUI first reads ``NODE_CLASS_MAPPINGS``, so the ``faceanon`` command line and the
torch-free parts of ``faceanon.core`` start fast.
"""

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]


def __getattr__(name: str):
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import nodes

    nodes.register_model_folder()
    globals().update(
        NODE_CLASS_MAPPINGS=nodes.NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS=nodes.NODE_DISPLAY_NAME_MAPPINGS
    )
    return globals()[name]
