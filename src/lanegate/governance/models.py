"""Pydantic models of registry files: the models a lane may serve and the datasets they were made from.

A registry file is a YAML document with top-level ``models:``, ``datasets:`` and ``licence_policies:`` (any of
them), placed beside the packs or in ``gateway.registry_dir``. Every key is documented in
``docs/governance.md``; unknown keys are errors.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

EntryId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")]
Version = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")]
#: ``id@version`` or ``id`` (a dataset, or the only version of a model).
Reference = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/@+-]*$")]
DataClass = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,40}$")]
#: A data class, or ``*``: every data class.
ClassKey = Annotated[str, StringConstraints(pattern=r"^(\*|[a-z][a-z0-9-]{0,40})$")]
Region = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Digest = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Artifact(_Strict):
    """One file of a model: its path (relative to the registry file) and its SHA-256."""

    path: str = Field(min_length=1)
    sha256: Digest


class EvaluationResult(_Strict):
    """One published evaluation of a model."""

    name: str = Field(min_length=1)
    metric: str = Field(min_length=1)
    value: float
    dataset: str | None = None


class DatasetUse(_Strict):
    """A dataset a model was made from, and how."""

    id: Reference
    use: Literal["pretraining", "training", "fine-tuning", "evaluation"] = "training"


class _Placed(_Strict):
    allowed_regions: dict[ClassKey, list[Region]] = Field(default_factory=dict)
    prohibited_uses: list[str] = Field(default_factory=list)

    @field_validator("allowed_regions")
    @classmethod
    def _non_empty(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for key, regions in value.items():
            if not regions:
                raise ValueError(f"allowed_regions.{key} is empty: list at least one region, or remove the key")
        return value


class DatasetEntry(_Placed):
    """``datasets[]`` — data a model was trained, tuned or evaluated on."""

    id: EntryId
    description: str = ""
    origin_jurisdiction: str = Field(min_length=1)
    legal_basis: str = Field(min_length=1)
    data_classes: list[DataClass] = Field(default_factory=list)
    licence: str | None = None


class ModelEntry(_Placed):
    """``models[]`` — one version of a model."""

    id: EntryId
    version: Version
    description: str = ""
    licence: str = Field(min_length=1)
    licence_policy: str | None = None
    artifacts: list[Artifact] = Field(default_factory=list)
    signing_manifest: str | None = None
    base_models: list[Reference] = Field(default_factory=list)
    datasets: list[DatasetUse] = Field(default_factory=list)
    data_classes: list[DataClass] = Field(default_factory=list)
    dependencies: list[str] = Field(default_factory=list)
    intended_uses: list[str] = Field(default_factory=list)
    evaluations: list[EvaluationResult] = Field(default_factory=list)
    supplier: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"


class RegistryFile(_Strict):
    """A registry document."""

    models: list[ModelEntry] = Field(default_factory=list)
    datasets: list[DatasetEntry] = Field(default_factory=list)
    licence_policies: dict[EntryId, list[str]] = Field(default_factory=dict)
