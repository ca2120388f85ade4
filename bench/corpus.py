"""A deterministic (seeded) corpus of Terraform roots, shared modules and Kubernetes manifests.

The shapes are the ones real repositories have and the scanner has to evaluate: providers with
aliases passed into modules, variables with tfvars, locals built with ``merge``/``for``, module
calls shared by several roots, data sources, ``for_each``/``count``, S3/DynamoDB/RDS replication,
KMS keys, GCS/Azure stores, and Kubernetes Deployments, StatefulSets, PVCs, StorageClasses and
Crossplane buckets. Some roots deploy outside the EU on purpose, so scans have findings to report.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

SCALES = {
    # roots x 8 files + modules x 4 files + apps x 5 manifests
    "small": (16, 4, 11),
    "large": (160, 40, 112),
    "monorepo": (1600, 400, 1120),  # 20,000 files: CI at monorepo scale (issue 20)
}

EU = ["eu-west-1", "eu-central-1", "eu-west-3", "eu-north-1", "eu-south-1"]
NON_EU = ["us-east-1", "us-west-2", "ap-southeast-1"]
GCP_EU = ["europe-west1", "europe-west4", "europe-north1", "EU"]
AZ_EU = ["westeurope", "northeurope", "francecentral", "germanywestcentral"]
TEAMS = ["payments", "identity", "search", "catalog", "billing", "growth", "ml", "platform", "data", "support"]
ENVS = ["dev", "staging", "prod", "sandbox"]

POLICY = """version: 1
allowed_regions:
  - in:eu-locations
encryption:
  minimum: provider-managed
unresolved: warn
exempt:
  tags:
    data-classification: [public]
"""


@dataclass
class Corpus:
    root: Path
    tf_files: list[Path]
    yaml_files: list[Path]
    precommit_file: Path  # a root module's main.tf, for the one-file pre-commit run

    @property
    def files(self) -> list[Path]:
        return self.tf_files + self.yaml_files

    def lines(self) -> int:
        return sum(p.read_bytes().count(b"\n") for p in self.files)


def generate(root: Path, scale: str, seed: int = 7) -> Corpus:
    """Write the corpus under ``root`` (which should be empty); same seed, same bytes."""
    n_roots, n_modules, n_apps = SCALES[scale]
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / ".git").mkdir(exist_ok=True)  # pins the scan root, as in a real repository
    (root / "residency.yaml").write_text(POLICY)
    tf: list[Path] = []
    yml: list[Path] = []
    kinds = ["storage", "database", "gcs", "azure"]
    modules = []
    for m in range(n_modules):
        kind = kinds[m % len(kinds)]
        d = root / "modules" / f"{kind}_{m:03d}"
        tf += _module(d, kind, rng)
        modules.append((kind, d))
    for r in range(n_roots):
        team = TEAMS[r % len(TEAMS)]
        env = ENVS[(r // len(TEAMS)) % len(ENVS)]
        d = root / "stacks" / team / f"{env}-{r:03d}"
        picks = [modules[(r * 3 + k) % len(modules)] for k in range(3)] if modules else []
        tf += _root(d, root, team, env, r, picks, rng)
    for a in range(n_apps):
        d = root / "k8s" / f"app-{a:03d}"
        yml += _app(d, a, rng)
    precommit = root / "stacks" / TEAMS[1 % len(TEAMS)] / f"{ENVS[0]}-001" / "main.tf"
    return Corpus(root, sorted(tf), sorted(yml), precommit)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ------------------------------------------------------------------------------------------------
# Terraform


def _tags(rng: random.Random, indent: str) -> str:
    keys = rng.sample(["owner", "cost-center", "service", "tier", "compliance", "backup", "rotation"], 4)
    return "\n".join(f'{indent}{k:<12} = "{k}-{rng.randint(1, 99)}"' for k in keys)


def _module(d: Path, kind: str, rng: random.Random) -> list[Path]:
    out = []
    if kind == "storage":
        versions = """terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source                = "hashicorp/aws"
      version               = ">= 5.0"
      configuration_aliases = [aws.replica]
    }
  }
}
"""
        variables = _variables([("name", "string", None), ("tags", "map(string)", "{}"),
                                ("versioning", "bool", "true"), ("kms_deletion_days", "number", "30"),
                                ("replicate", "bool", "true"), ("prefixes", "list(string)", '["logs", "data"]'),
                                ("lifecycle_days", "number", "90"), ("force_destroy", "bool", "false")], rng)
        main = """# Primary bucket, customer-managed key, cross-region replication to aws.replica.
