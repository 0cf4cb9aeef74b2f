"""Training: the SageMaker training contract (`entrypoint.py train`) and the demo model built from real data."""
