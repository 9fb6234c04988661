"""Reports built from the incident's own record: the blameless post-mortem, cost / ROI
reports and the drill report.

Everything here is headless. Arithmetic lives in pure functions with dataclass results
(``costs``, ``business``, ``metrics``); templates are rendered in one sandboxed Jinja
environment (``render``); charts are drawn with matplotlib only when asked (``charts``).
Submodules are imported on use so ``import console.reports`` stays cheap.
"""
