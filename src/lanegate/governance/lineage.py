"""What a model inherits from the models and datasets it was made from.

A model carries the data classes of every ancestor (its base models and their datasets, transitively) and
every ancestor's restrictions: where each data class may be processed (``allowed_regions``, per class or
``*`` for all) and the uses it must not be put to. The regions a data class may go to are the intersection
of every restriction that applies to it, so adding an ancestor can only narrow them, never widen them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lanegate.governance.registry import Registry

ANY_CLASS = "*"


@dataclass(frozen=True, slots=True)
class Restriction:
    """``source`` (``model ID@VERSION`` or ``dataset ID``) allows ``data_class`` only in ``regions``."""

    source: str
    data_class: str
    regions: frozenset[str]


@dataclass(frozen=True, slots=True)
class Lineage:
    """A model and everything it inherits; ``sources`` name the entry (itself or an ancestor) each came from."""

    model: str
    ancestors: tuple[str, ...]
    data_classes: dict[str, tuple[str, ...]]
    restrictions: tuple[Restriction, ...]
    prohibited_uses: dict[str, tuple[str, ...]]

    def applying(self, data_class: str) -> list[Restriction]:
        """The restrictions that apply to ``data_class`` (its own and those for every class)."""
        return [r for r in self.restrictions if r.data_class in (data_class, ANY_CLASS)]

    def allowed(self, data_class: str) -> frozenset[str] | None:
        """Regions where ``data_class`` may be processed with this model; ``None``: nothing restricts it."""
        applying = self.applying(data_class)
        if not applying:
            return None
        return frozenset.intersection(*(r.regions for r in applying))

    def blockers(self, data_class: str, region: str) -> list[Restriction]:
        """The restrictions that keep ``data_class`` out of ``region``."""
        return [r for r in self.applying(data_class) if region not in r.regions]


def model_label(ref: str) -> str:
    return f"model {ref}"


def dataset_label(ref: str) -> str:
    return f"dataset {ref}"


def split_label(label: str) -> tuple[str, str]:
    """``("model", "ID@VERSION")`` or ``("dataset", "ID")`` from a label."""
    kind, key = label.split(" ", 1)
    return kind, key


def lineage(registry: Registry, ref: str) -> Lineage:
    """The lineage of the model ``ref`` (``id@version``, or ``id`` when it has one version). The registry has
    been checked: references resolve and there are no cycles."""
    classes: dict[str, list[str]] = {}
    restrictions: list[Restriction] = []
    prohibited: dict[str, list[str]] = {}
    ancestors: list[str] = []
    seen: set[str] = set()
    root = registry.resolve_model(ref)
    assert root is not None, ref
    pending: list[tuple[str, str]] = [("model", root.ref)]
    while pending:
        kind, key = pending.pop(0)
        label = model_label(key) if kind == "model" else dataset_label(key)
        if label in seen:
            continue
        seen.add(label)
        if key != root.ref or kind != "model":
            ancestors.append(label)
        entry = registry.models[key] if kind == "model" else registry.datasets[key]
        for data_class in entry.data_classes:
            classes.setdefault(data_class, []).append(label)
        for data_class, regions in entry.allowed_regions.items():
            restrictions.append(Restriction(label, data_class, frozenset(regions)))
        for use in entry.prohibited_uses:
            prohibited.setdefault(use, []).append(label)
        if kind == "model":
            model = registry.models[key]
            for base in model.base_models:
                resolved = registry.resolve_model(base)
                assert resolved is not None, base
                pending.append(("model", resolved.ref))
            pending.extend(("dataset", use.id) for use in model.datasets)
    return Lineage(root.ref, tuple(ancestors), {c: tuple(s) for c, s in classes.items()}, tuple(restrictions),
                   {u: tuple(s) for u, s in prohibited.items()})
