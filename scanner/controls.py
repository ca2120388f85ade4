"""The compliance controls a rule may cite: the one list of valid ids, with titles and the "why".

Ids are ``<framework>:<identifier>`` so one flat namespace serves three catalogues:
``NIST:GV.OC-03`` (NIST CSF 2.0 subcategory), ``ISO27001:5.23`` (ISO/IEC 27001:2022 Annex A),
``SOC2:CC6.1`` (AICPA Trust Services Criteria). Only identifiers whose wording was confirmed are
listed (see the project's compliance reference); a rule citing anything else fails a test, so a
typo such as ``ISO27001:5.32`` cannot reach a SARIF file an auditor reads. Titles are paraphrased
outcomes, and the "why" lines are this project's interpretation, not the standards' text: the
mapping is indicative and auditors decide.
"""

from __future__ import annotations

from dataclasses import dataclass

FRAMEWORKS: dict[str, str] = {
    "NIST": "NIST Cybersecurity Framework 2.0",
    "ISO27001": "ISO/IEC 27001:2022 Annex A",
    "SOC2": "SOC 2 (AICPA Trust Services Criteria 2017, points of focus revised 2022)",
}

CONCERNS: dict[str, str] = {
    "C1": "data location / residency",
    "C2": "cross-region replication and copies",
    "C3": "encryption at rest",
    "C4": "key management",
    "C5": "configuration-as-code control",
    "C6": "who can reach a data store, and from where",
}


@dataclass(frozen=True)
class Control:
    """One citable control: ``id`` as rules cite it, a paraphrased title, and why it applies here."""

    id: str
    title: str
    concerns: tuple[str, ...]
    why: str

    @property
    def framework(self) -> str:
        return self.id.split(":", 1)[0]

    @property
    def reference(self) -> str:
        """The identifier inside its framework, e.g. ``GV.OC-03`` for ``NIST:GV.OC-03``."""
        return self.id.split(":", 1)[1]


def _c(id_: str, title: str, concerns: str, why: str) -> Control:
    return Control(id_, title, tuple(concerns.split()), why)


