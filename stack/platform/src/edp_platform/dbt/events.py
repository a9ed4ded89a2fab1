"""dbt's results as the step's Dagster events, at a constant cost per node.

dagster-dbt's `stream()` with a context yields an `Output` per model and an `AssetCheckResult` per test, and
Dagster 1.13 pays for each `Output` of a multi-asset in proportion to the size of the step
(execute_step.py's topological-order check calls `StepExecutionContext.get_output_asset_keys()`, which
builds the set of the step's asset and check keys once for every output: quadratic in the number of dbt
nodes), stores a STEP_OUTPUT event beside each materialization and check, and queries the latest
materialization of every parent for the data provenance. Measured on a 1,000-model project (bench/
dbt_scale.py, py-spy of the run worker): about a third of the worker's CPU went to that check alone, and the
share grows with the project.

So the platform's dbt step yields what dagster-dbt yields without a context (its own events for an op): an
`AssetMaterialization` per built node and an `AssetCheckEvaluation` per test, which Dagster stores as one
event each, as they happen, with no STEP_OUTPUT. What the `Output` path added is added here:

- the data provenance of each materialization (code version, data version, the data version of every
  parent): the same tags and the same logical data version as Dagster's own path computes
  (execute_step.py `_get_output_asset_events`), from the versions this step has just produced and, for
  parents outside the step, from one batch of asset records read when the step starts. The event pointer of
  a parent built in this step is left NULL (Dagster reads it back from the database; its staleness check
  uses data versions for unpartitioned assets, pointers only for partitioned ones, which dbt assets are not);
- an `Output` where another step of the run needs one (a Python asset downstream of a dbt model in the
  same job): such a model is yielded as an `Output`, through Dagster's own path;
- each check's `blocking` flag (a failed blocking check still fails the step) and the materialization it
  evaluated (`target_materialization_data`: the asset's record, one query per test).

The Dagster internals used (the data-version tag names and `compute_logical_data_version`, the job's asset
layer) are pinned in tests/unit/test_platform_contracts.py; tests/unit/test_platform_dbt_events.py checks
the tags against Dagster's own `Output` path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluation,
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.definitions.data_version import (
    CODE_VERSION_TAG,
    DATA_VERSION_TAG,
    DEFAULT_DATA_VERSION,
    NULL_EVENT_POINTER,
    DataVersion,
    compute_logical_data_version,
    extract_data_version_from_entry,
    get_input_data_version_tag,
    get_input_event_pointer_tag,
)

# Asset records read per query for the parents outside the step (Dagster's own batch size for the same read).
RECORDS_BATCH = 100


class StepEvents:
    """Turns the events dagster-dbt makes for an op into the events of this asset step (see the module)."""

    def __init__(self, context: dg.AssetExecutionContext) -> None:
        assets_def = context.assets_def
        self._instance = context.instance
        self._run_id = context.run.run_id
        specs = assets_def.specs_by_key
        self._own = set(specs)
        self._code_versions = {key: spec.code_version for key, spec in specs.items()}
        self._parents = {key: [dep.asset_key for dep in spec.deps] for key, spec in specs.items()}
        self._blocking = {spec.key: spec.blocking for spec in assets_def.check_specs}
        self._outputs = self._needed_as_outputs(context, assets_def)
        # Data version and event pointer of each parent met so far: this step's own, and outside ones.
        self._versions: dict[dg.AssetKey, tuple[DataVersion, int | None]] = {}
        self._load_outside_parents()
        # A partitioned step's materializations name the run's partitions (one key, or each key of a range):
        # dbt's results know none, and Dagster's asset backfill fails on an unpartitioned one.
        partitioned = assets_def.partitions_def is not None
        self._partitions = (
            list(context.partition_keys)
            if partitioned and (context.has_partition_key or context.has_partition_key_range)
            else []
        )

    # ---- what the step yields -------------------------------------------------------------------------
    def convert(self, event: Any) -> Any:
        if isinstance(event, dg.AssetMaterialization) and event.asset_key in self._own:
            return self.materialization(event)
        if isinstance(event, AssetCheckEvaluation):
            return self.check_evaluation(event)
        return event

    def convert_all(self, event: Any) -> list[Any]:
        """`convert`, with a materialization of a partitioned step once per partition of the run."""
        converted = self.convert(event)
        if not (self._partitions and isinstance(converted, dg.AssetMaterialization)):
            return [converted]
        return [
            dg.AssetMaterialization(
                asset_key=converted.asset_key,
                description=converted.description,
                metadata=converted.metadata,
                partition=key,
                tags=converted.tags,
            )
            for key in self._partitions
        ]

    def materialization(self, event: dg.AssetMaterialization) -> dg.AssetMaterialization | dg.Output:
        key = event.asset_key
        name = self._outputs.get(key)
        if name is not None:  # another step of this run reads it: Dagster's own path (provenance included)
            self._versions[key] = (self._data_version(key)[0], None)
            return dg.Output(None, output_name=name, metadata=event.metadata)
        version, tags = self._data_version(key)
        self._versions[key] = (version, None)
        return dg.AssetMaterialization(
            asset_key=key,
            description=event.description,
            metadata=event.metadata,
            partition=event.partition,
            tags={**(event.tags or {}), **tags},
        )

    def check_evaluation(self, event: AssetCheckEvaluation) -> AssetCheckEvaluation:
        key = dg.AssetCheckKey(event.asset_key, event.check_name)
        return AssetCheckEvaluation(
            asset_key=event.asset_key,
            check_name=event.check_name,
            passed=event.passed,
            metadata=event.metadata,
            target_materialization_data=self._latest_materialization(event.asset_key),
            severity=event.severity,
            description=event.description,
            blocking=self._blocking.get(key),
            partition=event.partition,
        )

    # ---- data provenance ------------------------------------------------------------------------------
    def _data_version(self, key: dg.AssetKey) -> tuple[DataVersion, dict[str, str]]:
        """The logical data version and provenance tags of a materialization of `key` now, as Dagster's
        Output path computes them (execute_step.py _get_output_asset_events, _build_data_version_tags)."""
        code_version = self._code_versions.get(key) or self._run_id
        inputs: dict[dg.AssetKey, tuple[DataVersion, int | None]] = {}
        for parent in self._parents.get(key, []):
            if parent not in self._versions:  # a parent of this step not built in this run
                self._load_records([parent])
            inputs[parent] = self._versions.get(parent, (DEFAULT_DATA_VERSION, None))
        version = compute_logical_data_version(code_version, {k: v for k, (v, _) in inputs.items()})
        tags = {CODE_VERSION_TAG: code_version}
        for parent, (parent_version, pointer) in inputs.items():
            tags[get_input_data_version_tag(parent)] = parent_version.value
            tags[get_input_event_pointer_tag(parent)] = str(pointer) if pointer else NULL_EVENT_POINTER
        tags[DATA_VERSION_TAG] = version.value
        return version, tags

    def _load_outside_parents(self) -> None:
        outside = sorted({p for parents in self._parents.values() for p in parents} - self._own)
        self._load_records(outside)

    def _load_records(self, keys: list[dg.AssetKey]) -> None:
        """The latest materialization (else observation) of each key, as Dagster's data-version cache
        reads it; a key with neither gets Dagster's default version."""
        for start in range(0, len(keys), RECORDS_BATCH):
            batch = keys[start : start + RECORDS_BATCH]
            for record in self._instance.get_asset_records(batch):
                entry = record.asset_entry
                event = entry.last_materialization_record or entry.last_observation_record
                if event is None:
                    continue
                version = extract_data_version_from_entry(event.event_log_entry) or DEFAULT_DATA_VERSION
                self._versions[entry.asset_key] = (version, event.storage_id)

    def _latest_materialization(
        self, key: dg.AssetKey
    ) -> AssetCheckEvaluationTargetMaterializationData | None:
        """The asset's latest materialization, from its asset record (as AssetCheckResult's own path)."""
        records = self._instance.get_asset_records([key])
        record = records[0].asset_entry.last_materialization_record if records else None
        if record is None:
            return None
        return AssetCheckEvaluationTargetMaterializationData(
            storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp
        )

    @staticmethod
    def _needed_as_outputs(
        context: dg.AssetExecutionContext, assets_def: dg.AssetsDefinition
    ) -> Mapping[dg.AssetKey, str]:
        """The step's assets that another asset of the job (outside this step) depends on, by output name."""
        layer = context.job_def.asset_layer
        found = {}
        for key in assets_def.keys:
            if not layer.has(key):
                continue
            if any(child not in assets_def.keys for child in layer.get(key).child_keys):
                found[key] = assets_def.get_output_name_for_asset_key(key)
        return found