data "aws_region" "current" {}

data "aws_region" "replica" {
  provider = aws.replica
}

locals {
  bucket_name  = "${var.name}-${data.aws_region.current.name}"
  replica_name = "${var.name}-${data.aws_region.replica.name}"
  tags         = merge(var.tags, { module = "storage" })
}

resource "aws_kms_key" "primary" {
  description             = "key for ${local.bucket_name}"
  deletion_window_in_days = var.kms_deletion_days
  enable_key_rotation     = true
  tags                    = local.tags
}

resource "aws_kms_key" "replica" {
  provider                = aws.replica
  description             = "replica key for ${local.replica_name}"
  deletion_window_in_days = var.kms_deletion_days
  enable_key_rotation     = true
}

resource "aws_s3_bucket" "this" {
  bucket        = local.bucket_name
  force_destroy = var.force_destroy
  tags          = local.tags
}

resource "aws_s3_bucket" "replica" {
  provider = aws.replica
  bucket   = local.replica_name
  tags     = local.tags
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = var.versioning ? "Enabled" : "Suspended"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.primary.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "replica" {
  provider = aws.replica
  bucket   = aws_s3_bucket.replica.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.replica.arn
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  dynamic "rule" {
    for_each = toset(var.prefixes)
    content {
      id     = "expire-${rule.value}"
      status = "Enabled"
      filter {
        prefix = "${rule.value}/"
      }
      expiration {
        days = var.lifecycle_days
      }
    }
  }
}

resource "aws_iam_role" "replication" {
  name = "${var.name}-replication"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "s3.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_s3_bucket_replication_configuration" "this" {
  count  = var.replicate ? 1 : 0
  role   = aws_iam_role.replication.arn
  bucket = aws_s3_bucket.this.id
  rule {
    id     = "all"
    status = "Enabled"
    destination {
      bucket        = aws_s3_bucket.replica.arn
      storage_class = "STANDARD_IA"
      encryption_configuration {
        replica_kms_key_id = aws_kms_key.replica.arn
      }
    }
    source_selection_criteria {
      sse_kms_encrypted_objects {
        status = "Enabled"
      }
    }
  }
}
"""
        outputs = _outputs(["aws_s3_bucket.this.arn", "aws_s3_bucket.replica.arn", "aws_kms_key.primary.arn"])
        out.append(_write(d / "versions.tf", versions))
    elif kind == "database":
        variables = _variables([("name", "string", None), ("tags", "map(string)", "{}"),
                                ("replica_regions", "list(string)", '["eu-central-1"]'),
                                ("instance_class", "string", '"db.t3.medium"'), ("storage_gb", "number", "50"),
                                ("multi_az", "bool", "true"), ("backup_days", "number", "7")], rng)
        main = f"""# DynamoDB global table with replicas and an encrypted RDS instance.
resource "aws_kms_key" "db" {{
  description         = "${{var.name}} database key"
  enable_key_rotation = true
  tags                = var.tags
}}

resource "aws_dynamodb_table" "this" {{
  name             = "${{var.name}}-items"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "pk"
  range_key        = "sk"
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  attribute {{
    name = "pk"
    type = "S"
  }}

  attribute {{
    name = "sk"
    type = "S"
  }}

  server_side_encryption {{
    enabled     = true
    kms_key_arn = aws_kms_key.db.arn
  }}

  point_in_time_recovery {{
    enabled = true
  }}

  dynamic "replica" {{
    for_each = toset(var.replica_regions)
    content {{
      region_name = replica.value
    }}
  }}

  tags = var.tags
}}

resource "aws_db_subnet_group" "this" {{
  name       = "${{var.name}}-db"
  subnet_ids = ["subnet-{rng.randint(10**7, 10**8)}", "subnet-{rng.randint(10**7, 10**8)}"]
}}

resource "aws_db_instance" "this" {{
  identifier              = "${{var.name}}-pg"
  engine                  = "postgres"
  engine_version          = "15.4"
  instance_class          = var.instance_class
  allocated_storage       = var.storage_gb
  storage_encrypted       = true
  kms_key_id              = aws_kms_key.db.arn
  multi_az                = var.multi_az
  backup_retention_period = var.backup_days
  db_subnet_group_name    = aws_db_subnet_group.this.name
  skip_final_snapshot     = false
  deletion_protection     = true
  tags                    = merge(var.tags, {{ engine = "postgres" }})
}}
"""
        outputs = _outputs(["aws_dynamodb_table.this.arn", "aws_db_instance.this.arn"])
    elif kind == "gcs":
        variables = _variables([("name", "string", None), ("location", "string", f'"{rng.choice(GCP_EU)}"'),
                                ("labels", "map(string)", "{}"), ("kms_key", "string", "null"),
                                ("retention_days", "number", "30")], rng)
        main = """# GCS buckets and a BigQuery dataset in the module's location.
resource "google_storage_bucket" "this" {
  name                        = "${var.name}-data"
  location                    = var.location
  uniform_bucket_level_access = true
  labels                      = var.labels

  versioning {
    enabled = true
  }

  dynamic "encryption" {
    for_each = var.kms_key == null ? [] : [var.kms_key]
    content {
      default_kms_key_name = encryption.value
    }
  }

  lifecycle_rule {
    condition {
      age = var.retention_days
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_bigquery_dataset" "this" {
  dataset_id                 = replace("${var.name}_analytics", "-", "_")
  location                   = var.location
  delete_contents_on_destroy = false
  labels                     = var.labels
}

resource "google_pubsub_topic" "events" {
  name = "${var.name}-events"
  message_storage_policy {
    allowed_persistence_regions = ["europe-west1", "europe-west4"]
  }
}
"""
        outputs = _outputs(["google_storage_bucket.this.url", "google_bigquery_dataset.this.id"])
    else:
        variables = _variables([("name", "string", None), ("location", "string", f'"{rng.choice(AZ_EU)}"'),
                                ("tags", "map(string)", "{}"), ("replication", "string", '"ZRS"')], rng)
        main = """# Resource group, storage account and a Key Vault in one Azure location.
resource "azurerm_resource_group" "this" {
  name     = "rg-${var.name}"
  location = var.location
  tags     = var.tags
}

resource "azurerm_storage_account" "this" {
  name                            = substr(replace("st${var.name}", "-", ""), 0, 24)
  resource_group_name             = azurerm_resource_group.this.name
  location                        = azurerm_resource_group.this.location
  account_tier                    = "Standard"
  account_replication_type        = var.replication
  min_tls_version                 = "TLS1_2"
  allow_nested_items_to_be_public = false
  tags                            = var.tags

  blob_properties {
    versioning_enabled = true
    delete_retention_policy {
      days = 14
    }
  }
}

resource "azurerm_key_vault" "this" {
  name                       = substr("kv-${var.name}", 0, 24)
  location                   = azurerm_resource_group.this.location
  resource_group_name        = azurerm_resource_group.this.name
  tenant_id                  = "00000000-0000-0000-0000-000000000000"
  sku_name                   = "standard"
  purge_protection_enabled   = true
  soft_delete_retention_days = 30
}
"""
        outputs = _outputs(["azurerm_storage_account.this.id", "azurerm_key_vault.this.id"])
    out.append(_write(d / "variables.tf", variables))
    out.append(_write(d / "main.tf", main))
    out.append(_write(d / "outputs.tf", outputs))
    if kind != "storage":
        out.append(_write(d / "versions.tf", 'terraform {\n  required_version = ">= 1.5"\n}\n'))
    return out


def _variables(specs: list[tuple[str, str, str | None]], rng: random.Random) -> str:
    parts = []
    for name, vtype, default in specs:
        body = [f'  description = "{name.replace("_", " ")} for this module ({rng.randint(1, 999)})"',
                f"  type        = {vtype}"]
        if default is not None:
            body.append(f"  default     = {default}")
        if vtype == "string" and default is None:
            body.append(f"\n  validation {{\n    condition     = length(var.{name}) > 2\n"
                        f'    error_message = "{name} must be longer than two characters."\n  }}')
        parts.append(f'variable "{name}" {{\n' + "\n".join(body) + "\n}\n")
    return "\n".join(parts)


def _outputs(refs: list[str]) -> str:
    return "\n".join(f'output "{r.split(".")[1]}_{r.split(".")[-1]}" {{\n  value = {r}\n}}\n' for r in refs)


def _extras(rng: random.Random, prefix: str, n: int) -> str:
    """``n`` ordinary resources (alarms, IAM, parameters, functions, topics): the bulk real stacks carry."""
    out = []
    for i in range(n):
        kind = rng.randrange(5)
        name = f"{prefix}_{i}"
        if kind == 0:
            dims = "\n".join(f'    {k} = "{k}-{rng.randint(1, 9999)}"' for k in rng.sample(["QueueName", "Service",
                                                                                             "Cluster", "Env"], 2))
            out.append(f"""resource "aws_cloudwatch_metric_alarm" "{name}" {{
  alarm_name          = "${{local.name_prefix}}-{name}"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = {rng.randint(1, 5)}
  metric_name         = "{rng.choice(["CPUUtilization", "Errors", "Throttles", "Latency"])}"
  namespace           = "AWS/{rng.choice(["EC2", "Lambda", "SQS", "ECS"])}"
  period              = {rng.choice([60, 300, 900])}
  statistic           = "Average"
  threshold           = {rng.randint(10, 95)}
  alarm_description   = "alarm {i} for ${{var.team}}"
  dimensions = {{
{dims}
  }}
}}
""")
        elif kind == 1:
            actions = ", ".join(f'"{a}"' for a in rng.sample(["s3:GetObject", "s3:PutObject", "sqs:SendMessage",
                                                              "kms:Decrypt", "logs:PutLogEvents",
                                                              "dynamodb:Query"], 3))
            out.append(f"""resource "aws_iam_policy" "{name}" {{
  name        = "${{local.name_prefix}}-{name}"
  description = "policy {i}"
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [
      {{
        Sid      = "S{i}"
        Effect   = "Allow"
        Action   = [{actions}]
        Resource = "*"
        Condition = {{
          StringEquals = {{ "aws:RequestedRegion" = var.region }}
        }}
      }},
    ]
  }})
}}
""")
        elif kind == 2:
            out.append(f"""resource "aws_ssm_parameter" "{name}" {{
  name        = "/${{var.team}}/${{var.env}}/{name}"
  type        = "{rng.choice(["String", "SecureString"])}"
  value       = "{rng.getrandbits(64):016x}"
  description = "parameter {i} (${{local.is_prod ? "prod" : "non-prod"}})"
  tier        = "Standard"
  tags        = local.common_tags
}}
""")
        elif kind == 3:
            env = "\n".join(f'      {k.upper()} = "{rng.randint(0, 10**6)}"' for k in rng.sample(
                ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta"], 4))
            out.append(f"""resource "aws_lambda_function" "{name}" {{
  function_name = "${{local.name_prefix}}-{name}"
  role          = aws_iam_role.app.arn
  handler       = "main.handler"
  runtime       = "python3.12"
  memory_size   = {rng.choice([128, 256, 512, 1024])}
  timeout       = {rng.randint(3, 300)}
  filename      = "build/{name}.zip"

  environment {{
    variables = {{
{env}
    }}
  }}

  tracing_config {{
    mode = "Active"
  }}
}}
""")
        else:
            out.append(f"""resource "aws_sns_topic" "{name}" {{
  name              = "${{local.name_prefix}}-{name}"
  kms_master_key_id = "alias/aws/sns"
  tags              = merge(local.common_tags, {{ topic = "{name}" }})
}}

resource "aws_sns_topic_subscription" "{name}" {{
  topic_arn = aws_sns_topic.{name}.arn
  protocol  = "sqs"
  endpoint  = "arn:aws:sqs:${{var.region}}:{rng.randint(10**11, 10**12 - 1)}:{name}"
}}
""")
    return "\n".join(out)


def _root(d: Path, corpus: Path, team: str, env: str, r: int, picks: list, rng: random.Random) -> list[Path]:
    outside = r % 9 == 4  # some roots deploy outside the EU: findings to report
    region = rng.choice(NON_EU) if outside else rng.choice(EU)
    replica = rng.choice([x for x in EU if x != region])
    out = []
    providers = f"""terraform {{
  required_version = ">= 1.5"
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = "~> 5.40"
    }}
    google = {{
      source  = "hashicorp/google"
      version = "~> 5.20"
    }}
    azurerm = {{
      source  = "hashicorp/azurerm"
      version = "~> 3.100"
    }}
  }}
  backend "s3" {{
    bucket = "tfstate-{team}"
    key    = "{env}/{r:03d}/terraform.tfstate"
    region = "eu-west-1"
  }}
}}

