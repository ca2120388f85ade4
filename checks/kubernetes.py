"""Kubernetes-native objects -> :class:`DataStoreFacts` (workloads, volumes, storage classes, backups).

Cloud resources declared as manifests (Crossplane, ACK, Config Connector, ASO) are translated by
the loader to Terraform types and classified by ``checks/catalog/``; this module covers the
kinds that only exist in Kubernetes:

* workloads (role ``workload``, judged by RES005): the regions their pods may be scheduled in,
  read from ``nodeSelector`` and required ``nodeAffinity`` on the region/zone labels;
* PersistentVolumes and StorageClasses (role ``data-store``): where volumes are created and how
  the provisioner encrypts them;
* Velero backup/snapshot locations and VolumeSnapshotClasses: copies of cluster data elsewhere.

Several admitted regions are represented without a new field: ``location`` is the first region
and every further region is a :class:`Copy` of kind ``placement`` (a place the object may run or
be provisioned, not a replica), each with its own provenance and line. An admitted set that cannot
be bounded (``NotIn``, ``Exists``, a term without a region) is an :class:`Unknown` that says why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from checks.kubernetes_storage import load_storage_table
from scanner.model import AtLeast, Copy, DataStoreFacts, Encryption, KeyUse, Location, Resource, Unknown


def _sub(obj: Any, key: str) -> dict[str, Any]:
    """``obj[key]`` when it is a mapping, else an empty one: manifests and plans are untrusted shapes."""
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, dict) else {}

if TYPE_CHECKING:
    from scanner.regions import Catalog

WORKLOAD_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet", "ReplicationController"}
)
# The storage facts (topology keys, CSI provisioner families, snapshot classes) are data: kubernetes_storage.yaml.
STORAGE = load_storage_table()
REGION_KEYS = STORAGE.region_keys
ZONE_KEYS = STORAGE.zone_keys
# AKS nodes of a cluster without availability zones carry topology.kubernetes.io/zone "0".."4": fault domains
# inside the cluster's region, naming no region. A zone selector on them constrains nothing about placement.
_FAULT_DOMAIN = re.compile(r"^\d$")
UNPINNED_NOTE = "unpinned workload: runs wherever its cluster is"

# Provisioner -> (cloud, family: how its StorageClass parameters decide location and encryption at rest).
PROVISIONERS: Mapping[str, tuple[str, str]] = STORAGE.provisioners
# File drivers that mount a file system made elsewhere: the StorageClass cannot say how it is encrypted.
EXTERNAL_FILE_SYSTEMS: Mapping[str, str] = STORAGE.external_file_systems
_ARN_REGION = re.compile(r"^arn:aws[a-z-]*:kms:([a-z0-9-]+):")
_GCP_KEY_LOCATION = re.compile(r"(?:^|/)locations/([A-Za-z0-9-]+)/")


def classify_kubernetes(resources: Iterable[Resource], catalog: Catalog) -> list[DataStoreFacts]:
    """Facts for every Kubernetes-native object this module knows; other objects are not data stores."""
    resources = list(resources)
    classes = {_get(r.attributes, "metadata", "name"): r for r in resources if r.type == "StorageClass"}
    out: list[DataStoreFacts] = []
    for resource in resources:
        kind = resource.extra.get("kind", resource.type)
        group = resource.type.partition(".")[2]
        if group == "" and kind in WORKLOAD_KINDS:
            out.append(_WorkloadReader(resource, catalog).workload())
        elif resource.type == "PersistentVolume":
            storage_class = classes.get(_get(resource.attributes, "spec", "storageClassName"))
            if storage_class is None and isinstance(resource.extra.get("storage_class"), Resource):
                storage_class = resource.extra["storage_class"]  # linked by the loader from another file
            out.append(_VolumeReader(resource, catalog).persistent_volume(storage_class))
        elif resource.type == "StorageClass":
            out.append(_VolumeReader(resource, catalog).storage_class())
        elif resource.type in ("BackupStorageLocation.velero.io", "VolumeSnapshotLocation.velero.io"):
            out.append(_BackupReader(resource, catalog).velero())
        elif resource.type == "VolumeSnapshotClass.snapshot.storage.k8s.io":
            facts = _BackupReader(resource, catalog).snapshot_class()
            if facts is not None:
                out.append(facts)
    return out


def _get(value: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _line(mapping: Any, key: str | None = None, default: int | None = None) -> int | None:
    """Line of a loaded mapping or of one of its keys (the loader's LineDict), else ``default``."""
    key_lines = getattr(mapping, "key_lines", None)
    if key is not None and key_lines and key in key_lines:
        return key_lines[key]
    return getattr(mapping, "line", None) or default


class _Regions:
    """A set of admitted regions: finite (``names``), or everything except ``excluded`` (unbounded).

    Each admitted region keeps where it was written (provenance, line) for messages.
    """

    __slots__ = ("excluded", "names", "reason")

    def __init__(
        self,
        names: dict[str, tuple[str, int | None]] | None = None,
        excluded: frozenset[str] = frozenset(),
        reason: str = "",
    ) -> None:
        self.names = names  # None = unbounded
        self.excluded = excluded
        self.reason = reason

    @classmethod
    def everything(cls, reason: str = "") -> _Regions:
        return cls(None, frozenset(), reason)

    def intersect(self, other: _Regions) -> _Regions:
        if self.names is None and other.names is None:
            return _Regions(None, self.excluded | other.excluded, self.reason or other.reason)
        if self.names is None:
            return other.intersect(self)
        if other.names is None:
            return _Regions({k: v for k, v in self.names.items() if k not in other.excluded})
        return _Regions({k: v for k, v in self.names.items() if k in other.names})

    def union(self, other: _Regions) -> _Regions:
        if self.names is None or other.names is None:
            return _Regions(None, frozenset(), self.reason or other.reason)
        return _Regions({**self.names, **{k: v for k, v in other.names.items() if k not in self.names}})


class _Reader:
    """Reads one resource; holds what every reading needs (catalog, file, cluster hint) and the placement
    readings shared by the kinds (node selectors, topology terms, zones, the cluster region, key locations).
    One subclass per kind of object: workloads, volumes, backups."""

    def __init__(self, resource: Resource, catalog: Catalog) -> None:
        self.r = resource
        self.catalog = catalog
        self.hint = resource.location_hint
        self.labels = dict(resource.extra.get("labels") or {})

    def where(self, mapping: Any, key: str | None = None) -> str:
        return f"{self.r.file}:{_line(mapping, key, self.r.line)}"

    def facts(
        self, cloud: str, location: Location | Unknown | None, role: str = "data-store", **kwargs: Any
    ) -> DataStoreFacts:
        return DataStoreFacts(
            resource=self.r,
            cloud=cloud,
            holds_user_data=role != "workload",  # a workload processes data; the inventory lists stores
            location=location,
            role=role,
            tags=self.labels,
            **kwargs,
        )

    # ------------------------------------------------------------------ regions and clouds
    def zone_region(self, zone: str, cloud: str | None) -> str:
        """The region a zone label value lies in (``us-east-1c`` -> ``us-east-1``); the value if unknown."""
        found = [self.catalog.resolve(cloud, zone)] if cloud else self.catalog.resolve_any(zone)
        for loc in found:
            if loc is not None and loc.kind == "zone" and len(loc.members) == 1:
                return loc.members[0].code
        return zone

    def hint_cloud(self) -> str | None:
        return self.hint.cloud if isinstance(self.hint, Location) and self.hint.cloud else None

    def locations(self, code: str, cloud: str | None, source: str) -> list[Location]:
        """A bare region code as Locations: its cloud, the cluster's when ambiguous, else every reading."""
        if cloud:
            return [Location(cloud, code, source)]
        found = self.catalog.resolve_any(code)
        clouds = [loc.cloud for loc in found]
        preferred = self.hint_cloud()
        if preferred in clouds:
            clouds = [preferred]
        if not clouds:
            clouds = [preferred or "kubernetes"]  # the rule reports the code as unknown in that cloud
        return [Location(c, code, source) for c in clouds]

    def cluster_locations(self) -> list[Location]:
        if not isinstance(self.hint, Location):
            return []
        source = self.hint.source
        if not source.startswith("cluster region"):
            source = f"cluster region from {source}" if source else "cluster region"
        return self.locations(self.hint.code, self.hint.cloud or None, source)

    # ------------------------------------------------------------------ selector algebra
    def expression(self, expr: Any, where: str, cloud: str | None) -> _Regions | None:
        """One ``{key, operator, values}``: the regions it admits, or None when it is not about regions."""
        if not isinstance(expr, dict):
            return None
        key = expr.get("key")
        is_region, is_zone = key in REGION_KEYS, key in ZONE_KEYS
        if not (is_region or is_zone):
            return None
        operator = str(expr.get("operator", "In"))
        values = [str(v) for v in expr.get("values") or [] if v is not None]
        if is_zone and values and all(_FAULT_DOMAIN.match(v) for v in values):
            return None  # AKS fault domains: not about regions
        line = _line(expr, "values", _line(expr))
        if operator == "In":
            names: dict[str, tuple[str, int | None]] = {}
            for value in values:
                region = value if is_region else self.zone_region(value, cloud)
                names.setdefault(region, (f"{where} {key} In {value} ({self.r.file}:{line})", line))
            return _Regions(names)
        if operator == "NotIn" and is_region:
            return _Regions(None, frozenset(values), f"{where} {key} NotIn admits every other region")
        return _Regions.everything(f"{where} {key} {operator} does not bound the region")

    def terms(self, terms: Any, where: str, cloud: str | None, expressions_key: str) -> tuple[_Regions, bool]:
        """ORed terms of ANDed expressions -> (admitted set, whether any term mentions a region)."""
        if not isinstance(terms, list) or not terms:
            return _Regions.everything(), False
        result: _Regions | None = None
        mentioned = False
        for index, term in enumerate(terms):
            admitted: _Regions | None = None
            for expr in (term.get(expressions_key) if isinstance(term, dict) else None) or []:
                found = self.expression(expr, f"{where}[{index}]", cloud)
                if found is not None:
                    mentioned = True
                    admitted = found if admitted is None else admitted.intersect(found)
            if admitted is None:
                reason = f"{where}[{index}] does not constrain the region (terms are ORed)"
                admitted = _Regions.everything(reason)
            result = admitted if result is None else result.union(admitted)
        assert result is not None
        return result, mentioned

    def node_selector(self, selector: Any, where: str, cloud: str | None) -> tuple[_Regions, bool]:
        admitted, mentioned = _Regions.everything(), False
        if not isinstance(selector, dict):
            return admitted, mentioned
        for key, value in selector.items():
            if key in ZONE_KEYS and _FAULT_DOMAIN.match(str(value)):
                continue  # an AKS fault domain: not about regions
            if key in REGION_KEYS or key in ZONE_KEYS:
                mentioned = True
                region = str(value) if key in REGION_KEYS else self.zone_region(str(value), cloud)
                line = _line(selector, key)
                source = f"{where} {key}={value} ({self.r.file}:{line})"
                admitted = admitted.intersect(_Regions({region: (source, line)}))
        return admitted, mentioned

    def placed(
        self, admitted: _Regions, cloud: str | None, what: str
    ) -> tuple[Location | Unknown | None, list[Copy]]:
        """An admitted set as (location, further placements)."""
        if admitted.names is None:
            return Unknown(f"{admitted.reason}: pin {what} with In on topology.kubernetes.io/region"), []
        if not admitted.names:
            return None, []
        locations: list[tuple[Location, int | None]] = []
        for code, (source, line) in admitted.names.items():
            locations.extend((loc, line) for loc in self.locations(code, cloud, source))
        first, _ = locations[0]  # every placement is reported at the object's line (source has the value's)
        copies = [
            Copy(
                "placement",
                loc,
                via=loc.source.split(" (")[0],
                note=f"{what} may also be placed here",
            )
            for loc, line in locations[1:]
        ]
        return first, copies

    def key_location(
        self, key: str, cloud: str, volume: Location | Unknown | None, source: str
    ) -> Location | Unknown | None:
        """Where a key lives: the region in its ARN / resource name, else the volume's own region."""
        match = _ARN_REGION.match(key) if cloud == "aws" else _GCP_KEY_LOCATION.search(key)
        if match:
            return Location(cloud, match.group(1), source)
        return volume if isinstance(volume, Location) else None

    def gcp_snapshot_default(self, what: str, setting: str) -> Location | Unknown:
        """Where Compute Engine keeps snapshots when no storage location is set: the nearest multi-region."""
        cluster = self.cluster_locations()
        region = cluster[0] if cluster and cluster[0].cloud == "gcp" else None
        if region is not None:
            for multi in ("EU", "US", "ASIA"):
                resolved = self.catalog.resolve("gcp", multi)
                if resolved is not None and region.code in {m.code for m in resolved.members}:
                    return Location(
                        "gcp",
                        multi,
                        f"Compute Engine default for {what} of disks in {region.code}: the nearest "
                        f"multi-region, as {setting} is not set ({region.source})",
                    )
        known = f"the cluster region {region.code}" if region is not None else "a region that is not known"
        return Unknown(
            f"{setting} is not set: Compute Engine keeps {what} in the multi-region nearest the disk, "
            f"and the disk is in {known}; set {setting} to an allowed location"
        )


class _WorkloadReader(_Reader):
    """A workload (role ``workload``, RES005): the regions its pods may be scheduled in."""

    # ------------------------------------------------------------------ kinds
    def pod_spec(self) -> tuple[Any, str]:
        spec = self.r.attributes.get("spec")
        kind = self.r.extra.get("kind", self.r.type)
        if kind == "Pod":
            return spec, "spec"
        if kind == "CronJob":
            return _get(
                spec, "jobTemplate", "spec", "template", "spec"
            ), "spec.jobTemplate.spec.template.spec"
        return _get(spec, "template", "spec"), "spec.template.spec"

    def workload(self) -> DataStoreFacts:
        pod, prefix = self.pod_spec()
        cloud = self.hint_cloud()
        admitted, by_selector = self.node_selector(_get(pod, "nodeSelector"), f"{prefix}.nodeSelector", cloud)
        required = _get(pod, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
        where = f"{prefix}.affinity.nodeAffinity.required...nodeSelectorTerms"
        terms, by_affinity = self.terms(_get(required, "nodeSelectorTerms"), where, cloud, "matchExpressions")
        if by_affinity:
            admitted = admitted.intersect(terms)
        if by_selector or by_affinity:
            location, copies = self.placed(admitted, cloud, "this workload")
            notes = (
                []
                if location is not None
                else ["workload can never be scheduled: its region constraints admit no region"]
            )
            return self.facts(_cloud_of(location, cloud), location, "workload", copies=copies, notes=notes)
        cluster = self.cluster_locations()
        if cluster:
            copies = [Copy("placement", loc, via="cluster region") for loc in cluster[1:]]
            return self.facts(cluster[0].cloud, cluster[0], "workload", copies=copies)
        return self.facts(cloud or "kubernetes", None, "workload", notes=[UNPINNED_NOTE])


class _VolumeReader(_Reader):
    """PersistentVolumes and StorageClasses: where volumes are made and how the provisioner encrypts them."""

    def persistent_volume(self, storage_class: Resource | None) -> DataStoreFacts:
        spec = self.r.attributes.get("spec") or {}
        cloud = self.volume_cloud(spec) or self.hint_cloud()
        meta_labels = _get(self.r.attributes, "metadata", "labels")
        admitted, by_labels = self.node_selector(meta_labels, "metadata.labels", cloud)
        required = _get(spec, "nodeAffinity", "required")
        terms, by_affinity = self.terms(
            _get(required, "nodeSelectorTerms"),
            "spec.nodeAffinity.required.nodeSelectorTerms",
            cloud,
            "matchExpressions",
        )
        if by_affinity:
            admitted = admitted.intersect(terms)
        copies: list[Copy] = []
        if by_labels or by_affinity:
            location, copies = self.placed(admitted, cloud, "this volume")
        else:
            cluster = self.cluster_locations()
            location = cluster[0] if cluster else None
        if storage_class is not None:
            sc = _VolumeReader(storage_class, self.catalog).storage_class()
            encryption, source, keys = sc.encryption, f"StorageClass {sc.resource.address}", sc.keys
        else:
            handle = (
                _get(spec, "csi", "volumeHandle")
                or _get(spec, "awsElasticBlockStore", "volumeID")
                or _get(spec, "gcePersistentDisk", "pdName")
                or _get(spec, "azureDisk", "diskURI")
            )
            what = f"the disk {handle}" if handle else "the storage it points at"
            decided = f"a pre-provisioned volume's encryption at rest is decided by {what}, not by the PersistentVolume"
            always = self.family_encryption(spec).get("always")
            # A family whose disks are always encrypted (Azure SSE, Compute Engine) is known from below: only a
            # customer key is unknown. Others (EBS: account default) stay unknown.
            encryption = AtLeast(f"{always}; {decided}", Encryption.PROVIDER) if always else Unknown(decided)
            source, keys = "", []
        return self.facts(
            cloud or _cloud_of(location, None),
            location,
            copies=copies,
            encryption=encryption,
            encryption_source=source,
            keys=list(keys),
        )

    def family_encryption(self, spec: Any) -> Mapping[str, Any]:
        """The encryption facts of the CSI driver's family (kubernetes_storage.yaml); none for in-tree sources."""
        driver = _get(spec, "csi", "driver")
        family = PROVISIONERS[driver][1] if isinstance(driver, str) and driver in PROVISIONERS else None
        return STORAGE.families[family]["encryption"] if family else {}

    def volume_cloud(self, spec: Any) -> str | None:
        driver = _get(spec, "csi", "driver")
        if isinstance(driver, str) and driver in PROVISIONERS:
            return PROVISIONERS[driver][0]
        for field, cloud in STORAGE.in_tree_volumes.items():
            if isinstance(spec, dict) and field in spec:
                return cloud
        return None

    def storage_class(self) -> DataStoreFacts:
        attrs = self.r.attributes
        provisioner = str(attrs.get("provisioner") or "")
        cloud, family = PROVISIONERS.get(provisioner, (self.hint_cloud() or "kubernetes", ""))
        raw_params = _sub(attrs, "parameters")
        params = {str(k).lower(): v for k, v in raw_params.items()}  # CSI parameter keys are case-insensitive

        def param_line(name: str) -> int | None:
            for key in raw_params:
                if str(key).lower() == name.lower():
                    return _line(raw_params, key)
            return None

        def where(name: str) -> str:
            return f"parameters.{name} ({self.r.file}:{param_line(name) or self.r.line})"

        # Location: an explicit Azure location, else allowedTopologies / legacy zone(s), else the cluster.
        location: Location | Unknown | None
        copies: list[Copy] = []
        known_cloud = cloud if cloud != "kubernetes" else None
        spec = STORAGE.families.get(family, {})
        location_param = spec.get("location_param")
        if location_param and params.get(location_param.lower()):
            location = Location(cloud, str(params[location_param.lower()]), where(location_param))
        else:
            admitted, mentioned = self.terms(
                attrs.get("allowedTopologies"), "allowedTopologies", known_cloud, "matchLabelExpressions"
            )
            zones = params.get("zones") or params.get("zone")
            if zones:
                mentioned = True
                names: dict[str, tuple[str, int | None]] = {}
                for zone in str(zones).split(","):
                    region = self.zone_region(zone.strip(), known_cloud)
                    names.setdefault(
                        region,
                        (
                            f"parameters.zone(s) {zone.strip()} "
                            f"({self.r.file}:{param_line('zones') or param_line('zone')})",
                            param_line("zones") or param_line("zone"),
                        ),
                    )
                admitted = admitted.intersect(_Regions(names))
            if mentioned:
                location, copies = self.placed(admitted, known_cloud, "a volume of this class")
            else:
                cluster = self.cluster_locations()
                location = cluster[0] if cluster else None

        encryption, source, keys, notes = self.sc_encryption(provisioner, family, params, where, location)
        geo = spec.get("geo_sku")
        if geo:  # the first SKU parameter set, else the driver's default SKU
            key = next((n for n in geo["params"] if params.get(n.lower())), geo["params"][-1])
            sku = str(params.get(key.lower()) or geo["default"])
            if sku.partition("_")[2].upper() in STORAGE.geo_skus:
                copies.append(
                    self.azure_pair_copy(location, sku, f"parameters.{key}", param_line(key.lower()))
                )
        return self.facts(
            cloud,
            location,
            copies=copies,
            encryption=encryption,
            encryption_source=source,
            keys=keys,
            notes=notes,
        )

    def azure_pair_copy(
        self, location: Location | Unknown | None, sku: str, via: str, line: int | None
    ) -> Copy:
        note = f"{sku} replicates to the paired region"
        line = None  # findings point at the object's first line; the value's line is in the provenance
        if not isinstance(location, Location):
            reason = (
                location.reason
                if isinstance(location, Unknown)
                else (
                    "the storage account's region is not in the StorageClass: set parameters.location, "
                    "or the cluster region in residency.yaml kubernetes.clusters"
                )
            )
            return Copy(
                "geo-pair",
                Unknown(f"{sku} replicates to the paired region of a region that is not known: {reason}"),
                via,
                line,
                note,
            )
        try:
            pair = self.catalog.azure_pair(location.code)
        except KeyError:
            return Copy(
                "geo-pair",
                Unknown(
                    f"{location.code} is not an Azure region the scanner knows, so its "
                    "paired region is unknown"
                ),
                via,
                line,
                note,
            )
        if pair is None:
            return Copy(
                "geo-pair",
                Unknown(f"{location.code} has no published pair; Azure picks the secondary for {sku}"),
                via,
                line,
                note,
            )
        return Copy(
            "geo-pair",
            Location("azure", pair.code, f"paired region of {location.code} ({via}={sku})"),
            via,
            line,
            note,
        )

    def sc_encryption(
        self,
        provisioner: str,
        family: str,
        params: dict[str, Any],
        where: Any,
        location: Location | Unknown | None,
    ) -> tuple[Encryption | Unknown, str, list[KeyUse], list[str]]:
        """Encryption at rest of volumes from this class, per provisioner (fail closed when unknown)."""
        keys: list[KeyUse] = []
        notes: list[str] = []
        enc = STORAGE.families[family]["encryption"] if family in STORAGE.families else None
        if enc is not None and "elsewhere" in enc:
            other = enc["elsewhere"]
            value = params.get(other["param"].lower())
            what = other["named"].format(value=value) if value else other["unnamed"]
            return (
                Unknown(
                    f"encryption is decided by {what}, not by the StorageClass: check that file "
                    "system's encrypted setting"
                ),
                "",
                keys,
                notes,
            )
        if enc is not None:
            key = params.get(enc["key"].lower()) if "key" in enc else None
            if "flag" in enc:  # a "true" parameter turns encryption on; unset, the driver leaves it off
                raw = params.get(enc["flag"].lower())
                encrypted = str(raw).strip().lower() == "true" if raw is not None else False
                if not encrypted:
                    if key:
                        notes.append(enc["key_without_flag"])
                    said = (
                        enc["flag_off"].format(where=where(enc["flag"]), raw=raw)
                        if raw is not None
                        else enc["flag_unset"].format(at=f"{self.r.file}:{self.r.line}")
                    )
                    return Encryption.NONE, said, keys, notes
            if not key or ("managed_key" in enc and enc["managed_key"] in str(key)):
                said = enc["provider_flag"].format(where=where(enc["flag"])) if "flag" in enc else enc["provider"]
                return Encryption.PROVIDER, said, keys, notes
            if "key_cloud" in enc:  # the key's region is in its name (ARN, locations/...), else the volume's
                key_location = self.key_location(str(key), enc["key_cloud"], location, where(enc["key"]))
            else:  # key_in: volume (a disk encryption set must be in the disk's region)
                key_location = location if isinstance(location, Location) else None
            keys.append(KeyUse(str(key), key_location, f"parameters.{enc['key']}"))
            return Encryption.CUSTOMER, enc["customer"].format(where=where(enc["key"])), keys, notes
        if provisioner in EXTERNAL_FILE_SYSTEMS:
            return (
                Unknown(
                    f"encryption is decided by {EXTERNAL_FILE_SYSTEMS[provisioner]}, not by the StorageClass"
                ),
                "",
                keys,
                notes,
            )
        return (
            Unknown(
                f"provisioner {provisioner or '(none)'} is not one the scanner knows, so its encryption "
                "at rest cannot be read from the StorageClass"
            ),
            "",
            keys,
            notes,
        )


class _BackupReader(_Reader):
    """Velero backup/snapshot locations and VolumeSnapshotClasses: copies of cluster data elsewhere."""

    def velero(self) -> DataStoreFacts:
        spec = self.r.attributes.get("spec") or {}
        provider = str(spec.get("provider") or "")
        cloud = {"aws": "aws", "gcp": "gcp", "azure": "azure", "microsoft-azure": "azure"}.get(
            provider.removeprefix("velero.io/"), ""
        )
        config = _sub(spec, "config")
        is_bsl = self.r.type.startswith("BackupStorageLocation")
        what = "backups" if is_bsl else "volume snapshots"

        def at(key: str) -> str:
            return f"spec.config.{key} ({self.r.file}:{_line(config, key, self.r.line)})"

        target: Location | Unknown | None
        via = "spec.config.region"
        if cloud == "aws":
            url = config.get("s3Url")
            if is_bsl and url and _in_cluster_url(str(url)):
                # An object store inside the cluster (MinIO): backups stay where the cluster is.
                cluster = self.cluster_locations()
                via = "spec.config.s3Url"
                target = (
                    Location(cluster[0].cloud, cluster[0].code, f"in-cluster endpoint {url} ({at('s3Url')}), "
                             f"{cluster[0].source}")
                    if cluster
                    else None
                )
            elif is_bsl and url and "amazonaws.com" not in str(url):
                target = Unknown(
                    f"{what} go to the S3-compatible endpoint {url} ({at('s3Url')}); where that service "
                    "stores them is not in the manifest"
                )
                via = "spec.config.s3Url"
            elif config.get("region"):
                target = Location("aws", str(config["region"]), at("region"))
            else:
                target = Unknown(
                    f"spec.config.region is not set: Velero asks S3 for the bucket's region at run "
                    f"time, so where {what} go is not in the manifest"
                    if is_bsl
                    else "spec.config.region is not set (the AWS plugin requires it for volume snapshots)"
                )
        elif cloud == "gcp" and not is_bsl:
            via = "spec.config.snapshotLocation"
            if config.get("snapshotLocation"):
                target = Location("gcp", str(config["snapshotLocation"]), at("snapshotLocation"))
            else:
                target = self.gcp_snapshot_default("volume snapshots", "spec.config.snapshotLocation")
        elif cloud == "azure" and not is_bsl:
            target = None  # managed-disk snapshots are created in the disk's own region
        elif cloud in ("gcp", "azure"):
            bucket = _get(spec, "objectStorage", "bucket")
            via = "spec.objectStorage.bucket"
            if cloud == "gcp":
                where = f"the bucket {bucket}, whose location is set on the bucket itself"
            else:
                account = config.get("storageAccount") or config.get("storageAccountURI") or "(not named)"
                where = (
                    f"container {bucket} of storage account {account}, whose region and geo-replication "
                    "are set on the storage account itself"
                )
            target = Unknown(
                f"{what} go to {where}, not in the BackupStorageLocation; check that it is in an allowed "
                "region (and declare it in the scanned configuration)"
            )
        else:
            via = "spec.provider"
            target = Unknown(f"Velero provider {provider or '(none)'} is not one the scanner knows")
        copies = [] if target is None else [Copy("backup", target, via, None, note=f"Velero {what}")]
        return self.facts(cloud or "kubernetes", None, copies=copies)

    def snapshot_class(self) -> DataStoreFacts | None:
        attrs = self.r.attributes
        driver = str(attrs.get("driver") or "")
        raw = _sub(attrs, "parameters")
        params = {str(k).lower(): (k, v) for k, v in raw.items()}
        target: Location | Unknown
        where_to = STORAGE.snapshot_classes.get(driver)
        if where_to is None:
            return None  # snapshots stay with the disk (EBS, others): nothing new to judge
        cloud, key = where_to["cloud"], where_to["param"].lower()
        if key not in params or not params[key][1]:
            if where_to.get("default") != "gcp-nearest-multi-region":
                return None  # unset: the snapshots stay with the disk (Azure disk default)
            target = self.gcp_snapshot_default("snapshots", f"parameters.{key}")
            return self.facts(cloud, None, copies=[Copy("snapshot", target, f"parameters.{key}")])
        name, value = params[key]
        line = _line(raw, name, self.r.line)
        target = Location(cloud, str(value).strip(), f"parameters.{name} ({self.r.file}:{line})")
        return self.facts(cloud, None, copies=[Copy("snapshot", target, f"parameters.{name}")])


def _in_cluster_url(url: str) -> bool:
    """An endpoint served inside the cluster: a Service DNS name (``minio.velero.svc:9000``, ``minio``)."""
    from urllib.parse import urlparse

    try:
        host = (urlparse(url if "://" in url else f"//{url}").hostname or "").lower()
    except ValueError:
        return False
    return bool(host) and (
        host.endswith((".svc", ".svc.cluster.local", ".cluster.local")) or ("." not in host and host != "localhost")
    )


def _cloud_of(location: Location | Unknown | None, fallback: str | None) -> str:
    if isinstance(location, Location) and location.cloud:
        return location.cloud
    return fallback or "kubernetes"
