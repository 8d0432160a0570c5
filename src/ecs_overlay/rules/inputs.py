"""Finding ids raised outside the ECS rules: reading overlays and bases, the schemas, the build checks.

They are declared here so that every id a user can see has one summary and one source, for the
documentation and for the reports that carry rule metadata.
"""

from __future__ import annotations

from ..findings import INFO, WARNING
from .registry import declare

API = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html"
OVERLAY_LANGUAGE = "README.md#the-overlay-language"
YAML = "https://yaml.org/spec/1.2.2/"
APPSPEC = "https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-resources.html#reference-appspec-file-structure-resources-ecs"

_OVERLAY = (
    ("yaml-syntax", "the overlay is valid YAML", YAML),
    ("yaml-tag", "no YAML tags (`!!python/…`, `!Ref`): overlays are plain data", OVERLAY_LANGUAGE),
    ("yaml-merge-key", "no YAML merge keys (`<<`): use `extends`", OVERLAY_LANGUAGE),
    ("yaml-key", "mapping keys are plain text", OVERLAY_LANGUAGE),
    ("duplicate-key", "no key written twice in one mapping (YAML would silently keep the last)", YAML),
    ("overlay-structure", "the top level of an overlay is a mapping of task-definition fields", OVERLAY_LANGUAGE),
    ("overlay-schema", "overlay values have the types and values RegisterTaskDefinition accepts", API),
    ("unknown-field", "every field, in an overlay or a file base, is one RegisterTaskDefinition knows", API),
    (
        "unset-variable",
        "every `${VAR}` without a default is set (and `${VAR:?message}` set and not empty)",
        OVERLAY_LANGUAGE,
    ),
    (
        "variable-number",
        "a `${VAR}` in a numeric field gives the number ECS wants there (`memory: ${MEMORY}` with MEMORY=512)",
        OVERLAY_LANGUAGE,
    ),
    ("variable-syntax", "every `${…}` is a supported form, in a value (`$${` for a literal `${`)", OVERLAY_LANGUAGE),
    ("keyed-list-item", "every item of a keyed list (containers, environment, …) has its key", OVERLAY_LANGUAGE),
    ("duplicate-item", "no keyed-list item written twice, in any spelling (`9000` and `9000/tcp`)", OVERLAY_LANGUAGE),
    (
        "list-operation",
        "`$replace` stands alone in a list's value, and `$append` extends plain lists only",
        OVERLAY_LANGUAGE,
    ),
    ("extends-missing", "every `extends` target exists", OVERLAY_LANGUAGE),
    (
        "env-file",
        "every `envFile` exists and is docker compose's env_file syntax (KEY=VALUE lines, comments, quotes)",
        "https://docs.docker.com/compose/how-tos/environment-variables/variable-interpolation/#env-file-syntax",
    ),
    ("environment-file", "one file per environment: not both `<name>.yaml` and `<name>.yml`", OVERLAY_LANGUAGE),
)
_RENDERED = (
    ("taskdef-schema", "the rendered task definition matches RegisterTaskDefinition's input shape", API),
    ("unmergeable-list", "a base list an overlay merges into has unique keys", OVERLAY_LANGUAGE),
    ("container-incomplete", "a container an overlay adds is complete (it has an image)", API),
)
_BUILD = (
    (
        "image-architecture",
        "the image's CPU architecture matches `runtimePlatform.cpuArchitecture` (`exec format error` otherwise)",
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html",
    ),
    ("appspec-structure", "a hand-written appspec has version 0.0 and one AWS::ECS::Service target", APPSPEC),
    ("appspec-placeholder", "the appspec's TaskDefinition is the `<TASK_DEFINITION>` placeholder", APPSPEC),
    ("appspec-target", "the appspec's container and port exist in the task definition", APPSPEC),
)

# A field the ECS API returned in a live base that botocore does not model yet: carried through, unchecked.
declare(
    "unknown-base-field",
    summary="a live base's field botocore does not model is passed through with a warning",
    source=API,
    category="rendered",
    severity=WARNING,
)
# ECS reads an explicit null as absent; the deploy actions strip nulls before registering (cleanNullKeys).
declare(
    "base-null",
    summary="explicit nulls in a base are dropped (null means absent), said once per environment",
    source="https://github.com/aws-actions/amazon-ecs-deploy-task-definition/blob/master/index.js",
    category="rendered",
    severity=INFO,
)

# An SDK omits a field set to "" where the API takes an enum (appProtocol: ""), so ECS never sees it.
declare(
    "base-empty-enum",
    summary="empty strings in a base where the API takes one of a list of values are dropped, said once",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html",
    category="rendered",
    severity=INFO,
)

# Every rendered task definition names its environment in a tag; a base tagged for another one is refused.
declare(
    "environment-tag",
    summary="a base without the ecs-overlay:environment tag (first adoption) is accepted, said once",
    source="README.md#where-the-base-lives-and-whose-it-is",
    category="rendered",
    severity=INFO,
)

for _category, _entries in (("overlay", _OVERLAY), ("rendered", _RENDERED), ("build", _BUILD)):
    for _id, _summary, _source in _entries:
        declare(_id, summary=_summary, source=_source, category=_category)