provider "aws" {{
  region = var.region
  default_tags {{
    tags = local.common_tags
  }}
}}

provider "aws" {{
  alias  = "replica"
  region = var.replica_region
  default_tags {{
    tags = local.common_tags
  }}
}}

provider "aws" {{
  alias  = "audit"
  region = "eu-central-1"
}}

provider "google" {{
  project = "{team}-{env}"
  region  = var.gcp_region
}}

provider "azurerm" {{
  features {{}}
}}
"""
    variables = _variables([("region", "string", None), ("replica_region", "string", None),
                            ("gcp_region", "string", '"europe-west1"'), ("team", "string", f'"{team}"'),
                            ("env", "string", f'"{env}"'), ("tags", "map(string)", "{}"),
                            ("bucket_names", "set(string)", '["raw", "curated"]'),
                            ("queue_count", "number", "2"), ("enable_audit", "bool", "true")], rng)
    tfvars = f"""region         = "{region}"
replica_region = "{replica}"
tags = {{
{_tags(rng, "  ")}
}}
bucket_names = [{", ".join(f'"{n}"' for n in rng.sample(["raw", "curated", "exports", "ml", "archive"], 3))}]
queue_count  = {rng.randint(1, 4)}
"""
    locals_tf = """locals {
  name_prefix = "${var.team}-${var.env}"
  common_tags = merge(var.tags, {
    team        = var.team
    environment = var.env
    managed-by  = "terraform"
  })
  buckets = { for n in var.bucket_names : n => "${local.name_prefix}-${n}" }
  queues  = [for i in range(var.queue_count) : "${local.name_prefix}-q${i}"]
  is_prod = var.env == "prod"
}
"""
    calls = []
    for i, (kind, md) in enumerate(picks):
        src = "../../../" + md.relative_to(corpus).as_posix()
        if kind == "storage":
            calls.append(f"""module "store_{i}" {{
  source = "{src}"
  providers = {{
    aws         = aws
    aws.replica = aws.replica
  }}
  name           = "${{local.name_prefix}}-store{i}"
  tags           = local.common_tags
  lifecycle_days = local.is_prod ? 365 : 30
}}
""")
        elif kind == "database":
            calls.append(f"""module "db_{i}" {{
  source          = "{src}"
  name            = "${{local.name_prefix}}-db{i}"
  tags            = local.common_tags
  replica_regions = [var.replica_region]
  multi_az        = local.is_prod
}}
""")
        elif kind == "gcs":
            calls.append(f"""module "gcs_{i}" {{
  source   = "{src}"
  name     = "${{local.name_prefix}}-gcs{i}"
  location = var.gcp_region
  labels   = {{ team = var.team }}
}}
""")
        else:
            calls.append(f"""module "az_{i}" {{
  source = "{src}"
  name   = "${{local.name_prefix}}az{i}"
  tags   = local.common_tags
}}
""")
    main = f"# Stack {team}/{env}: module calls and the stack's own data stores.\n\n" + "\n".join(calls) + """
