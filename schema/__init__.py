"""JSON Schemas of ecs-overlay, shipped in the wheel as the package ``ecs_overlay.schema``."""
