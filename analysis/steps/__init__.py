"""The lesson's science steps: plain functions on arrays, from exploration to validation."""
