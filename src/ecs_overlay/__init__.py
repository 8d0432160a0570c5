"""ecs-overlay: live ECS task definition + environment overlay + image → validated taskdef.json.

The Python API (see the README's "Python API"): ``load_base``, ``load_environment``, ``parse_overlay``,
``render`` → ``RenderResult``, ``ImageRequest``.
"""

from .base import load_base
from .environments import load_environment
from .images import ImageRequest
from .overlay import Overlay, parse_overlay
from .render import RenderResult, render

__all__ = ["ImageRequest", "Overlay", "RenderResult", "load_base", "load_environment", "parse_overlay", "render"]
