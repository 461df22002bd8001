"""Training the project's StarDist model and writing its model card."""
