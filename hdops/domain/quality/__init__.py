"""The mathematics of quality (SPEC §6b, issue 14): pure functions, numpy only.

* `intervals` — the Wilson score interval for a proportion (gold accuracy);
* `agreement` — Krippendorff's alpha (through the `krippendorff` package), per-item
  agreement and each rater's agreement with the leave-one-out consensus;
* `dawid_skene` — Dawid–Skene EM for categorical labels, majority vote as fallback;
* `calibration` — the additive rater-offset model that calibrates ratings;
* `analysis` — one pass over a project's accepted answers combining the above into
  per-item aggregates and per-rater estimates;
* `report` — the typed figures a quality report is made of.

Nothing here reads the store: `hdops.services.quality` loads answers and calls in.
"""
