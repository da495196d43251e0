"""Datasets, real and synthetic, and the samplers that turn them into training samples."""
