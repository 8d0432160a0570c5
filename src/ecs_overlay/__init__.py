"""ecs-overlay: live ECS task definition + environment overlay + image → validated taskdef.json."""

from .images import ImageRequest
from .overlay import Overlay, parse_overlay
from .render import RenderResult, render

__all__ = ["ImageRequest", "Overlay", "RenderResult", "parse_overlay", "render"]