resource "aws_s3_bucket" "data" {
  for_each = local.buckets
  bucket   = each.value
  tags     = { dataset = each.key }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.data[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_sqs_queue" "work" {
  count                     = length(local.queues)
  name                      = local.queues[count.index]
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_s3_bucket" "audit" {
  count    = var.enable_audit ? 1 : 0
  provider = aws.audit
  bucket   = "${local.name_prefix}-audit"
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/app/${local.name_prefix}"
  retention_in_days = local.is_prod ? 365 : 14
}

""" + _extras(rng, "app", rng.randint(0, 2))
    data_tf = """data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_iam_policy_document" "bucket_read" {
  statement {
    sid       = "ReadData"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = [for b in aws_s3_bucket.data : b.arn]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}
"""
    sg_rules = "\n".join(f"""  ingress {{
    description = "rule {k}"
    from_port   = {port}
    to_port     = {port}
    protocol    = "tcp"
    cidr_blocks = ["10.{rng.randint(0, 255)}.0.0/16"]
  }}
""" for k, port in enumerate(rng.sample([22, 80, 443, 5432, 6379, 8080, 9090, 3306], 5)))
    network = f"""resource "aws_security_group" "app" {{
  name        = "${{local.name_prefix}}-app"
  description = "application traffic"
  vpc_id      = "vpc-{rng.randint(10**7, 10**8)}"

{sg_rules}
  egress {{
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}

resource "aws_iam_role" "app" {{
  name = "${{local.name_prefix}}-app"
  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = {{ Service = "ecs-tasks.amazonaws.com" }}
      Action    = "sts:AssumeRole"
    }}]
  }})
}}

