"""The image's CPU architecture against the task's runtimePlatform: ``exec format error`` caught in the build."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .findings import Finding
from .provenance import Provenance
from .rules.inputs import IMAGE_ARCHITECTURE

ARCHITECTURES = {"arm64": "ARM64", "aarch64": "ARM64", "x86_64": "X86_64", "amd64": "X86_64", "x86-64": "X86_64"}


def normalise(text: str) -> str | None:
    """``arm64``/``ARM64``/``aarch64`` → ARM64; ``amd64``/``x86_64`` → X86_64; else None."""
    return ARCHITECTURES.get(text.strip().lower())


def task_architecture(taskdef: Mapping[str, Any]) -> str:
    """What ECS runs the task on; without runtimePlatform.cpuArchitecture that is X86_64."""
    platform = taskdef.get("runtimePlatform") or {}
    return str(platform.get("cpuArchitecture") or "X86_64")


def mismatch(image_arch: str, image: str, taskdef: Mapping[str, Any], provenance: Provenance) -> Finding | None:
    task = task_architecture(taskdef)
    if image_arch == task:
        return None
    declared = (
        "runtimePlatform.cpuArchitecture"
        if (taskdef.get("runtimePlatform") or {}).get("cpuArchitecture")
        else "runtimePlatform.cpuArchitecture (absent, so X86_64)"
    )
    other_platform = "linux/arm64" if task == "ARM64" else "linux/amd64"
    return Finding.at(
        provenance.locate(("runtimePlatform",)),
        IMAGE_ARCHITECTURE,
        f"{image} is built for {image_arch} but the task runs on {task} ({declared}); its tasks would fail with "
        f"`exec format error`. Fix one: set `runtimePlatform: {{cpuArchitecture: {image_arch}}}` in the overlay, "
        f"or build the image for {task} (docker buildx build --platform {other_platform})",
        "runtimePlatform.cpuArchitecture",
    )


def docker_architecture(image: str) -> str | None:
    """The architecture of a locally present image, per ``docker image inspect``; None when unknown."""
    import shutil
    import subprocess

    if image.startswith("<") or shutil.which("docker") is None:
        return None
    try:
        result = subprocess.run(
            ["docker", "image", "inspect", "--format", "{{.Architecture}}", image],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return normalise(result.stdout) if result.returncode == 0 else None
