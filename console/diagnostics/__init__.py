"""Diagnostics: pure, vectorised checks that find silent ML failures, with their evidence.

Every check takes arrays or DataFrames and returns a frozen result whose ``to_dict()`` is the
JSON the CLI prints. Statistics that cannot be computed are ``None`` with a reason, never NaN;
unusable input raises a subclass of :class:`console.errors.InvalidInput`.

Importing this package imports numpy and pandas (scipy is imported inside the functions).
"""

from console.diagnostics.canary import (
    Arm,
    CanaryResult,
    SampleSize,
    sample_size,
    two_proportion_test,
)
from console.diagnostics.drift import DriftThresholds, FeatureDrift, compare_column
from console.diagnostics.errors import (
    ColumnNotFound,
    DiagnosticsInputError,
    DtypeMismatch,
    EmptyInput,
    UnreadableFile,
)
from console.diagnostics.io import load_frame
from console.diagnostics.lineage import LineageChange, LineageDiff, lineage_diff
from console.diagnostics.prediction import (
    MeanShift,
    OutputDiversity,
    RateShift,
    mean_shift,
    output_diversity,
    positive_rate_shift,
    window_mean_shift,
)
from console.diagnostics.profile import ReferenceProfile, fit_profile
from console.diagnostics.quality import ColumnQuality, QualityReport, quality_check
from console.diagnostics.report import DriftReport, drift_report, rank_features
from console.diagnostics.schema import RenameSuggestion, SchemaDiff, TypeChange, schema_diff
from console.diagnostics.segments import SegmentDrift, segment_drift
from console.diagnostics.shadow import ShadowReport, ShadowStats, shadow_compare, shadow_stats
from console.diagnostics.twosample import (
    KSTest,
    bin_counts,
    jensen_shannon,
    ks_pvalue_asymp,
    ks_statistic,
    ks_test,
    ks_wasserstein,
    psi,
    quantile_edges,
    quantile_sorted,
    wasserstein,
)

__all__ = [
    "Arm",
    "CanaryResult",
    "ColumnNotFound",
    "ColumnQuality",
    "DiagnosticsInputError",
    "DriftReport",
    "DriftThresholds",
    "DtypeMismatch",
    "EmptyInput",
    "FeatureDrift",
    "KSTest",
    "LineageChange",
    "LineageDiff",
    "MeanShift",
    "OutputDiversity",
    "QualityReport",
    "RateShift",
    "ReferenceProfile",
    "RenameSuggestion",
    "SampleSize",
    "SchemaDiff",
    "SegmentDrift",
    "ShadowReport",
    "ShadowStats",
    "TypeChange",
    "UnreadableFile",
    "bin_counts",
    "compare_column",
    "drift_report",
    "fit_profile",
    "jensen_shannon",
    "ks_pvalue_asymp",
    "ks_statistic",
    "ks_test",
    "ks_wasserstein",
    "lineage_diff",
    "load_frame",
    "mean_shift",
    "output_diversity",
    "positive_rate_shift",
    "psi",
    "quality_check",
    "quantile_edges",
    "quantile_sorted",
    "rank_features",
    "sample_size",
    "schema_diff",
    "segment_drift",
    "shadow_compare",
    "shadow_stats",
    "two_proportion_test",
    "wasserstein",
    "window_mean_shift",
]
