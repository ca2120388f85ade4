"""Region catalog: what country and jurisdiction every cloud location code means.

Why an explicit catalog instead of reading prefixes: the ``eu-`` prefix is not a jurisdiction
(AWS ``eu-west-2`` is London, ``eu-central-2`` Zurich), the Cloud Storage ``EU`` multi-region
leaves out London and Zurich, and an Azure pair can cross a border (``brazilsouth`` replicates
to Texas). So every code is looked up, and a code the catalog does not know resolves to ``None``:
the caller turns that into an ``unresolved`` finding. The catalog never guesses.

The facts live in JSON package data under ``data/`` (regions, multi-/dual-regions, groups, ISO
countries), read once with :mod:`importlib.resources`; this module only indexes them. It knows
no policy: groups describe geography and law (``in:eu-locations``), not what a user allows.
Stdlib only, so ``import scanner.regions`` plus the first :func:`catalog` stay in the low
milliseconds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["CLOUDS", "Catalog", "Region", "ResolvedLocation", "catalog", "normalize_cloud"]

#: Canonical cloud ids, in the order results are listed.
CLOUDS: tuple[str, ...] = ("aws", "gcp", "azure")

_CLOUD_ALIASES = {
    "aws": "aws",
    "gcp": "gcp",
    "google": "gcp",
    "google-beta": "gcp",
    "azure": "azure",
    "azurerm": "azure",
}

# Zone spellings whose region is certain. Anything else (AWS Local/Wavelength Zones such as
# us-east-1-bue-1a, which sit in another city or even another country) stays unresolved.
_AWS_ZONE = re.compile(r"^([a-z]+(?:-[a-z]+)+-\d+)[a-z]$")  # us-west-2a, us-gov-west-1b
_GCP_ZONE = re.compile(r"^([a-z]+-[a-z]+\d+)-(?:[a-z]|ai\d+[a-z])$")  # europe-west1-b, us-central1-ai1a
_AZURE_ZONE = re.compile(r"^([a-z]+[a-z0-9]*)-([1-9])$")  # westeurope-1
_CODE_SHAPE = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")

_KIND_WORDS = {"custom-dual-region": "custom dual-region"}
_COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}  # common non-ISO spellings, only used for suggestions/errors


def normalize_cloud(cloud: str) -> str | None:
    """Map a provider name (``google``, ``azurerm``) to its canonical cloud id, or None if unknown."""
    if not isinstance(cloud, str):
        return None
    return _CLOUD_ALIASES.get(cloud.strip().lower())


def _azure_normalize(code: str) -> str:
    """azurerm's ``location.Normalize()``: lower case, no spaces ("West Europe" -> "westeurope")."""
    return "".join(code.split()).lower()


