"""Running the pipeline: failure notifications."""
