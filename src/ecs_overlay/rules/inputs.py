"""Finding ids raised outside the ECS rules: reading overlays and bases, the schemas, the build checks, drift.

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

# Reading overlays: YAML, the overlay language, the input shapes.
YAML_SYNTAX = declare("yaml-syntax", summary="the overlay is valid YAML", source=YAML, category="overlay")
YAML_TAG = declare(
    "yaml-tag",
    summary="no YAML tags (`!!python/…`, `!Ref`): overlays are plain data",
    source=OVERLAY_LANGUAGE,
    category="overlay",
)
YAML_MERGE_KEY = declare(
    "yaml-merge-key", summary="no YAML merge keys (`<<`): use `extends`", source=OVERLAY_LANGUAGE, category="overlay"
)
YAML_KEY = declare("yaml-key", summary="mapping keys are plain text", source=OVERLAY_LANGUAGE, category="overlay")
DUPLICATE_KEY = declare(
    "duplicate-key",
    summary="no key written twice in one mapping (YAML would silently keep the last)",
    source=YAML,
    category="overlay",
)
OVERLAY_STRUCTURE = declare(
    "overlay-structure",
    summary="the top level of an overlay is a mapping of task-definition fields",
    source=OVERLAY_LANGUAGE,
    category="overlay",
)
OVERLAY_SCHEMA = declare(
    "overlay-schema",
    summary="overlay values have the types and values RegisterTaskDefinition accepts",
    source=API,
    category="overlay",
)
UNKNOWN_FIELD = declare(
    "unknown-field",
    summary="every field, in an overlay or a file base, is one RegisterTaskDefinition knows",
    source=API,
    category="overlay",
)
UNSET_VARIABLE = declare(
    "unset-variable",
    summary="every `${VAR}` without a default is set (and `${VAR:?message}` set and not empty)",
    source=OVERLAY_LANGUAGE,
    category="overlay",
)
VARIABLE_NUMBER = declare(
    "variable-number",
    summary="a `${VAR}` in a numeric field gives the number ECS wants there (`memory: ${MEMORY}` with MEMORY=512)",
    source=OVERLAY_LANGUAGE,
    category="overlay",
)
VARIABLE_SYNTAX = declare(
    "variable-syntax",
    summary="every `${…}` is a supported form, in a value (`$${` for a literal `${`)",
    source=OVERLAY_LANGUAGE,
    category="overlay",
)
KEYED_LIST_ITEM = declare(
    "keyed-list-item",
    summary="every item of a keyed list (containers, environment, …) has its key",
    source=OVERLAY_LANGUAGE,
    category="overlay",
)
DUPLICATE_ITEM = declare(
    "duplicate-item",
    summary="no keyed-list item written twice, in any spelling (`9000` and `9000/tcp`)",
    source=OVERLAY_LANGUAGE,
    category="overlay",
)
LIST_OPERATION = declare(
    "list-operation",
    summary="`$replace` stands alone in a list's value, and `$append` extends plain lists only",
    source=OVERLAY_LANGUAGE,
    category="overlay",
)
EXTENDS_MISSING = declare(
    "extends-missing", summary="every `extends` target exists", source=OVERLAY_LANGUAGE, category="overlay"
)
ENV_FILE_INVALID = declare(
    "env-file",
    summary="every `envFile` exists and is docker compose's env_file syntax (KEY=VALUE lines, comments, quotes)",
    source="https://docs.docker.com/compose/how-tos/environment-variables/variable-interpolation/#env-file-syntax",
    category="overlay",
)
ENVIRONMENT_FILE = declare(
    "environment-file",
    summary="one file per environment: not both `<name>.yaml` and `<name>.yml`",
    source=OVERLAY_LANGUAGE,
    category="overlay",
)

# A field the ECS API returned in a live base that botocore does not model yet: carried through, unchecked.
UNKNOWN_BASE_FIELD = declare(
    "unknown-base-field",
    summary="a live base's field botocore does not model is passed through with a warning",
    source=API,
    category="rendered",
    severity=WARNING,
)
# ECS reads an explicit null as absent; the deploy actions strip nulls before registering (cleanNullKeys).
BASE_NULL = declare(
    "base-null",
    summary="explicit nulls in a base are dropped (null means absent), said once per environment",
    source="https://github.com/aws-actions/amazon-ecs-deploy-task-definition/blob/master/index.js",
    category="rendered",
    severity=INFO,
)

# An SDK omits a field set to "" where the API takes an enum (appProtocol: ""), so ECS never sees it.
BASE_EMPTY_ENUM = declare(
    "base-empty-enum",
    summary="empty strings in a base where the API takes one of a list of values are dropped, said once",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html",
    category="rendered",
    severity=INFO,
)

# Every rendered task definition names its environment in a tag; a base tagged for another one is refused.
UNTAGGED_BASE = declare(
    "environment-tag",
    summary="a base without the ecs-overlay:environment tag (first adoption) is accepted, said once",
    source="README.md#where-the-base-lives-and-whose-it-is",
    category="rendered",
    severity=INFO,
)

# The rendered task definition.
TASKDEF_SCHEMA = declare(
    "taskdef-schema",
    summary="the rendered task definition matches RegisterTaskDefinition's input shape",
    source=API,
    category="rendered",
)
UNMERGEABLE_LIST = declare(
    "unmergeable-list",
    summary="a base list an overlay merges into has unique keys",
    source=OVERLAY_LANGUAGE,
    category="rendered",
)
CONTAINER_INCOMPLETE = declare(
    "container-incomplete",
    summary="a container an overlay adds is complete (it has an image)",
    source=API,
    category="rendered",
)

# Build checks.
IMAGE_ARCHITECTURE = declare(
    "image-architecture",
    summary="the image's CPU architecture matches `runtimePlatform.cpuArchitecture` (`exec format error` otherwise)",
    source="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html",
    category="build",
)
APPSPEC_STRUCTURE = declare(
    "appspec-structure",
    summary="a hand-written appspec has version 0.0 and one AWS::ECS::Service target",
    source=APPSPEC,
    category="build",
)
APPSPEC_PLACEHOLDER = declare(
    "appspec-placeholder",
    summary="the appspec's TaskDefinition is the `<TASK_DEFINITION>` placeholder",
    source=APPSPEC,
    category="build",
)
APPSPEC_TARGET = declare(
    "appspec-target",
    summary="the appspec's container and port exist in the task definition",
    source=APPSPEC,
    category="build",
)

# Drift: a value the overlays set that the live task definition no longer has (drift's sarif, junit and github).
DRIFT = declare(
    "drift",
    summary="the live task definition still has every value the overlays set",
    source="https://github.com/ecs-overlay/ecs-overlay#reviewing-changes-diff-drift-snapshot-explain",
    category="drift",
)