def _natural_key(code: str) -> tuple[Any, ...]:
    """Sort europe-west2 before europe-west10, so listings read the way people count."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", code.lower()))


def _region_sort_key(region: Region) -> tuple[Any, ...]:
    return (CLOUDS.index(region.cloud) if region.cloud in CLOUDS else len(CLOUDS), _natural_key(region.code))


@dataclass(frozen=True)
class Region:
    """One region of one cloud, with the facts residency decisions need.

    ``country`` is ISO 3166-1 alpha-2 upper case (``GB``, never ``UK``); ``jurisdiction`` is the
    lower-case legal bucket (``eu``, ``eea``, ``uk``, ``ch``, ``cn``, ``us`` or the country code).
    ``pair`` is the Azure geo-redundant secondary (one-directional where Azure says so).
    ``groups`` holds every group name it belongs to, including ``country:XX``.
    """

    cloud: str
    code: str
    name: str
    country: str
    jurisdiction: str
    display_name: str | None = None
    pair: str | None = None
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ResolvedLocation:
    """A location code as written, expanded to every region the data may live in.

    ``code`` is the normalised spelling (lower-case regions and zones, upper-case Cloud Storage
    multi-/dual-region codes); ``kind`` is ``region``, ``zone``, ``multi-region``, ``dual-region``
    or ``custom-dual-region``. ``members_published`` is False when the provider does not publish
    the exact members and the catalog lists every region the location may use (fail closed).
    """

    cloud: str
    code: str
    kind: str
    members: tuple[Region, ...]
    members_published: bool = True

    @property
    def jurisdictions(self) -> frozenset[str]:
        """Every jurisdiction the data may be in; more than one means the location crosses a border."""
        return frozenset(r.jurisdiction for r in self.members)

    @property
    def countries(self) -> frozenset[str]:
        return frozenset(r.country for r in self.members)

    def describe(self) -> str:
        """A human sentence fragment for messages, e.g. ``eu-west-2 (Europe (London), GB, uk)``."""
        if self.kind in ("region", "zone") and len(self.members) == 1:
            r = self.members[0]
            where = f"{r.name}, {r.country}, {r.jurisdiction}"
            if self.kind == "zone":
                return f"{self.code} (zone of {r.code}, {where})"
            if self.code != r.code:
                return f"{self.code} ({r.code}, {where})"
            return f"{self.code} ({where})"
        codes = ", ".join(r.code for r in self.members)
        jurisdictions = ", ".join(sorted(self.jurisdictions))
        text = f"{self.code} {_KIND_WORDS.get(self.kind, self.kind)} ({codes}; {jurisdictions})"
        if not self.members_published:
            text += " [exact members not published: every region it may use]"
        return text


def _union(locations: list[ResolvedLocation]) -> ResolvedLocation:
    """One answer for a code with several product meanings: every region any of them uses."""
    if len(locations) == 1:
        return locations[0]
    first = locations[0]
    members = {r for loc in locations for r in loc.members}
    kinds = {loc.kind for loc in locations}
    return ResolvedLocation(
        cloud=first.cloud,
        code=first.code,
        kind=first.kind if len(kinds) == 1 else "multi-region",
        members=tuple(sorted(members, key=_region_sort_key)),
        members_published=all(loc.members_published for loc in locations),
    )


def _load() -> dict[str, Any]:
    """Read the JSON package data (zip-safe through importlib.resources)."""
    base = resources.files(__name__).joinpath("data")
    return {
        name: json.loads(base.joinpath(f"{name}.json").read_text(encoding="utf-8"))
        for name in ("regions", "locations", "groups", "countries")
    }


class Catalog:
    """Lookups over the region data. Build one with :func:`catalog`; it is immutable.

    Every lookup normalises the way the provider does (AWS/GCP case, Azure ``Normalize``) and
    returns None (or raises KeyError where documented) for what it does not know.
    """

    def __init__(self, data: Mapping[str, Any], extra: tuple[Mapping[str, Any], ...] = ()) -> None:
        self._data = data
        self._extra = extra
        self._countries: dict[str, str] = dict(data["countries"]["countries"])
        groups_data = data["groups"]
        self._jurisdiction_of: dict[str, str] = {
            country: jurisdiction
            for jurisdiction, countries in groups_data["jurisdictions"].items()
            for country in countries
        }
        self._group_countries = self._expand_group_countries(groups_data)
        country_groups: dict[str, set[str]] = {}
        for name, group_countries in self._group_countries.items():
            for country in group_countries:
                country_groups.setdefault(country, set()).add(name)
        self._country_groups = {c: frozenset(g) for c, g in country_groups.items()}

        self._regions: dict[tuple[str, str], Region] = {}
        for rec in data["regions"]["regions"]:
            self._add_region(rec)
        for rec in extra:
            self._add_region(rec)
        self._all = tuple(sorted(self._regions.values(), key=_region_sort_key))

        self._descriptions: dict[str, str] = {name: spec["description"] for name, spec in groups_data["groups"].items()}
        members: dict[str, list[Region]] = {name: [] for name in self._descriptions}
        for region in self._all:
            for name in region.groups:
                members.setdefault(name, []).append(region)
        for region in self._all:
            if region.cloud == "gcp":
                self._descriptions[f"in:{region.code}-locations"] = (
                    f"Google Cloud region {region.code} ({region.name}, {region.country}) and its zones."
                )
        for country in sorted({r.country for r in self._all}):
            self._descriptions[f"country:{country}"] = f"Regions in {self._countries[country]} ({country})."
        self._members = {name: tuple(regions) for name, regions in members.items()}

        # One code can name different places in different products (Cloud Storage EUR5 vs Spanner
        # eur5): keep each product's entry, and the union for lookups that do not say the product.
        self._by_product: dict[str, list[tuple[frozenset[str], ResolvedLocation]]] = {}
        # Azure geographies ("Europe", "United States") are the value of a few products' own argument
        # (Communication Services data_location, B2C data_residency_location), never a resource
        # location: kept apart, found only when the product is named, so `location = "Europe"` on a
        # storage account stays an unknown code.
        self._azure_geographies: dict[str, list[tuple[frozenset[str], ResolvedLocation]]] = {}
        for rec in data["locations"]["locations"]:
            loc = self._build_location(rec)
            entry = (frozenset(rec.get("products", ())), loc)
            if loc.cloud == "azure":
                self._azure_geographies.setdefault(_azure_normalize(loc.code), []).append(entry)
            else:
                self._by_product.setdefault(loc.code.lower(), []).append(entry)
        self._locations = {key: _union([loc for _, loc in entries]) for key, entries in self._by_product.items()}
        self._azure_aliases: dict[str, str] = dict(data["locations"].get("azure_aliases", {}))

    # ----------------------------------------------------------------- building
    def _expand_group_countries(self, groups_data: Mapping[str, Any]) -> dict[str, frozenset[str]]:
        """Turn each group's countries/jurisdictions/includes into one set of countries."""
        by_jurisdiction: dict[str, set[str]] = {}
        for country, jurisdiction in self._jurisdiction_of.items():
            by_jurisdiction.setdefault(jurisdiction, set()).add(country)
        specs = groups_data["groups"]
        done: dict[str, frozenset[str]] = {}

        def expand(name: str, seen: tuple[str, ...]) -> frozenset[str]:
            if name in done:
                return done[name]
            if name in seen:
                raise ValueError(f"group include cycle: {' -> '.join((*seen, name))}")
            spec = specs[name]
            result = set(spec.get("countries", ()))
            for jurisdiction in spec.get("jurisdictions", ()):
                result |= by_jurisdiction.get(jurisdiction, {jurisdiction.upper()})
            for inner in spec.get("include", ()):
                result |= expand(inner, (*seen, name))
            done[name] = frozenset(result)
            return done[name]

        for name in specs:
            expand(name, ())
        return done

    def _jurisdiction(self, country: str) -> str:
        return self._jurisdiction_of.get(country, country.lower())

    def _add_region(self, rec: Mapping[str, Any]) -> None:
        cloud, code, country = rec["cloud"], rec["code"], rec["country"]
        groups = set(self._country_groups.get(country, ()))
        groups.add(f"country:{country}")
        if cloud == "gcp":
            groups.add(f"in:{code}-locations")
        self._regions[(cloud, code)] = Region(
            cloud=cloud,
            code=code,
            name=rec.get("name") or code,
            country=country,
            jurisdiction=rec.get("jurisdiction") or self._jurisdiction(country),
            display_name=rec.get("display_name"),
            pair=rec.get("pair"),
            groups=frozenset(groups),
        )

    def _build_location(self, rec: Mapping[str, Any]) -> ResolvedLocation:
        cloud = rec["cloud"]
        if "members" in rec:
            regions = [self._regions[(cloud, code)] for code in rec["members"]]
        else:
            wanted = set(rec["member_groups"])
            regions = [r for r in self.all_regions(cloud) if r.groups & wanted]
        return ResolvedLocation(
            cloud=cloud,
            code=rec["code"],
            kind=rec["kind"],
            members=tuple(sorted(regions, key=_region_sort_key)),
            members_published=rec.get("members_published", True),
        )

    # ----------------------------------------------------------------- lookups
    def _key(self, cloud: str, code: str) -> str:
        """The provider's own normalisation of a code (without alias or zone handling)."""
        if cloud == "azure":
            key = _azure_normalize(code)
            return self._azure_aliases.get(key, key)
        return code.strip().lower()

    def region(self, cloud: str, code: str) -> Region | None:
        """The region named exactly (after normalisation); zones and multi-regions give None."""
        c = normalize_cloud(cloud)
        if c is None or not isinstance(code, str):
            return None
        return self._regions.get((c, self._key(c, code)))

    def resolve(self, cloud: str, code: str, *, product: str | None = None) -> ResolvedLocation | None:
        """Expand a location code to its member regions; None when the code is unknown.

        Accepts regions, zones (``us-west-2a``, ``europe-west1-b``, ``westeurope-1``), Azure display
        names and the India aliases, GCP codes in any case (``eu`` == ``EU``), multi-/dual-regions,
        Firestore ``eur3``/``nam5`` and Spanner configs (``regional-<region>``, ``nam3``...).
        ``global`` is not a location and resolves to None: callers handle global services.

        ``product`` (``storage``, ``bigquery``, ``kms``, ``firestore``, ``datastore``, ``spanner``)
        picks the right meaning of a GCP code that products spell alike (Cloud Storage ``EUR5`` is a
        dual-region, Spanner ``eur5`` spans three regions). Without it, or when no entry is declared
        for that product, such a code resolves to the union of its meanings: never fewer regions.

        For Azure, ``product`` (``communication``, ``aadb2c``) also admits that product's geographies
        (``Europe``, ``United States``, ``UK``): a ``multi-region`` of every region the geography may
        use. A geography is never a location without its product, and a value outside the table is
        None (unresolved), never a pass.
        """
        c = normalize_cloud(cloud)
        if c is None or not isinstance(code, str):
            return None
        key = self._key(c, code)
        if not key:
            return None
        region = self._regions.get((c, key))
        if region is not None:
            return ResolvedLocation(c, region.code, "region", (region,))
        if c == "gcp":
            entries = self._by_product.get(key)
            if entries:
                chosen = [loc for products, loc in entries if product in products] if product else []
                return chosen[0] if len(chosen) == 1 else self._locations[key]
            if key.startswith("regional-"):
                region = self._regions.get(("gcp", key.removeprefix("regional-")))
                if region is not None:
                    return ResolvedLocation("gcp", key, "region", (region,))
            zone = _GCP_ZONE.match(key)
        elif c == "aws":
            zone = _AWS_ZONE.match(key)
        else:
            if product is not None:
                chosen = [loc for products, loc in self._azure_geographies.get(key, ()) if product in products]
                if len(chosen) == 1:
                    return chosen[0]
            zone = _AZURE_ZONE.match(key)
        if zone is not None:
            base = zone.group(1)
            region = self._regions.get((c, self._azure_aliases.get(base, base) if c == "azure" else base))
            if region is not None:
                return ResolvedLocation(c, key, "zone", (region,))
        return None

    def resolve_any(self, code: str) -> list[ResolvedLocation]:
        """Resolve a bare code in every cloud that knows it (for Kubernetes labels and policy hints)."""
        return [loc for c in CLOUDS if (loc := self.resolve(c, code)) is not None]

    def custom_dual_region(self, cloud: str, codes: list[str]) -> ResolvedLocation | None:
        """A Cloud Storage configurable dual-region (``custom_placement_config.data_locations``).

        The data lives in exactly the listed regions. None when the cloud is not GCP, the list is
        empty, or any entry is not a known region. Google's pairing rules (two regions of one
        multi-region) are not checked here: the provider rejects bad pairs, residency does not care.
        """
        if normalize_cloud(cloud) != "gcp" or not codes:
            return None
        members: list[Region] = []
        for code in codes:
            region = self.region("gcp", code) if isinstance(code, str) else None
            if region is None:
                return None
            if region not in members:
                members.append(region)
        return ResolvedLocation("gcp", "+".join(r.code.upper() for r in members), "custom-dual-region", tuple(members))

    def azure_pair(self, code: str) -> Region | None:
        """The paired (geo-redundant secondary) region of an Azure region, None when it has none.

        Raises KeyError for an unknown region, so "unknown" is never mistaken for "unpaired"
        (which would silently pass a GRS check).
        """
        region = self.region("azure", code)
        if region is None:
            raise KeyError(code)
        return self._regions.get(("azure", region.pair)) if region.pair else None

    # ----------------------------------------------------------------- groups
    def groups(self) -> dict[str, str]:
        """Group name -> description, for every ``in:`` group and every ``country:XX`` with regions."""
        return dict(self._descriptions)

    def _group_key(self, name: str) -> str | None:
        if not isinstance(name, str):
            return None
        text = name.strip()
        low = text.lower()
        if low.startswith("country:"):
            country = text[len("country:") :].strip().upper()
            return f"country:{country}" if country in self._countries else None
        return low if low in self._descriptions else None

    def group_members(self, name: str) -> tuple[Region, ...]:
        """Every region in a group. ``country:XX`` for an ISO country without regions is empty.

        Raises KeyError for an unknown group name (``country:UK``, ``in:emea-locations``).
        """
        key = self._group_key(name)
        if key is None:
            raise KeyError(name)
        return self._members.get(key, ())

    def is_group(self, name: str) -> bool:
        """True for a known ``in:`` group or ``country:XX`` with XX an ISO 3166-1 alpha-2 code."""
        return self._group_key(name) is not None

    # ----------------------------------------------------------------- listing and help
    def all_regions(self, cloud: str | None = None) -> tuple[Region, ...]:
        """Every region, sorted by cloud then code; only one cloud's when ``cloud`` is given.

        Raises ValueError for an unknown cloud: asking for one is a programming error.
        """
        if cloud is None:
            return self._all
        c = normalize_cloud(cloud)
        if c is None:
            raise ValueError(f"unknown cloud {cloud!r}; expected one of {', '.join(CLOUDS)}")
        return tuple(r for r in self._all if r.cloud == c)

    def suggest(self, code: str, n: int = 3, *, cloud: str | None = None) -> list[str]:
        """The nearest real codes for an error message (``eu-west-9`` -> eu-west-1, -2, -3).

        Works for location codes (optionally one cloud's), ``in:`` groups and ``country:XX``
        (``country:UK`` -> ``country:GB``). Best match first, ties alphabetically.
        """
        from difflib import SequenceMatcher  # only on the error path

        if not isinstance(code, str) or n <= 0:
            return []
        text = code.strip()
        low = text.lower()
        if low.startswith("country:"):
            country = text[len("country:") :].strip().upper()
            fixed = _COUNTRY_ALIASES.get(country)
            if fixed:
                return [f"country:{fixed}"]
            candidates = [f"country:{c}" for c in self._countries]
            low = f"country:{country}".lower()
        elif low.startswith("in:"):
            candidates = [g for g in self._descriptions if g.startswith("in:")]
        else:
            c = normalize_cloud(cloud) if cloud is not None else None
            clouds = (c,) if c else CLOUDS
            candidates = [r.code for r in self._all if r.cloud in clouds]
            if "gcp" in clouds:
                candidates += [loc.code for loc in self._locations.values()]
            if "azure" in clouds and " " in low:
                low = _azure_normalize(low)  # "West Europ" is compared as azurerm would see it
        scored = []
        matcher = SequenceMatcher()
        matcher.set_seq2(low)
        for candidate in dict.fromkeys(candidates):
            matcher.set_seq1(candidate.lower())
            if matcher.real_quick_ratio() >= 0.6 and matcher.quick_ratio() >= 0.6:
                score = matcher.ratio()
                if score >= 0.6:
                    scored.append((-score, _natural_key(candidate), candidate))
        scored.sort()
        return [candidate for _, _, candidate in scored[:n]]

    # ----------------------------------------------------------------- extension
    def extended(self, extra: Iterable[Mapping[str, Any]]) -> Catalog:
        """A new catalog that also knows policy-provided regions ``{cloud, code, country, name?}``.

        For regions newer than the shipped data. Jurisdiction and groups are derived from the
        country; new GCP regions also join the multi-regions whose members follow a group (so a new
        EU region becomes a possible member of ``EU``). Raises ValueError for a bad entry or one
        that contradicts the shipped data (an existing code with another country).
        """
        added: list[dict[str, Any]] = []
        seen: dict[tuple[str, str], str] = {}
        for index, rec in enumerate(extra):
            where = f"extra region #{index + 1}"
            if not isinstance(rec, Mapping):
                raise ValueError(f"{where}: expected a mapping with cloud, code and country")
            cloud = normalize_cloud(rec.get("cloud", ""))
            if cloud is None:
                raise ValueError(f"{where}: unknown cloud {rec.get('cloud')!r}; expected one of {', '.join(CLOUDS)}")
            raw_code, raw_country = rec.get("code"), rec.get("country")
            if not isinstance(raw_code, str) or not isinstance(raw_country, str):
                raise ValueError(f"{where}: 'code' and 'country' must be strings")
            code = self._key(cloud, raw_code)
            if not _CODE_SHAPE.match(code):
                raise ValueError(f"{where}: {raw_code!r} is not a region code")
            country = raw_country.strip().upper()
            if country not in self._countries:
                hint = _COUNTRY_ALIASES.get(country)
                tip = f" (use {hint})" if hint else ""
                raise ValueError(f"{where}: {raw_country!r} is not an ISO 3166-1 alpha-2 country code{tip}")
            name = rec.get("name")
            if name is not None and not isinstance(name, str):
                raise ValueError(f"{where}: 'name' must be a string")
            existing = self._regions.get((cloud, code))
            if existing is not None:
                if existing.country != country:
                    raise ValueError(
                        f"{where}: {cloud} {code} is already in the catalog in {existing.country}, not {country}"
                    )
                continue
            if cloud == "gcp" and code in self._locations:
                raise ValueError(f"{where}: gcp {code} is a multi-region/dual-region code, not a region")
            if seen.get((cloud, code), country) != country:
                raise ValueError(f"{where}: {cloud} {code} is given twice with different countries")
            if (cloud, code) in seen:
                continue
            seen[(cloud, code)] = country
            added.append(
                {
                    "cloud": cloud,
                    "code": code,
                    "country": country,
                    "name": name or code,
                    "display_name": name if cloud == "azure" else None,
                }
            )
        if not added:
            return self
        return Catalog(self._data, self._extra + tuple(added))


@cache
def catalog() -> Catalog:
    """The shipped catalog, loaded once per process."""
    return Catalog(_load())
