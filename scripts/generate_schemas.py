#!/usr/bin/env python3
"""Regenerate schema/taskdef.schema.json, service.schema.json and overlay.schema.json from the installed botocore.

Run after upgrading botocore: ``python scripts/generate_schemas.py``; review the diff and commit.
"""

from __future__ import annotations

import json
import pathlib

import botocore
import botocore.session

from ecs_overlay.schemagen import overlay_schema, service_schema, taskdef_schema

SCHEMA_DIR = pathlib.Path(__file__).resolve().parent.parent / "schema"


def main() -> None:
    model = botocore.session.get_session().get_service_model("ecs")
    taskdef = taskdef_schema(model, botocore.__version__)
    service = service_schema(model, botocore.__version__)
    for name, schema in (("taskdef", taskdef), ("service", service), ("overlay", overlay_schema(taskdef, service))):
        path = SCHEMA_DIR / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path.relative_to(SCHEMA_DIR.parent)}")


if __name__ == "__main__":
    main()