_ALL = (
    # NIST CSF 2.0
    _c("NIST:GV.OC-03", "Legal, regulatory and contractual cybersecurity requirements, including privacy and "
       "civil-liberties obligations, are understood and managed", "C1 C2",
       "Residency rules come from law and contract (e.g. GDPR transfer rules)."),
    _c("NIST:GV.PO-01", "Cybersecurity risk-management policy is established, communicated and enforced",
       "C1 C2 C3 C4", "The approved-region and encryption policy is what the scanner enforces."),
    _c("NIST:ID.AM-07", "Inventories of data and corresponding metadata for designated data types are maintained",
       "C1 C2", "A location per data store, replicas included, is part of the data inventory."),
    _c("NIST:ID.AM-08", "Systems, hardware, software, services and data are managed throughout their life cycles",
       "C2", "Copies, backups and replicas are life-cycle artefacts of the data."),
    _c("NIST:PR.AA-05", "Access permissions, entitlements and authorizations are defined in a policy, managed, "
       "enforced and reviewed, with least privilege and separation of duties", "C6",
       "A principal in another jurisdiction granted access to an EU store is a permission the policy must define."),
    _c("NIST:PR.DS-01", "The confidentiality, integrity and availability of data-at-rest are protected", "C3 C4",
       "Encryption at rest and control of the keys protect data at rest."),
    _c("NIST:PR.DS-02", "The confidentiality, integrity and availability of data-in-transit are protected", "C2",
       "Replication traffic between regions is data in transit (secondary)."),
    _c("NIST:PR.DS-11", "Backups of data are created, protected, maintained and tested", "C2 C3",
       "Backup vaults and geo-backups must stay in region and be encrypted."),
    _c("NIST:PR.PS-01", "Configuration management practices are established and applied", "C5",
       "A policy-as-code gate on Terraform and manifests is a configuration-management practice."),
    _c("NIST:ID.RA-07", "Changes and exceptions are managed, assessed for risk impact, recorded and tracked", "C5",
       "Waivers for a flagged resource are recorded exceptions with a reason and an expiry."),
    # ISO/IEC 27001:2022 Annex A
    _c("ISO27001:5.9", "Inventory of information and other associated assets", "C1",
       "Where each data store lives is asset-inventory data."),
    _c("ISO27001:5.12", "Classification of information", "C1",
       "Classification decides which data is residency-restricted."),
    _c("ISO27001:5.14", "Information transfer", "C2",
       "Cross-region or cross-border replication is a transfer of information."),
    _c("ISO27001:5.15", "Access control", "C6",
       "Rules for logical access to information decide which principals, from where, may reach a store."),
    _c("ISO27001:5.23", "Information security for use of cloud services", "C1 C2 C3 C4",
       "Region choice, replication and key settings are security settings of cloud services."),
    _c("ISO27001:5.31", "Legal, statutory, regulatory and contractual requirements", "C1 C2",
       "These requirements are the source of residency obligations."),
    _c("ISO27001:5.33", "Protection of records", "C2", "Records copied to other regions or backups leave control."),
    _c("ISO27001:5.34", "Privacy and protection of PII", "C1 C2 C3",
       "Where PII is stored, and how it is protected, is a privacy obligation."),
    _c("ISO27001:8.3", "Information access restriction", "C6",
       "Access to information is restricted according to the access-control rules (resource policies, IAM)."),
    _c("ISO27001:8.9", "Configuration management", "C5",
       "Secure configurations are defined in IaC and checked before deploy."),
    _c("ISO27001:8.13", "Information backup", "C2", "Backup copies and where they are kept."),
    _c("ISO27001:8.14", "Redundancy of information processing facilities", "C2",
       "Geo-redundancy choices (GRS, multi-region) decide where copies live."),
    _c("ISO27001:8.24", "Use of cryptography", "C3 C4",
       "Rules for encryption include cryptographic key management."),
    # SOC 2 Trust Services Criteria
    _c("SOC2:CC6.1", "Logical access security over protected information assets (points of focus: inventory of "
       "information assets, encryption to protect data, protection of encryption keys)", "C1 C3 C4",
       "Encryption at rest and key protection are points of focus of CC6.1."),
    _c("SOC2:CC6.3", "Access to data and other protected information assets is authorized, modified or removed "
       "based on roles and responsibilities, with least privilege and segregation of duties", "C6",
       "Granting a foreign account or domain access to a store is an access authorization."),
    _c("SOC2:CC6.6", "The entity implements logical access security measures to protect against threats from "
       "sources outside its system boundaries", "C6",
       "A principal in another jurisdiction, or the public, reaching a store is access from outside the boundary."),
    _c("SOC2:CC6.7", "Transmission, movement and removal of information is restricted to authorized users and "
       "processes and protected", "C2", "Replicating data to another region is movement of information."),
    _c("SOC2:CC8.1", "Changes to infrastructure, data, software and procedures are authorized, designed, "
       "configured, documented, tested, approved and implemented", "C5",
       "Reviewing IaC before deploy is part of change management."),
    _c("SOC2:CC9.2", "Risks associated with vendors and business partners are assessed and managed", "C1",
       "The cloud region is where a sub-processor holds the data."),
    _c("SOC2:A1.2", "Environmental protections, software, data back-up processes and recovery infrastructure are "
       "authorized, designed, implemented, operated and monitored", "C2",
       "Backup and DR copies (geo-redundancy) are recovery infrastructure."),
    _c("SOC2:C1.1", "Confidential information is identified and maintained to meet confidentiality objectives",
       "C1 C3", "Knowing where confidential data is stored, and that it is protected."),
    _c("SOC2:C1.2", "Confidential information is disposed of to meet confidentiality objectives", "C2",
       "Stray replicas and copies complicate disposal."),
)

CONTROLS: dict[str, Control] = {c.id: c for c in _ALL}


def is_known(control_id: str) -> bool:
    """Whether ``control_id`` is a listed id, spelled exactly (``NIST:PR.DS-01``)."""
    return control_id in CONTROLS


def unknown(control_ids: tuple[str, ...] | list[str]) -> list[str]:
    """The ids in ``control_ids`` that are not listed, in order, for a message naming each."""
    return [c for c in control_ids if c not in CONTROLS]


def sort_key(control_id: str) -> tuple[int, str]:
    """Frameworks in a fixed order (NIST, ISO, SOC 2), then the listing order inside each."""
    order = list(CONTROLS)
    return (order.index(control_id) if control_id in CONTROLS else len(order), control_id)
