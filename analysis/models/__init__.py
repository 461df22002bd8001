"""StarDist models: found, verified, loaded, exported to ONNX, and predicted at the nuclei's scale."""