resource "aws_iam_role_policy" "app" {{
  name   = "read"
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.bucket_read.json
}}

{_extras(rng, "ops", rng.randint(1, 3))}"""
    outputs = "\n".join(f'output "bucket_{k}" {{\n  value = aws_s3_bucket.data["{k}"].arn\n}}\n'
                        for k in ["raw"]) + 'output "prefix" {\n  value = local.name_prefix\n}\n'
    out.append(_write(d / "providers.tf", providers))
    out.append(_write(d / "variables.tf", variables))
    out.append(_write(d / "terraform.tfvars", tfvars))
    out.append(_write(d / "locals.tf", locals_tf))
    out.append(_write(d / "main.tf", main))
    out.append(_write(d / "data.tf", data_tf))
    out.append(_write(d / "network.tf", network))
    out.append(_write(d / "outputs.tf", outputs))
    return out


# ------------------------------------------------------------------------------------------------
# Kubernetes


def _app(d: Path, a: int, rng: random.Random) -> list[Path]:
    ns = f"{TEAMS[a % len(TEAMS)]}-{a:03d}"
    region = rng.choice(NON_EU) if a % 11 == 3 else rng.choice(EU)
    env_vars = "\n".join(f"            - name: VAR_{k}\n              value: \"{rng.randint(0, 10**6)}\""
                         for k in range(rng.randint(80, 160)))
    deployment = f"""apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
  labels:
    team: {TEAMS[a % len(TEAMS)]}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: {ns}
  labels:
    app: api
