"""How every view of the plugin writes its answer: JSON that renders whatever text it holds."""

from rest_framework.renderers import JSONRenderer


class AsciiJsonRenderer(JSONRenderer):
    r"""
    DRF's JSON renderer, escaping every non-ASCII character (``"é"`` is sent as ``"\u00e9"``).

    DRF's own writes UTF-8 (``UNICODE_JSON``), which a lone surrogate cannot be encoded in, and it
    renders after the view, outside the plugin's error handler: an answer holding one (a ``ref``
    echoed back, an answer kept for an ``Idempotency-Key``) would fail after its commit. Escaped,
    every string renders, and the same JSON reaches the caller.
    """

    ensure_ascii = True


RENDERER_CLASSES = (AsciiJsonRenderer,)
