"""The residency rules inside a team's existing checkov run (``checkov --external-checks-dir``).

A thin adapter above the engine and the rules: checkov's ``conf`` becomes our
:class:`~scanner.model.Resource`, classified by ``scanner.engine.classify`` and judged by the one judging
path, ``scanner.engine.judge``. ``adapter`` and
``policy_bundle`` are pure (tested without checkov); ``terraform``/``kubernetes`` subclass checkov's
check classes and are imported only inside checkov's process by ``runtime``. Nothing here imports
a loader, python-hcl2 or click: checkov's environment has bc-python-hcl2 under the same module name.
See docs/checkov.md.
"""