spec:
  replicas: {rng.randint(2, 6)}
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      nodeSelector:
        topology.kubernetes.io/region: {region}
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
              - matchExpressions:
                  - key: topology.kubernetes.io/zone
                    operator: In
                    values: [{region}a, {region}b]
      containers:
        - name: api
          image: registry.example.com/{ns}/api:{rng.randint(1, 400)}
          ports:
            - containerPort: 8080
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              cpu: "1"
              memory: 512Mi
          env:
{env_vars}
          volumeMounts:
            - name: data
              mountPath: /data
      volumes:
        - name: data
          persistentVolumeClaim:
            claimName: data
"""
    service = f"""apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: {ns}
spec:
  selector:
    app: api
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: api-config
  namespace: {ns}
data:
""" + "".join(f"  key_{k}: \"value {rng.randint(0, 10**9)}\"\n" for k in range(rng.randint(600, 1000)))
    storage = f"""apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: encrypted-{a:03d}
provisioner: ebs.csi.aws.com
parameters:
  type: gp3
  encrypted: "{"true" if a % 7 else "false"}"
allowedTopologies:
  - matchLabelExpressions:
      - key: topology.kubernetes.io/region
        values: [{region}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
  namespace: {ns}
spec:
  storageClassName: encrypted-{a:03d}
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: {rng.randint(1, 100)}Gi
"""
    statefulset = f"""apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: {ns}
spec:
  serviceName: db
  replicas: 3
  selector:
    matchLabels:
      app: db
  template:
    metadata:
      labels:
        app: db
    spec:
      nodeSelector:
        topology.kubernetes.io/region: {region}
      containers:
        - name: postgres
          image: postgres:15
          env:
{env_vars}
          ports:
            - containerPort: 5432
          volumeMounts:
            - name: pgdata
              mountPath: /var/lib/postgresql/data
  volumeClaimTemplates:
    - metadata:
        name: pgdata
      spec:
        storageClassName: encrypted-{a:03d}
        accessModes: [ReadWriteOnce]
        resources:
          requests:
            storage: 20Gi
"""
    bucket_region = rng.choice(NON_EU) if a % 13 == 5 else rng.choice(EU)
    crossplane = f"""apiVersion: s3.aws.upbound.io/v1beta1
kind: Bucket
metadata:
  name: {ns}-assets
  labels:
    team: {TEAMS[a % len(TEAMS)]}
spec:
  forProvider:
    region: {bucket_region}
    tags:
      owner: {ns}
  providerConfigRef:
    name: default
---
apiVersion: s3.aws.upbound.io/v1beta1
kind: BucketServerSideEncryptionConfiguration
metadata:
  name: {ns}-assets-sse
spec:
  forProvider:
    region: {bucket_region}
    bucketRef:
      name: {ns}-assets
    rule:
      - applyServerSideEncryptionByDefault:
          - sseAlgorithm: aws:kms
"""
    return [
        _write(d / "deployment.yaml", deployment),
        _write(d / "service.yaml", service),
        _write(d / "storage.yaml", storage),
        _write(d / "statefulset.yaml", statefulset),
        _write(d / "bucket.yaml", crossplane),
    ]
