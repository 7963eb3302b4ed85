"""The embedded demo: a deterministic product-analytics data set and the example query gallery."""
