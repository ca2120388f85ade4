"""The residency rules inside a team's existing checkov run (``checkov --external-checks-dir``).

A thin adapter: checkov's ``conf`` becomes our :class:`~scanner.model.Resource`, and the same
``checks.catalog.classify`` and rule ``check`` functions judge it. ``adapter`` and
``policy_bundle`` are pure (tested without checkov); ``terraform``/``kubernetes`` subclass checkov's
check classes and are imported only inside checkov's process by ``runtime``. Nothing here imports
a loader, python-hcl2 or click: checkov's environment has bc-python-hcl2 under the same module name.
See docs/checkov.md.
"""
