import numpy as np
import pytest

from analysis.steps import cluster, explore

# Proportions are pinned to 1e-4 (26 of 262,144 pixels): EM and Lloyd
# iterations sum in floating point, so another BLAS or thread count can move
# a handful of pixels that sit on a cluster boundary, never more. Models are
# fitted on a fixed-seed sample of cluster.FIT_SAMPLE pixels.
PROPORTION_ATOL = 1e-4


@pytest.fixture(scope="module")
def features(first_pair):
    nuclei, actin = first_pair
    normalised = explore.normalise_to_reference(np.stack(first_pair, axis=-1), nuclei)
    return explore.pixel_pairs(normalised[..., 0], normalised[..., 1])


@pytest.fixture(scope="module")
def sweep(features):
    return {
        (method, k): cluster.fit_labels(features, k, method)
        for method in cluster.METHODS
        for k in range(2, 7)
    }


def test_labels_are_ordered_by_brightness():
    rng = np.random.default_rng(0)
    blobs = np.concatenate([rng.normal(m, 1.0, size=(200, 2)) for m in (50, 0, 100)])
    for method in cluster.METHODS:
        labels = cluster.fit_labels(blobs, 3, method)
        np.testing.assert_array_equal(labels, np.repeat([1, 0, 2], 200))


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown clustering method"):
        cluster.fit_labels(np.zeros((4, 2)), 2, "dbscan")


def test_models_are_fitted_on_a_fixed_sample():
    first = cluster.fit_sample(1000, size=10)
    assert len(set(first)) == 10
    assert np.array_equal(first, cluster.fit_sample(1000, size=10))
    assert len(cluster.fit_sample(5)) == 5  # fewer rows than the sample: all of them


def test_same_call_twice_gives_same_labels(features, sweep):
    np.testing.assert_array_equal(cluster.fit_labels(features, 4, "kmeans"), sweep["kmeans", 4])


def test_cluster_proportions(features, sweep, dataframe_regression):
    table = cluster.cluster_table(features, sweep)
    # Labels follow brightness: every cluster is brighter than the one before.
    brightness = table.assign(total=table.nuclei + table.actin).groupby(["method", "k"]).total
    assert brightness.apply(lambda t: t.is_monotonic_increasing and t.is_unique).all()
    assert (table[table.cluster == 0].proportion > 0.5).all()  # background is the largest
    dataframe_regression.check(
        table,
        default_tolerance={"atol": 1e-6, "rtol": 1e-6},
        tolerances={
            "proportion": {"atol": PROPORTION_ATOL},
            "nuclei": {"atol": 0.05},
            "actin": {"atol": 0.05},
        },
    )
