"""Log driver rules: the options each driver needs and knows, the drivers Fargate runs, and FireLens."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ..findings import WARNING, Severity
from ..keyed import Path
from ..schemas import closest
from .context import RuleContext
from .registry import Problem, bad, good, rule

LOG_CONFIGURATION_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LogConfiguration.html"
AWSLOGS_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html"
FIRELENS_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_firelens.html"

# Docker's awslogs driver (moby daemon/logger/awslogs) and the daemon-wide options, plus ECS's own
# awslogs-stream-prefix, which the ECS agent turns into awslogs-stream.
AWSLOGS_OPTIONS = [
    "awslogs-group",
    "awslogs-region",
    "awslogs-stream-prefix",
    "awslogs-create-group",
    "awslogs-datetime-format",
    "awslogs-multiline-pattern",
    "awslogs-endpoint",
    "awslogs-credentials-endpoint",
    "awslogs-stream",
    "awslogs-create-stream",
    "awslogs-datetime-as-event-time",
    "awslogs-datetime-timezone",
    "awslogs-force-flush-interval-seconds",
    "awslogs-max-buffered-events",
    "awslogs-format",
    "tag",
    "mode",
    "max-buffer-size",
]
FARGATE_LOG_DRIVERS = ("awslogs", "splunk", "awsfirelens")
# The paths FireLens generates its configuration at, for Fluent Bit and for Fluentd.
FIRELENS_OWN_CONFIG = ("/fluent-bit/etc/fluent-bit.conf", "/fluentd/etc/fluent.conf")
# What Go's strconv.ParseBool, and so Docker, reads as a boolean.
GO_BOOLEANS = ("1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False")
# Docker's byte sizes (go-units RAMInBytes): "4m", "25MiB", "1.5 g".
BUFFER_SIZE = re.compile(r"^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$")


def log_configurations(
    ctx: RuleContext, driver: str | None = None
) -> Iterator[tuple[Path, dict[str, Any], dict[str, Any]]]:
    """(logConfiguration path, logConfiguration, its options) for every container that has one (using ``driver``)."""
    for path, container in ctx.containers():
        logging = container.get("logConfiguration")
        if isinstance(logging, dict) and (driver is None or logging.get("logDriver") == driver):
            options = logging.get("options")
            yield (*path, "logConfiguration"), logging, options if isinstance(options, dict) else {}


def docker_severity(ctx: RuleContext) -> Severity | None:
    """Docker refuses the container on EC2 (an error); on Fargate, or with the launch type unknown, a warning."""
    return WARNING if ctx.is_fargate or ctx.partial else None


@rule(
    "awslogs-options",
    summary="the `awslogs` driver has `awslogs-group` and `awslogs-region` (and `awslogs-stream-prefix` on Fargate)",
    source=AWSLOGS_DOC,
    ecs_error="Log driver awslogs requires options: awslogs-region, awslogs-group",
    note="Docker on EC2 could find the region from instance metadata, but ECS's guide marks awslogs-region "
    "'Required: Yes' and ECS's own error names it, so we require it on every launch type.",
    examples=[
        bad(
            "containerDefinitions: {web: {logConfiguration: {options: {awslogs-region: null}}}}\n",
            path="containerDefinitions[web].logConfiguration.options",
        ),
        bad(
            "containerDefinitions: {web: {logConfiguration: {options: {awslogs-stream-prefix: null}}}}\n",
            path="containerDefinitions[web].logConfiguration.options",
        ),
        good("containerDefinitions: {web: {logConfiguration: {options: {awslogs-group: /ecs/other}}}}\n"),
        good(
            "containerDefinitions: {web: {logConfiguration: {logDriver: awslogs, options: {awslogs-group: /ecs/web, "
            "awslogs-region: eu-west-1}}}}\n",
            base="ec2",
        ),
    ],
)
def awslogs_options(ctx: RuleContext) -> Iterator[Problem]:
    for path, _, options in log_configurations(ctx, "awslogs"):
        required = ["awslogs-group", "awslogs-region"] + (["awslogs-stream-prefix"] if ctx.is_fargate else [])
        for option in required:
            if option not in options:
                yield Problem((*path, "options"), f'the awslogs driver needs the option "{option}"')


@rule(
    "awslogs-unknown-option",
    summary="every `awslogs` option is one the driver knows (a mistyped key passes the schema but Docker "
    "refuses to start the container); a warning on Fargate",
    source=AWSLOGS_DOC,
    ecs_error="CannotStartContainerError: Error response from daemon: unknown log opt 'awslogs-grup' for awslogs "
    "log driver",
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {logConfiguration: {logDriver: awslogs, options: {awslogs-group: /ecs/web, "
            "awslogs-region: eu-west-1, awslogs-stream-prefx: web}}}}\n",
            base="ec2",
            path="containerDefinitions[web].logConfiguration.options.awslogs-stream-prefx",
        ),
        bad(
            "containerDefinitions: {web: {logConfiguration: {options: {awslogs-create-grup: 'true'}}}}\n",
            path="containerDefinitions[web].logConfiguration.options.awslogs-create-grup",
        ),
        good(
            "containerDefinitions: {web: {logConfiguration: {options: {awslogs-create-group: 'true', "
            "mode: non-blocking, max-buffer-size: 25m, awslogs-multiline-pattern: '^INFO'}}}}\n"
        ),
    ],
)
def awslogs_unknown_option(ctx: RuleContext) -> Iterator[Problem]:
    for path, _, options in log_configurations(ctx, "awslogs"):
        for key in options:
            if key not in AWSLOGS_OPTIONS:
                guess = closest(str(key), AWSLOGS_OPTIONS)
                hint = f'; did you mean "{guess}"?' if guess else f"; known options: {', '.join(AWSLOGS_OPTIONS)}"
                yield Problem(
                    (*path, "options", str(key)),
                    f"{json.dumps(key)} is not an awslogs option{hint}",
                    docker_severity(ctx),
                )


@rule(
    "awslogs-option-values",
    summary="`awslogs` option values Docker accepts: not both `awslogs-datetime-format` and "
    "`awslogs-multiline-pattern`; `awslogs-create-group`/`awslogs-create-stream` true or false; "
    "`awslogs-force-flush-interval-seconds`/`awslogs-max-buffered-events` positive whole numbers",
    source=AWSLOGS_DOC,
    ecs_error="CannotStartContainerError: Error response from daemon: you cannot configure log opt "
    "'awslogs-datetime-format' and 'awslogs-multiline-pattern' at the same time",
    note="The guide says both 'you cannot configure both' and that the pattern 'is ignored' beside a datetime "
    "format; Docker refuses the pair, so on EC2 it is an error and on Fargate a warning.",
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {logConfiguration: {logDriver: awslogs, options: {awslogs-group: /ecs/web, "
            "awslogs-region: eu-west-1, awslogs-datetime-format: '%Y-%m-%d', awslogs-multiline-pattern: '^INFO'}}}}\n",
            base="ec2",
            path="containerDefinitions[web].logConfiguration.options.awslogs-multiline-pattern",
        ),
        bad(
            "containerDefinitions: {web: {logConfiguration: {options: {awslogs-create-group: 'yes'}}}}\n",
            path="containerDefinitions[web].logConfiguration.options.awslogs-create-group",
        ),
        good(
            "containerDefinitions: {web: {logConfiguration: {options: {awslogs-create-group: 'True', "
            "awslogs-max-buffered-events: '8192', awslogs-datetime-format: '%Y-%m-%d'}}}}\n"
        ),
    ],
)
def awslogs_option_values(ctx: RuleContext) -> Iterator[Problem]:
    for path, _, options in log_configurations(ctx, "awslogs"):
        where = (*path, "options")
        if "awslogs-datetime-format" in options and "awslogs-multiline-pattern" in options:
            yield Problem(
                (*where, "awslogs-multiline-pattern"),
                "awslogs-multiline-pattern cannot be set together with awslogs-datetime-format; keep one",
                docker_severity(ctx),
            )
        for key in ("awslogs-create-group", "awslogs-create-stream"):
            if key in options and str(options[key]) not in GO_BOOLEANS:
                yield Problem(
                    (*where, key), f'{key} is {json.dumps(options[key])}; write "true" or "false"', docker_severity(ctx)
                )
        for key in ("awslogs-force-flush-interval-seconds", "awslogs-max-buffered-events"):
            if key in options and not re.fullmatch(r"[+]?0*[1-9]\d*", str(options[key])):
                yield Problem(
                    (*where, key),
                    f"{key} is {json.dumps(options[key])}; write a positive whole number",
                    docker_severity(ctx),
                )


@rule(
    "log-buffer-options",
    summary="log `mode` is `blocking` or `non-blocking`; `max-buffer-size` not with `mode: blocking`, and a size "
    "such as `25m`",
    source=AWSLOGS_DOC,
    ecs_error="CannotStartContainerError: Error response from daemon: logger: max-buffer-size option is only "
    "supported with 'mode=non-blocking'",
    note="Without `mode` ECS applies the account's defaultLogDriverMode, non-blocking by default since June 2025 "
    "(ecs-account-settings.html), so max-buffer-size alone is accepted.",
    offline=True,
    examples=[
        bad(
            "containerDefinitions: {web: {logConfiguration: {options: {mode: blocking, max-buffer-size: 25m}}}}\n",
            path="containerDefinitions[web].logConfiguration.options.max-buffer-size",
        ),
        bad(
            "containerDefinitions: {web: {logConfiguration: {options: {mode: non-blocking, max-buffer-size: 25 "
            "megabytes}}}}\n",
            path="containerDefinitions[web].logConfiguration.options.max-buffer-size",
        ),
        bad(
            "containerDefinitions: {web: {logConfiguration: {options: {mode: nonblocking}}}}\n",
            path="containerDefinitions[web].logConfiguration.options.mode",
        ),
        good(
            "containerDefinitions: {web: {logConfiguration: {options: {mode: non-blocking, max-buffer-size: 25m}}}}\n"
        ),
        good("containerDefinitions: {web: {logConfiguration: {options: {mode: blocking}}}}\n"),
        good("containerDefinitions: {web: {logConfiguration: {options: {max-buffer-size: 25m}}}}\n"),
    ],
)
def log_buffer_options(ctx: RuleContext) -> Iterator[Problem]:
    for path, logging, options in log_configurations(ctx):
        driver = logging.get("logDriver")
        if driver == "awsfirelens" or driver is None and ctx.partial:
            continue  # FireLens options go to Fluent Bit / Fluentd, not to Docker; unknown driver: cannot tell
        severity = docker_severity(ctx)
        mode, size = options.get("mode"), options.get("max-buffer-size")
        if mode is not None and mode not in ("blocking", "non-blocking"):
            yield Problem(
                (*path, "options", "mode"),
                f'log mode {json.dumps(mode)} must be "blocking" or "non-blocking"',
                severity,
            )
        if size is None:
            continue
        if mode == "blocking":
            yield Problem(
                (*path, "options", "max-buffer-size"),
                'max-buffer-size works only with mode "non-blocking"; change the mode or remove max-buffer-size',
                severity,
            )
        elif not BUFFER_SIZE.match(str(size)):
            yield Problem(
                (*path, "options", "max-buffer-size"),
                f'max-buffer-size {json.dumps(size)} is not a size; write e.g. "25m" or "4MiB"',
                severity,
            )


@rule(
    "splunk-options",
    summary="the `splunk` driver has `splunk-url` and `splunk-token` (an option or, better, a `secretOptions` "
    "entry); a warning on Fargate",
    source=LOG_CONFIGURATION_DOC,
    note="Docker's splunk driver refuses to start without both; ECS's guide passes the token through "
    "secretOptions (specifying-sensitive-data.html).",
    ecs_error="CannotStartContainerError: Error response from daemon: failed to initialize logging driver: splunk: "
    "splunk-token is expected",
    examples=[
        bad(
            "containerDefinitions: {web: {logConfiguration: {logDriver: splunk, options: {splunk-url: "
            "'https://splunk.example.com:8088'}}}}\n",
            base="ec2",
            path="containerDefinitions[web].logConfiguration",
        ),
        good(
            "containerDefinitions: {web: {logConfiguration: {logDriver: splunk, options: {splunk-url: "
            "'https://splunk.example.com:8088'}, secretOptions: [{name: splunk-token, valueFrom: "
            "'arn:aws:secretsmanager:eu-west-1:111111111111:secret:splunk-token'}]}}}\n",
            base="ec2",
        ),
    ],
)
def splunk_options(ctx: RuleContext) -> Iterator[Problem]:
    for path, logging, options in log_configurations(ctx, "splunk"):
        secrets = {str(item.get("name")) for item in logging.get("secretOptions") or [] if isinstance(item, dict)}
        missing = [key for key in ("splunk-url", "splunk-token") if key not in options and key not in secrets]
        if missing:
            yield Problem(
                path,
                f"the splunk driver needs {' and '.join(missing)} (as an option, or in secretOptions)",
                docker_severity(ctx),
            )


@rule(
    "fargate-log-driver",
    summary="on Fargate the log driver is `awslogs`, `splunk` or `awsfirelens`",
    source=LOG_CONFIGURATION_DOC,
    examples=[
        bad(
            "containerDefinitions: {web: {logConfiguration: {logDriver: json-file, options: null}}}\n",
            path="containerDefinitions[web].logConfiguration.logDriver",
        ),
        good("containerDefinitions: {worker: {logConfiguration: {logDriver: json-file}}}\n", base="ec2"),
    ],
)
def fargate_log_driver(ctx: RuleContext) -> Iterator[Problem]:
    if not ctx.is_fargate:
        return
    for path, logging, _ in log_configurations(ctx):
        driver = logging.get("logDriver")
        if driver is not None and driver not in FARGATE_LOG_DRIVERS:
            yield Problem(
                (*path, "logDriver"),
                f"Fargate does not run the {json.dumps(driver)} log driver; use awslogs, splunk or awsfirelens",
            )


@rule(
    "firelens-router",
    summary="a container using the `awsfirelens` driver has a log router (a container with "
    "`firelensConfiguration`) in its task",
    source=FIRELENS_DOC,
    ecs_error="When awsfirelens log driver is specified in log configuration, a firelens configuration object must "
    "be configured in one of the containers.",
    examples=[
        bad(
            "containerDefinitions: {web: {logConfiguration: {logDriver: awsfirelens, options: {Name: cloudwatch}}}}\n",
            path="containerDefinitions[web].logConfiguration.logDriver",
        ),
        good(
            "containerDefinitions:\n"
            "  web: {logConfiguration: {logDriver: awsfirelens, options: {Name: cloudwatch}}}\n"
            "  envoy: {firelensConfiguration: {type: fluentbit}}\n"
        ),
    ],
)
def firelens_router(ctx: RuleContext) -> Iterator[Problem]:
    if any(container.get("firelensConfiguration") for _, container in ctx.containers()):
        return
    for path, logging, _ in log_configurations(ctx):
        if logging.get("logDriver") == "awsfirelens":
            yield Problem(
                (*path, "logDriver"),
                "awsfirelens needs a log router in the task: add a container with firelensConfiguration "
                "(e.g. aws-for-fluent-bit)",
            )


@rule(
    "firelens-unused",
    summary="a log router (`firelensConfiguration`) is used by at least one container's `awsfirelens` driver",
    source=FIRELENS_DOC,
    ecs_error="When a firelensConfiguration object is specified, at least one container has to be configured with "
    "the awsfirelens log driver.",
    examples=[
        bad(
            "containerDefinitions: {envoy: {firelensConfiguration: {type: fluentbit}}}\n",
            path="containerDefinitions[envoy].firelensConfiguration",
        ),
        good(
            "containerDefinitions: {envoy: {firelensConfiguration: {type: fluentd}}, web: {logConfiguration: "
            "{logDriver: awsfirelens, options: {'@type': forward}}}}\n"
        ),
    ],
)
def firelens_unused(ctx: RuleContext) -> Iterator[Problem]:
    if any(logging.get("logDriver") == "awsfirelens" for _, logging, _ in log_configurations(ctx)):
        return
    for path, container in ctx.containers():
        if container.get("firelensConfiguration"):
            yield Problem(
                (*path, "firelensConfiguration"),
                "no container uses the awsfirelens log driver, so this log router has nothing to route; set "
                "logDriver awsfirelens on a container or remove firelensConfiguration",
            )


@rule(
    "firelens-configuration",
    summary="`firelensConfiguration.options`: `config-file-type` `file` or `s3`, set together with "
    "`config-file-value`, which is not the path FireLens writes its own configuration to",
    note="The guide says Fargate reads only `file` configurations, but AWS's own FireLens sample "
    "(aws-samples/amazon-ecs-firelens-examples, splitting-log-streams/fluentd) uses `s3` on Fargate: not checked.",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/firelens-taskdef.html",
    offline=True,
    examples=[
        bad(
            "containerDefinitions:\n"
            "  web: {logConfiguration: {logDriver: awsfirelens, options: {Name: cloudwatch}}}\n"
            "  envoy: {firelensConfiguration: {type: fluentbit, options: {config-file-type: https, "
            "config-file-value: 'https://example.com/fluent-bit.conf'}}}\n",
            path="containerDefinitions[envoy].firelensConfiguration.options.config-file-type",
        ),
        bad(
            "containerDefinitions:\n"
            "  web: {logConfiguration: {logDriver: awsfirelens, options: {Name: cloudwatch}}}\n"
            "  envoy: {firelensConfiguration: {type: fluentbit, options: {config-file-type: file}}}\n",
            path="containerDefinitions[envoy].firelensConfiguration.options",
        ),
        bad(
            "containerDefinitions:\n"
            "  web: {logConfiguration: {logDriver: awsfirelens, options: {Name: cloudwatch}}}\n"
            "  envoy: {firelensConfiguration: {type: fluentbit, options: {config-file-type: file, "
            "config-file-value: /fluent-bit/etc/fluent-bit.conf}}}\n",
            path="containerDefinitions[envoy].firelensConfiguration.options.config-file-value",
        ),
        good(
            "containerDefinitions:\n"
            "  web: {logConfiguration: {logDriver: awsfirelens, options: {Name: cloudwatch}}}\n"
            "  envoy: {firelensConfiguration: {type: fluentbit, options: {config-file-type: file, "
            "config-file-value: /extra.conf, enable-ecs-log-metadata: 'false'}}}\n"
        ),
    ],
)
def firelens_configuration(ctx: RuleContext) -> Iterator[Problem]:
    for path, container in ctx.containers():
        firelens = container.get("firelensConfiguration")
        options = firelens.get("options") if isinstance(firelens, dict) else None
        if not isinstance(options, dict):
            continue
        where = (*path, "firelensConfiguration", "options")
        kind, value = options.get("config-file-type"), options.get("config-file-value")
        if kind is not None and kind not in ("file", "s3"):
            yield Problem((*where, "config-file-type"), f'config-file-type {json.dumps(kind)} must be "file" or "s3"')
        if (kind is None) != (value is None):
            missing = "config-file-value" if value is None else "config-file-type"
            yield Problem(where, f"a custom FireLens configuration needs both config-file-type and {missing}")
        if value in FIRELENS_OWN_CONFIG:
            yield Problem(
                (*where, "config-file-value"),
                f"{value} is where FireLens writes its own configuration; put yours at another path",
            )
