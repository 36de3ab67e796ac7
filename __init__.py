"""FaceAnon — Face Anonymization Made Simple, as a ComfyUI node pack and a Python library."""
