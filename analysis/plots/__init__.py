"""Figures of images, labels, counts and scores."""
